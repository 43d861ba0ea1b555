"""Block Kit as HTML, close enough to Slack's own rendering to judge a layout by.

Interactive elements carry ``data-*`` attributes that the page script reads to
call the control API: ``data-act="click"`` for buttons, ``data-act="choose"``
for a select or picker in a message, and ``data-input`` for the elements of an
``input`` block, which are only sent when the modal is submitted. Which
message or view an element belongs to is written once, on the wrapper that
the caller puts around the blocks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .mrkdwn import Names, esc, plain_text, text_object

SELECTS = (
    "static_select",
    "external_select",
    "multi_static_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
    "overflow",
)
TEXT_INPUTS = {
    "plain_text_input": "text",
    "email_text_input": "email",
    "url_text_input": "url",
    "number_input": "number",
}


@dataclass
class Surface:
    """Where blocks are shown: names for mentions, and the state a view holds."""

    names: Names
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def state(self, block_id: str | None, action_id: str | None) -> dict[str, Any] | None:
        if not block_id or not action_id:
            return None
        return (self.values.get(block_id) or {}).get(action_id)


def objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects in a list that an app wrote; anything else in it is skipped."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def render_blocks(blocks: Any, surface: Surface) -> str:
    """Every block in order; an unknown type says so instead of vanishing."""
    return "".join(render_block(b, surface) for b in objects(blocks))


def render_block(block: dict[str, Any], surface: Surface) -> str:
    kind = block.get("type")
    render = _BLOCKS.get(str(kind))
    if render is None:
        return f'<div class="bk-unknown">[{esc(kind)} block]</div>'
    return render(block, surface)


# -- blocks ------------------------------------------------------------------------------


def _header(block: dict[str, Any], surface: Surface) -> str:
    return f'<h3 class="bk-header">{plain_text(block.get("text"))}</h3>'


def _section(block: dict[str, Any], surface: Surface) -> str:
    parts = []
    if block.get("text"):
        parts.append(f'<div class="bk-text">{text_object(block["text"], surface.names)}</div>')
    fields = block.get("fields") or []
    if fields:
        cells = "".join(
            f'<div class="bk-field">{text_object(f, surface.names)}</div>' for f in fields
        )
        parts.append(f'<div class="bk-fields">{cells}</div>')
    body = f'<div class="bk-section-body">{"".join(parts)}</div>'
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        body += f'<div class="bk-accessory">{action_element(accessory, block, surface)}</div>'
    return f'<div class="bk-section">{body}</div>'


def _context(block: dict[str, Any], surface: Surface) -> str:
    items = []
    for element in block.get("elements") or []:
        if isinstance(element, dict) and element.get("type") == "image":
            items.append(_image_placeholder(element.get("alt_text"), small=True))
        else:
            items.append(f"<span>{text_object(element, surface.names)}</span>")
    return f'<div class="bk-context">{"".join(items)}</div>'


def _divider(block: dict[str, Any], surface: Surface) -> str:
    return '<hr class="bk-divider">'


def _actions(block: dict[str, Any], surface: Surface) -> str:
    elements = "".join(action_element(e, block, surface) for e in objects(block.get("elements")))
    return f'<div class="bk-actions">{elements}</div>'


def _image(block: dict[str, Any], surface: Surface) -> str:
    title = plain_text(block.get("title")) if block.get("title") else ""
    caption = f'<div class="bk-image-title">{title}</div>' if title else ""
    return f'<div class="bk-image">{caption}{_image_placeholder(block.get("alt_text"))}</div>'


def _image_placeholder(alt: Any, small: bool = False) -> str:
    """Images are not fetched: the viewer works offline and loads nothing from outside."""
    size = " small" if small else ""
    return f'<span class="bk-img{size}" title="{esc(alt)}">🖼 {esc(alt or "image")}</span>'


def _input(block: dict[str, Any], surface: Surface) -> str:
    block_id = block.get("block_id") or ""
    element = block.get("element") if isinstance(block.get("element"), dict) else {}
    optional = ' <span class="bk-optional">(optional)</span>' if block.get("optional") else ""
    hint = block.get("hint")
    hint_html = f'<div class="bk-hint">{plain_text(hint)}</div>' if hint else ""
    return (
        f'<div class="bk-input" data-block-id="{esc(block_id)}">'
        f'<label class="bk-label">{plain_text(block.get("label"))}{optional}</label>'
        f"{input_element(element, block_id, surface)}{hint_html}"
        '<div class="bk-error" role="alert"></div></div>'
    )


def _rich_text(block: dict[str, Any], surface: Surface) -> str:
    return f'<div class="bk-rich">{_rich_elements(block.get("elements"), surface)}</div>'


def _rich_elements(elements: Any, surface: Surface) -> str:
    out = []
    for element in objects(elements):
        kind = element.get("type")
        inner = _rich_inline(element.get("elements"), surface)
        if kind == "rich_text_section":
            out.append(f"<div>{inner}</div>")
        elif kind == "rich_text_quote":
            out.append(f"<blockquote>{inner}</blockquote>")
        elif kind == "rich_text_preformatted":
            out.append(f"<pre>{inner}</pre>")
        elif kind == "rich_text_list":
            tag = "ol" if element.get("style") == "ordered" else "ul"
            items = "".join(
                f"<li>{_rich_inline(i.get('elements'), surface)}</li>"
                for i in objects(element.get("elements"))
            )
            out.append(f"<{tag}>{items}</{tag}>")
    return "".join(out)


def _rich_inline(elements: Any, surface: Surface) -> str:
    out = []
    for element in objects(elements):
        kind = element.get("type")
        if kind == "text":
            piece = esc(element.get("text")).replace("\n", "<br>")
        elif kind == "link":
            piece = text_object(
                {"type": "mrkdwn", "text": f"<{element.get('url', '')}|{element.get('text', '')}>"},
                surface.names,
            )
        elif kind == "user":
            name = surface.names.user(element.get("user_id", ""))
            piece = f'<span class="mention">@{esc(name)}</span>'
        elif kind == "channel":
            name = surface.names.channel(element.get("channel_id", ""))
            piece = f'<span class="mention">#{esc(name)}</span>'
        elif kind == "emoji":
            piece = plain_text(f":{element.get('name', '')}:")
        else:
            piece = esc(element.get("text", ""))
        style = element.get("style") or {}
        for key, tag in (("bold", "b"), ("italic", "i"), ("strike", "s"), ("code", "code")):
            if style.get(key):
                piece = f"<{tag}>{piece}</{tag}>"
        out.append(piece)
    return "".join(out)


_BLOCKS = {
    "header": _header,
    "section": _section,
    "context": _context,
    "divider": _divider,
    "actions": _actions,
    "image": _image,
    "input": _input,
    "rich_text": _rich_text,
}


# -- elements ------------------------------------------------------------------------------


def _ids(element: dict[str, Any], block: dict[str, Any]) -> str:
    return (
        f'data-action-id="{esc(element.get("action_id"))}" '
        f'data-block-id="{esc(block.get("block_id"))}" data-type="{esc(element.get("type"))}"'
    )


def _option_json(option: dict[str, Any]) -> str:
    return esc(json.dumps(option, separators=(",", ":")))


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = objects(element.get("options"))
    for group in objects(element.get("option_groups")):
        options += objects(group.get("options"))
    return options


def action_element(element: dict[str, Any], block: dict[str, Any], surface: Surface) -> str:
    """An element in a message, a Home tab or an actions block: using it acts at once."""
    kind = element.get("type")
    ids = _ids(element, block)
    if kind == "button":
        style = element.get("style")
        css = f"btn btn-{style}" if style in ("primary", "danger") else "btn"
        confirm = ""
        if isinstance(element.get("confirm"), dict):
            question = element["confirm"].get("text")
            confirm = f' data-confirm="{esc(plain_text(question))}"'
        value = esc(element.get("value")) if "value" in element else ""
        has_value = ' data-has-value="1"' if "value" in element else ""
        url = element.get("url")
        link = f' data-url="{esc(url)}"' if isinstance(url, str) and url.startswith("http") else ""
        return (
            f'<button type="button" class="{css}" data-act="click" {ids} '
            f'data-value="{value}"{has_value}{confirm}{link}>{plain_text(element.get("text"))}</button>'
        )
    if kind in ("image",):
        return _image_placeholder(element.get("alt_text"), small=True)
    if kind in TEXT_INPUTS or kind == "file_input":
        return input_element(element, block.get("block_id") or "", surface)
    return _choice(element, ids, surface, act=True)


def input_element(element: dict[str, Any], block_id: str, surface: Surface) -> str:
    """An element of an input block; its value is read when the modal is submitted."""
    kind = element.get("type")
    ids = _ids(element, {"block_id": block_id}) + " data-input"
    state = surface.state(block_id, element.get("action_id")) or {}
    placeholder = esc(plain_text(element.get("placeholder"))) if element.get("placeholder") else ""
    if kind in TEXT_INPUTS or kind == "rich_text_input":
        value = state.get("value", element.get("initial_value"))
        if element.get("multiline") or kind == "rich_text_input":
            return (
                f'<textarea class="bk-textarea" rows="4" {ids} placeholder="{placeholder}">'
                f"{esc(value)}</textarea>"
            )
        html_type = TEXT_INPUTS.get(str(kind), "text")
        return (
            f'<input class="bk-text-input" type="{html_type}" {ids} '
            f'placeholder="{placeholder}" value="{esc(value)}">'
        )
    if kind == "file_input":
        return (
            f'<div class="bk-file" {ids}>📎 Files can be attached in Slack; '
            "the viewer sends none.</div>"
        )
    return _choice(element, ids, surface, act=False, state=state)


def _choice(
    element: dict[str, Any],
    ids: str,
    surface: Surface,
    act: bool,
    state: dict[str, Any] | None = None,
) -> str:
    """Selects, pickers, radio buttons and checkboxes, in messages and in modals."""
    kind = str(element.get("type"))
    state = state or {}
    acting = ' data-act="choose"' if act else ""
    if kind == "datepicker":
        value = state.get("selected_date", element.get("initial_date"))
        return f'<input class="bk-date" type="date" {ids}{acting} value="{esc(value)}">'
    if kind == "timepicker":
        value = state.get("selected_time", element.get("initial_time"))
        return f'<input class="bk-date" type="time" {ids}{acting} value="{esc(value)}">'
    if kind in ("radio_buttons", "checkboxes"):
        return _checks(element, ids, acting, state)
    if kind in SELECTS:
        return _select(element, ids, acting, state, surface)
    return f'<span class="bk-unknown">[{esc(kind)}]</span>'


def _selected_values(element: dict[str, Any], state: dict[str, Any]) -> set[str]:
    """What a select or check group shows as chosen: the submitted state, else the initial."""
    keys = (
        ("selected_option", "initial_option"),
        ("selected_options", "initial_options"),
        ("selected_user", "initial_user"),
        ("selected_users", "initial_users"),
        ("selected_conversation", "initial_conversation"),
        ("selected_conversations", "initial_conversations"),
        ("selected_channel", "initial_channel"),
        ("selected_channels", "initial_channels"),
    )
    chosen: set[str] = set()
    for state_key, initial_key in keys:
        value = state[state_key] if state_key in state else element.get(initial_key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and item.get("value") is not None:
                chosen.add(str(item["value"]))
            elif isinstance(item, str):
                chosen.add(item)
    return chosen


def _checks(element: dict[str, Any], ids: str, acting: str, state: dict[str, Any]) -> str:
    kind = element.get("type")
    box = "radio" if kind == "radio_buttons" else "checkbox"
    chosen = _selected_values(element, state)
    group = esc(element.get("action_id") or id(element))
    rows = []
    for option in _options(element):
        value = str(option.get("value", ""))
        checked = " checked" if value in chosen else ""
        description = option.get("description")
        extra = f'<span class="bk-hint">{plain_text(description)}</span>' if description else ""
        rows.append(
            f'<label class="bk-check"><input type="{box}" name="{group}" value="{esc(value)}" '
            f'data-option="{_option_json(option)}"{checked}>'
            f"<span>{plain_text(option.get('text'))}{extra}</span></label>"
        )
    return f'<div class="bk-checks" {ids}{acting}>{"".join(rows)}</div>'


def _select(
    element: dict[str, Any], ids: str, acting: str, state: dict[str, Any], surface: Surface
) -> str:
    kind = str(element.get("type"))
    chosen = _selected_values(element, state)
    if kind.endswith("users_select"):
        pairs = [
            (uid, esc(surface.names.user(uid)), "")
            for uid, user in sorted(surface.names.users.items(), key=lambda u: u[0])
            if not user.get("is_bot") and not user.get("deleted")
        ]
    elif kind.endswith(("conversations_select", "channels_select")):
        pairs = [
            (cid, "#" + esc(channel.get("name", cid)), "")
            for cid, channel in surface.names.channels.items()
            if not channel.get("is_im")
        ]
    else:
        pairs = [
            (str(o.get("value", "")), plain_text(o.get("text")), _option_json(o))
            for o in _options(element)
        ]
    multiple = kind.startswith("multi_")
    prompt = plain_text(element.get("placeholder")) if element.get("placeholder") else ""
    rows = [] if multiple else [f'<option value="">{prompt or "Select an item"}</option>']
    if kind == "overflow":
        rows = ['<option value="">⋯</option>']
    for value, label, option in pairs:
        selected = " selected" if value in chosen else ""
        data = f' data-option="{option}"' if option else ""
        rows.append(f'<option value="{esc(value)}"{data}{selected}>{label}</option>')
    size = f' multiple size="{min(4, max(2, len(pairs)))}"' if multiple else ""
    return f'<select class="bk-select" {ids}{acting}{size}>{"".join(rows)}</select>'
