"""The viewer over HTTP: what one person may see, the parts the page polls, closing a modal."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from slack_sdk import WebClient

from slackapp.emulator import DEFAULT_SEED, SlackEmulator
from steward.cli import print_addresses, sample_report_command
from tests.slack.conftest import Stack

ROOT = Path(__file__).resolve().parents[2]


def fetch(url: str, data: dict[str, Any] | None = None) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def parts(emulator: SlackEmulator, query: str) -> dict[str, dict[str, str]]:
    status, _, body = fetch(f"{emulator.url}/_viewer/parts?{query}")
    assert status == 200
    return json.loads(body)["parts"]


def test_the_page_is_served_at_the_root_with_no_inline_script_allowed() -> None:
    with SlackEmulator() as emulator:
        assert emulator.host == "127.0.0.1"  # loopback unless told otherwise
        status, headers, body = fetch(emulator.url + "/")
        assert status == 200
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Content-Security-Policy"].startswith(
            "default-src 'none'; script-src 'self';"
        )
        page = body.decode()
        assert page.startswith("<!doctype html>")
        assert '<script src="/_viewer/static/viewer.js"></script>' in page
        assert "<script>" not in page
        for name, kind in (("viewer.js", "text/javascript"), ("viewer.css", "text/css")):
            status, headers, _ = fetch(f"{emulator.url}/_viewer/static/{name}")
            assert (status, headers["Content-Type"]) == (200, f"{kind}; charset=utf-8")
        assert fetch(f"{emulator.url}/_viewer/static/app.py")[0] == 404
        assert fetch(f"{emulator.url}/_viewer/static/..%2Fapp.py")[0] == 404
        assert fetch(f"{emulator.url}/_viewer/nothing")[0] == 404


def test_a_first_visit_sees_the_home_channel_as_its_first_member() -> None:
    with SlackEmulator() as emulator:
        emulator.viewer.configure(home_channel="G_STAFF")
        page = fetch(emulator.url + "/")[2].decode()
        assert '<body data-user="U_STEW1" data-pane="G_STAFF" data-thread="">' in page
        emulator.viewer.configure()
        page = fetch(emulator.url + "/")[2].decode()
        assert '<body data-user="U_ALEX" data-pane="C_GENERAL" data-thread="">' in page


def test_a_member_does_not_see_a_private_channel_they_are_not_in() -> None:
    with SlackEmulator() as emulator:
        emulator.workspace.add_message(
            emulator.workspace.channels["G_STAFF"], {"user": "U_STEW1", "text": "stewards only"}
        )
        alex = parts(emulator, "as=U_ALEX&pane=G_STAFF")
        assert "conduct-stewards" not in alex["sidebar"]["html"]
        assert "stewards only" not in json.dumps(alex)
        assert "<h2># general</h2>" in alex["pane-head"]["html"]
        sam = parts(emulator, "as=U_STEW1&pane=G_STAFF")
        assert "stewards only" in sam["pane-body"]["html"]
        assert "🔒 conduct-stewards" in sam["pane-head"]["html"]


def test_a_part_changes_digest_only_when_its_content_changes() -> None:
    with SlackEmulator() as emulator:
        before = parts(emulator, "as=U_ALEX&pane=C_GENERAL")
        assert parts(emulator, "as=U_ALEX&pane=C_GENERAL") == before
        emulator.post("U_BLAIR", "C_GENERAL", "Anyone up for lunch? <b>")
        after = parts(emulator, "as=U_ALEX&pane=C_GENERAL")
        assert after["pane-body"]["digest"] != before["pane-body"]["digest"]
        assert after["sidebar"] == before["sidebar"] and after["modal"] == before["modal"]
        assert "Anyone up for lunch? &lt;b&gt;" in after["pane-body"]["html"]


def test_every_message_offers_the_apps_message_shortcut_and_a_thread() -> None:
    with SlackEmulator() as emulator:
        body = parts(emulator, "as=U_ALEX&pane=C_GENERAL")["pane-body"]["html"]
        assert body.count('data-callback-id="report_message">Report this message</button>') == 4
        assert '<a class="thread-link" href="?as=U_ALEX&amp;pane=C_GENERAL&amp;thread=' in body
        thread = parts(emulator, "as=U_ALEX&pane=C_GENERAL&thread=1700000200.000200")
        assert "That is uncalled for." in thread["thread-body"]["html"]
        assert '<div class="reply-count">1 reply</div>' in thread["thread-body"]["html"]


def test_the_seeded_app_has_the_shortcuts_of_the_manifest() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())["features"]["shortcuts"]
    seed = yaml.safe_load(DEFAULT_SEED.read_text())["bot"]["shortcuts"]
    as_pairs = sorted((s["callback_id"], s["type"], s["name"]) for s in manifest)
    assert as_pairs == sorted((s["callback_id"], s["type"], s["name"]) for s in seed)


def test_the_report_modal_opens_shows_inline_errors_and_closes(stack: Stack) -> None:
    emulator = stack.emulator
    opened = emulator.global_shortcut("U_ALEX", "report_concern")
    view_id = opened["views"][0]["id"]
    modal = parts(emulator, "as=U_ALEX")["modal"]["html"]
    assert f'<form class="modal" data-container="view" data-view="{view_id}"' in modal
    assert "<h2>Report a concern</h2>" in modal
    answer = emulator.submit("U_ALEX", view_id, {})
    assert answer["errors"] == {"what": "Please say what happened, even briefly."}
    assert parts(emulator, "as=U_BLAIR")["modal"]["html"] == ""  # only Alex sees it
    status, _, body = fetch(
        f"{emulator.url}/_viewer/close", {"user": "U_BLAIR", "view_id": view_id}
    )
    assert (status, json.loads(body)) == (
        404,
        {"ok": False, "error": "view_not_open", "detail": "not the top modal"},
    )
    status, _, body = fetch(f"{emulator.url}/_viewer/close", {"user": "U_ALEX", "view_id": view_id})
    assert (status, json.loads(body)) == (200, {"ok": True, "open_views": []})
    assert parts(emulator, "as=U_ALEX")["modal"]["html"] == ""


def test_app_home_and_outbound_mail_are_shown(stack: Stack, tmp_path: Path) -> None:
    emulator = stack.emulator
    mail = tmp_path / "viewer-mail"
    mail.mkdir()
    (mail / "1.eml").write_text(
        "From: conduct@example.org\nTo: jordan@example.net\nSubject: We received <your> report\n"
        "\nThank you & goodbye.\n"
    )
    (mail / "2.eml").write_bytes(b"\xff\xfe not mail")
    emulator.viewer.configure(mail_dir=mail, home_channel="G_STAFF")
    emulator.open_home("U_STEW1")
    stack.drain()
    home = parts(emulator, "as=U_STEW1&pane=home")
    assert "Steward: the conduct desk" in home["pane-body"]["html"]
    assert (
        '<a class="tab active" href="?as=U_STEW1&amp;pane=home">Home</a>'
        in home["pane-head"]["html"]
    )
    letters = parts(emulator, "as=U_STEW1&pane=mail")
    assert 'Outbound mail <span class="count">2</span>' in letters["sidebar"]["html"]
    assert "We received &lt;your&gt; report" in letters["pane-body"]["html"]
    assert "Thank you &amp; goodbye." in letters["pane-body"]["html"]
    assert "2.eml" in letters["pane-body"]["html"]


def test_the_banner_prints_the_viewer_first_with_the_readmes_sample_report(
    capsys: Any, stack: Stack
) -> None:
    settings = stack.settings
    print_addresses(settings, "sqlite:///steward.db", "http://127.0.0.1:3000/slack/events",
                    ("127.0.0.1", 8025), stack.emulator)  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == f"  viewer: {stack.emulator.url}/"
    command = sample_report_command("127.0.0.1", 8025, "conduct@example.org")
    assert f"  {sample_report_command('127.0.0.1', 8025, settings.conduct_address)}" in lines
    assert command in (ROOT / "README.md").read_text()


def test_an_ephemeral_message_is_shown_only_to_its_reader_as_the_apps() -> None:
    with SlackEmulator() as emulator:
        client = WebClient(base_url=emulator.api_url, token=emulator.bot_token)
        client.chat_postEphemeral(channel="G_STAFF", user="U_STEW2", text="Only *you* see this.")
        robin = parts(emulator, "as=U_STEW2&pane=G_STAFF")["pane-body"]["html"]
        assert '<div class="ephemeral-note">Only visible to you</div>' in robin
        assert '<span class="author">Steward</span>' in robin
        assert "Only <b>you</b> see this." in robin
        sam = parts(emulator, "as=U_STEW1&pane=G_STAFF")["pane-body"]["html"]
        assert "see this" not in sam


def test_a_conflicted_steward_sees_nothing_of_the_restricted_room(stack: Stack) -> None:
    emulator = stack.emulator
    stack.report(reported=["U_STEW1"])
    stack.drain()
    emulator.open_home("U_STEW1")
    emulator.open_home("U_STEW2")
    stack.drain()
    [room] = [c for c in emulator.state()["channels"].values() if c["name"] == "coc-1-restricted"]
    root = next(m for m in room["messages"] if "COC-1" in m["text"])
    where = f"pane={room['id']}&thread={root['ts']}"
    # The steward the report names: no room in the sidebar, and asking for it by its id and
    # thread falls back to a channel they are in.
    named = [parts(emulator, f"as=U_STEW1&{q}") for q in (where, "pane=G_STAFF", "pane=home")]
    assert "coc-1-restricted" not in json.dumps(named) and "COC-1" not in json.dumps(named)
    assert "<h2># general</h2>" in named[0]["pane-head"]["html"]
    # The other steward has the room and its thread.
    other = parts(emulator, f"as=U_STEW2&{where}")
    assert "🔒 coc-1-restricted" in other["pane-head"]["html"]
    assert "coc-1-restricted" in other["sidebar"]["html"]
    assert "COC-1" in other["pane-body"]["html"] and "COC-1" in other["thread-body"]["html"]


def test_a_deleted_message_is_gone_and_a_deleted_parent_keeps_its_thread() -> None:
    with SlackEmulator() as emulator:
        client = WebClient(base_url=emulator.api_url, token=emulator.bot_token)
        root = client.chat_postMessage(channel="G_STAFF", text="COC-9 root")
        line = client.chat_postMessage(channel="G_STAFF", text="a line", thread_ts=root["ts"])
        emulator.post("U_STEW1", "G_STAFF", "my own reply", thread_ts=root["ts"])
        where = f"as=U_STEW1&pane=G_STAFF&thread={root['ts']}"
        assert "a line" in parts(emulator, where)["thread-body"]["html"]
        client.chat_delete(channel="G_STAFF", ts=line["ts"])
        client.chat_delete(channel="G_STAFF", ts=root["ts"])
        pane = parts(emulator, "as=U_STEW1&pane=G_STAFF")["pane-body"]["html"]
        assert '<div class="msg-content"><i>This message was deleted.</i></div>' in pane
        assert "COC-9 root" not in pane and '<a class="thread-link"' in pane
        thread = parts(emulator, where)["thread-body"]["html"]
        assert "a line" not in thread and "my own reply" in thread
