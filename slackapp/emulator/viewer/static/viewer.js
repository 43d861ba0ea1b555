// The workspace viewer's script: keep the page current, and act as the chosen person.
// Every action goes through the emulator's control API (/_emulator/...), so the app
// receives the same signed requests that Slack would send it. No build step, no library.
"use strict";

(() => {
  const body = document.body;
  const me = () => body.dataset.user;
  const digests = {};
  const errorsByView = {};
  let chain = Promise.resolve();
  let queued = null;

  document.querySelectorAll("[data-digest]").forEach((el) => {
    digests[el.id] = el.dataset.digest;
  });

  function toast(message) {
    const box = document.getElementById("toast");
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  // Calls the control API, then waits for the page to show what it changed.
  async function api(path, payload) {
    body.classList.add("busy");
    let data = {};
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      try { data = await response.json(); } catch (err) { data = {}; }
      if (!response.ok || data.ok === false) {
        toast(`Slack refused: ${data.error || response.status}${data.detail ? ` (${data.detail})` : ""}`);
      } else if (data.status === null && data.error) {
        toast(`The app did not answer: ${data.error}`);
      } else if (data.status >= 400) {
        toast(`The app answered HTTP ${data.status}`);
      }
    } catch (err) {
      toast("The emulator is not reachable.");
    } finally {
      body.classList.remove("busy");
    }
    await refresh();
    return data;
  }

  // -- staying current ------------------------------------------------------------------

  function nearBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  }

  function toBottom() {
    ["pane-body", "thread-body"].forEach((id) => {
      const el = document.getElementById(id);
      if (el) el.scrollTop = el.scrollHeight;
    });
  }

  // One poll at a time; a caller gets a poll that starts after its call, so it sees
  // everything that happened before it asked.
  function refresh() {
    if (!queued) {
      queued = chain.then(() => { queued = null; return poll(); });
      chain = queued;
    }
    return queued;
  }

  async function poll() {
    try {
      const response = await fetch(`/_viewer/parts${location.search}`, { cache: "no-store" });
      const data = await response.json();
      body.classList.remove("offline");
      for (const [id, part] of Object.entries(data.parts || {})) {
        const el = document.getElementById(id);
        if (!el || digests[id] === part.digest) continue;
        const stick = nearBottom(el);
        el.innerHTML = part.html;
        el.dataset.digest = part.digest;
        digests[id] = part.digest;
        if (id === "modal") showErrors();
        if (stick) el.scrollTop = el.scrollHeight;
      }
    } catch (err) {
      body.classList.add("offline");
    }
  }

  // -- where an element lives -------------------------------------------------------------

  function container(el) {
    const box = el.closest("[data-container]");
    if (!box) return {};
    if (box.dataset.container === "message") {
      return { channel: box.dataset.channel, message_ts: box.dataset.ts };
    }
    return { view_id: box.dataset.view };
  }

  function closeMenus(el) {
    const menu = el.closest("details");
    if (menu) menu.removeAttribute("open");
  }

  // -- modals ---------------------------------------------------------------------------

  function option(el) {
    return el && el.dataset.option ? JSON.parse(el.dataset.option) : null;
  }

  function readElement(el) {
    const type = el.dataset.type;
    const state = { type };
    const checked = () => Array.from(el.querySelectorAll("input:checked"));
    const chosen = () => Array.from(el.selectedOptions || []).filter((o) => o.value !== "");
    switch (type) {
      case "plain_text_input":
      case "email_text_input":
      case "url_text_input":
      case "number_input":
        state.value = el.value === "" ? null : el.value;
        break;
      case "rich_text_input":
        state.rich_text_value = {
          type: "rich_text",
          elements: [{ type: "rich_text_section", elements: [{ type: "text", text: el.value }] }],
        };
        break;
      case "datepicker": state.selected_date = el.value || null; break;
      case "timepicker": state.selected_time = el.value || null; break;
      case "radio_buttons": state.selected_option = option(checked()[0]); break;
      case "checkboxes": state.selected_options = checked().map(option); break;
      case "static_select":
      case "external_select":
        state.selected_option = option(chosen()[0]);
        break;
      case "multi_static_select":
      case "multi_external_select":
        state.selected_options = chosen().map(option);
        break;
      case "users_select": state.selected_user = el.value || null; break;
      case "multi_users_select": state.selected_users = chosen().map((o) => o.value); break;
      case "conversations_select": state.selected_conversation = el.value || null; break;
      case "multi_conversations_select":
        state.selected_conversations = chosen().map((o) => o.value);
        break;
      case "channels_select": state.selected_channel = el.value || null; break;
      case "multi_channels_select": state.selected_channels = chosen().map((o) => o.value); break;
      case "file_input": state.files = []; break;
      default: break;
    }
    return state;
  }

  function readModal(form) {
    const values = {};
    form.querySelectorAll("[data-input]").forEach((el) => {
      const block = el.dataset.blockId;
      const action = el.dataset.actionId;
      if (!block || !action) return;
      values[block] = values[block] || {};
      values[block][action] = readElement(el);
    });
    return values;
  }

  function showErrors() {
    const form = document.querySelector("#modal form.modal");
    if (!form) return;
    const saved = errorsByView[form.dataset.view];
    const errors = saved && saved.hash === form.dataset.hash ? saved.errors : {};
    form.querySelectorAll(".bk-input").forEach((block) => {
      const message = errors[block.dataset.blockId] || "";
      block.querySelector(".bk-error").textContent = message;
      block.classList.toggle("has-error", Boolean(message));
    });
    form.querySelector(".modal-error").textContent = (saved && saved.slackError) || "";
  }

  async function submitModal(form) {
    const viewId = form.dataset.view;
    const data = await api("/_emulator/submit", {
      user: me(), view_id: viewId, values: readModal(form),
    });
    errorsByView[viewId] = {
      hash: form.dataset.hash, errors: data.errors || {}, slackError: data.slack_error || "",
    };
    showErrors();
  }

  // -- acting ---------------------------------------------------------------------------

  async function press(el) {
    if (el.dataset.confirm && !window.confirm(el.dataset.confirm)) return;
    if (el.dataset.url) window.open(el.dataset.url, "_blank", "noopener");
    const payload = {
      user: me(),
      action_id: el.dataset.actionId,
      block_id: el.dataset.blockId || undefined,
      ...container(el),
    };
    if (el.dataset.hasValue) payload.value = el.dataset.value;
    el.disabled = true;
    try {
      await api("/_emulator/click", payload);
    } finally {
      el.disabled = false;
    }
  }

  function chosenValue(el) {
    if (el.tagName === "SELECT") return el.value;
    if (el.tagName === "INPUT") return el.value;
    const boxes = Array.from(el.querySelectorAll("input:checked")).map((b) => b.value);
    return el.dataset.type === "checkboxes" ? boxes : boxes[0];
  }

  document.addEventListener("click", (event) => {
    const el = event.target.closest("[data-act]");
    if (!el) return;
    const act = el.dataset.act;
    if (act === "click") {
      event.preventDefault();
      press(el);
    } else if (act === "shortcut") {
      closeMenus(el);
      api("/_emulator/global_shortcut", { user: me(), callback_id: el.dataset.callbackId });
    } else if (act === "message-shortcut") {
      closeMenus(el);
      api("/_emulator/message_shortcut", {
        user: me(), callback_id: el.dataset.callbackId, ...container(el),
      });
    } else if (act === "close-view") {
      const form = el.closest("form.modal");
      api("/_viewer/close", { user: me(), view_id: form.dataset.view });
    }
  });

  document.addEventListener("change", (event) => {
    if (event.target.id === "as-user") {
      const query = new URLSearchParams(location.search);
      query.set("as", event.target.value);
      query.delete("thread");
      location.search = query.toString();
      return;
    }
    const el = event.target.closest("[data-act='choose']");
    if (!el) return;
    const value = chosenValue(el);
    if (value === "" || value === undefined) return;
    api("/_emulator/click", {
      user: me(),
      action_id: el.dataset.actionId,
      block_id: el.dataset.blockId || undefined,
      value,
      ...container(el),
    });
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    event.preventDefault();
    if (form.matches("form.modal")) {
      submitModal(form);
    } else if (form.matches("form.composer")) {
      const box = form.querySelector("textarea");
      const text = box.value.trim();
      if (!text) return;
      box.value = "";
      api("/_emulator/post", {
        user: me(), channel: form.dataset.channel, text, thread_ts: form.dataset.thread || undefined,
      });
    }
  });

  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (event.key === "Enter" && !event.shiftKey && box.matches("form.composer textarea")) {
      event.preventDefault();
      box.form.requestSubmit();
    }
  });

  if (body.dataset.pane === "home") {
    api("/_emulator/open_home", { user: me(), wait: 0 });
  }
  toBottom();
  setInterval(refresh, 1000);
})();
