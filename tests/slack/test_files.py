"""Evidence files from Slack: the report form's file input, files shared in a direct
message, and the files of a reported message, all through the emulator."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from core.casework import cases as case_service
from core.infra.models import Attachment, MessageSnapshot
from slackapp.emulator import signed_headers
from tests.slack.conftest import Stack, eventually, form_values
from tests.slack.test_casework import click, root_of
from tests.slack.test_text import texts
from tests.smtp_helpers import cases_show

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 20


def upload(stack: Stack, name: str, content: bytes, **share: Any) -> dict[str, Any]:
    import base64

    encoded = base64.b64encode(content).decode()
    return stack.emulator.upload("U_ALEX", name, content_base64=encoded, **share)


def with_files(file_ids: list[str], **answers: Any) -> dict[str, Any]:
    values = form_values(**answers)
    files = [{"id": f} for f in file_ids]
    values["evidence"] = {"evidence": {"type": "file_input", "files": files}}
    return values


def attachments(stack: Stack) -> list[tuple[str, int, str, str]]:
    with stack.db.session() as session:
        rows = session.scalars(select(Attachment).order_by(Attachment.id))
        return [(a.filename, a.size, a.sha256, a.entry.kind) for a in rows]


def dm_text(stack: Stack, user: str = "U_ALEX") -> str:
    return "\n".join(texts(m) for m in stack.dm_messages(user))


def limit(stack: Stack, **limits: int) -> None:
    """The operator's limits (STEWARD_MAX_ATTACHMENT_BYTES, STEWARD_MAX_ATTACHMENTS)."""
    stack.slack.settings = replace(stack.slack.settings, **limits)


def test_the_report_form_offers_a_file_input(stack: Stack) -> None:
    [form] = stack.emulator.global_shortcut("U_ALEX", "report_concern")["views"]
    block = next(b for b in form["blocks"] if b.get("block_id") == "evidence")
    assert block["type"] == "input" and block["optional"] is True
    assert block["element"] == {"type": "file_input", "max_files": 10, "action_id": "evidence"}
    assert block["hint"]["text"] == "Up to 10 files of 5 MB each. Only the stewards see them."


def test_files_added_to_the_form_become_attachments(stack: Stack, tmp_path: Path) -> None:
    shot = upload(stack, "screen shot.png", PNG)["file"]
    notes = upload(stack, "../../notes.txt", b"what they said")["file"]
    [form] = stack.emulator.global_shortcut("U_ALEX", "report_concern")["views"]
    stack.emulator.submit("U_ALEX", form["id"], with_files([shot["id"], notes["id"]]))
    stack.drain()
    assert attachments(stack) == [
        ("screen shot.png", len(PNG), hashlib.sha256(PNG).hexdigest(), "report"),
        ("notes.txt", 14, hashlib.sha256(b"what they said").hexdigest(), "report"),
    ]
    assert "*Kept as evidence (2):* screen shot.png, notes.txt" in dm_text(stack)
    shown = texts(click(stack, "U_STEW1", "case_view_report", root_of(stack))["views"][0])
    digest = hashlib.sha256(PNG).hexdigest()
    assert f"screen shot.png (image/png, 128 bytes, SHA-256 {digest[:16]}…)" in shown
    exported = cases_show(stack.settings.database_url, "COC-1", tmp_path)["attachments"]
    assert [(a["filename"], a["size"], a["sha256"], a["entry_index"]) for a in exported] == [
        ("screen shot.png", len(PNG), hashlib.sha256(PNG).hexdigest(), 0),
        ("notes.txt", 14, hashlib.sha256(b"what they said").hexdigest(), 0),
    ]
    staff = json.dumps(stack.staff_messages())
    assert "screen shot" not in staff and "notes.txt" not in staff and '"files"' not in staff
    assert stack.emulator.state()["calls"].get("files.getUploadURLExternal") is None


def test_files_over_the_limits_are_refused_and_the_reporter_told_why(stack: Stack) -> None:
    ids = [
        upload(stack, name, content)["file"]["id"]
        for name, content in (
            ("first.png", PNG),
            ("huge.mov", b"x" * 500),
            ("empty.txt", b""),
            ("second.png", PNG),
        )
    ]
    [form] = stack.emulator.global_shortcut("U_ALEX", "report_concern")["views"]
    limit(stack, max_attachment_bytes=200, max_attachments=1)
    stack.emulator.submit("U_ALEX", form["id"], with_files(ids))
    stack.drain()
    assert [a[0] for a in attachments(stack)] == ["first.png"]
    told = dm_text(stack)
    assert "*Kept as evidence (1):* first.png" in told
    assert "*Not kept:* huge.mov, because it is larger than the limit of 200 bytes." in told
    assert "*Not kept:* empty.txt, because it is empty." in told
    assert "*Not kept:* second.png, because only 1 files can be kept from one message." in told
    shown = texts(click(stack, "U_STEW1", "case_view_report", root_of(stack))["views"][0])
    assert "file not kept: huge.mov (too_large)" in shown


def test_a_file_shared_in_a_dm_joins_the_case(stack: Stack) -> None:
    stack.report()
    stack.drain()
    shared = upload(stack, "proof.png", PNG, channel=stack.emulator.bot_user_id)
    assert shared["delivered"] and shared["status"] == 200
    event = shared["message"]
    assert (event["subtype"], event["text"], event["channel_type"]) == ("file_share", "", "im")
    assert event["files"][0]["url_private"].startswith(stack.emulator.url)
    assert eventually(lambda: attachments(stack)) == [
        ("proof.png", len(PNG), hashlib.sha256(PNG).hexdigest(), "reporter_message")
    ]
    stack.drain()
    told = dm_text(stack)
    assert "Added to COC-1" in told and "*Kept as evidence (1):* proof.png" in told
    assert "proof.png" not in json.dumps(stack.staff_messages())


def test_a_file_with_words_keeps_both(stack: Stack) -> None:
    stack.report()
    shared = upload(
        stack, "chat.txt", b"log", channel=stack.emulator.bot_user_id, text="Fish & chips <3"
    )
    assert shared["message"]["text"] == "Fish &amp; chips &lt;3"

    def messages() -> list[str]:
        with stack.db.session() as session:
            case = case_service.get_case(session, "COC-1")
            return [e.text for e in case.entries if e.kind == "reporter_message"]

    assert eventually(messages) == ["Fish & chips <3"]
    assert [a[0] for a in attachments(stack)] == ["chat.txt"]


def test_a_file_without_an_open_report_is_not_kept_and_the_sender_told(stack: Stack) -> None:
    upload(stack, "proof.png", PNG, channel=stack.emulator.bot_user_id)
    assert eventually(lambda: "no open report" in dm_text(stack) or stack.drain())
    stack.drain()
    assert "*Not kept:* proof.png, because you have no open report to add it to." in dm_text(stack)
    assert attachments(stack) == []


def test_a_reported_messages_files_are_snapshotted(stack: Stack) -> None:
    # files:read reaches the files of conversations the app was added to: here, #general.
    stack.emulator.workspace.channels["C_GENERAL"]["members"].append(stack.emulator.bot_user_id)
    posted = stack.emulator.upload(
        "U_BLAIR", "meme.txt", content="rude & crude", channel="C_GENERAL", text="lol"
    )
    opened = stack.emulator.message_shortcut("U_ALEX", "C_GENERAL", posted["ts"], "report_message")
    [form] = opened["views"]
    assert (
        "With 1 file(s): meme.txt. Steward keeps a copy where it can, and tells you which."
        in texts(form)
    )

    def held() -> bool:
        with stack.db.session() as session:
            snapshot = session.scalars(select(MessageSnapshot)).one()
            return snapshot.data.get("files_state") == "kept"

    assert eventually(held)
    # The author deletes the file before the reporter sends the form: it was kept anyway.
    del stack.emulator.workspace.files[posted["file"]["id"]]
    stack.emulator.submit("U_ALEX", form["id"], form_values(what="See the file."))
    stack.drain()
    content = b"rude & crude"
    assert attachments(stack) == [("meme.txt", 12, hashlib.sha256(content).hexdigest(), "report")]
    with stack.db.session() as session:
        files = session.scalars(select(MessageSnapshot)).one().data["files"]
    assert [(f["name"], f["size"]) for f in files] == [("meme.txt", 12)]
    assert "*Kept as evidence (1):* meme.txt" in dm_text(stack)


def test_files_the_app_cannot_read_are_refused_and_the_reporter_told(stack: Stack) -> None:
    posted = stack.emulator.upload(
        "U_BLAIR", "meme.txt", content="rude", channel="C_GENERAL", text="lol"
    )
    opened = stack.emulator.message_shortcut("U_ALEX", "C_GENERAL", posted["ts"], "report_message")
    stack.emulator.submit("U_ALEX", opened["views"][0]["id"], form_values(what="See it."))
    stack.drain()
    assert attachments(stack) == []
    assert (
        "*Not kept:* meme.txt, because Steward could not fetch it from Slack; "
        "please try sending it again." in dm_text(stack)
    )
    shown = texts(click(stack, "U_STEW1", "case_view_report", root_of(stack))["views"][0])
    assert "file not kept: meme.txt (unavailable)" in shown
    assert "With files: meme.txt (those kept are under *Attachments*)" in shown


def test_url_private_needs_the_bot_token(stack: Stack) -> None:
    file = upload(stack, "proof.png", PNG, channel=stack.emulator.bot_user_id)["file"]

    def get(token: str | None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(file["url_private"], headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    assert get(None) == (401, b"not_authed")
    assert get("xoxb-someone-else") == (403, b"invalid_auth")
    assert get(stack.emulator.bot_token) == (200, PNG)


def test_files_info_sees_only_what_the_bot_may(stack: Stack) -> None:
    private = upload(stack, "mine.png", PNG)["file"]
    client = stack.slack.client
    with pytest.raises(SlackApiError) as refused:
        client.files_info(file=private["id"])
    assert refused.value.response.data == {"ok": False, "error": "file_not_found"}
    shared = upload(stack, "ours.png", PNG, channel=stack.emulator.bot_user_id)["file"]
    info = client.files_info(file=shared["id"])["file"]
    assert (info["name"], info["size"], info["mimetype"]) == ("ours.png", len(PNG), "image/png")


def test_a_file_share_event_that_names_only_the_file_still_keeps_it(stack: Stack) -> None:
    """Slack may send a shared file as `{id, file_access: check_file_info}` alone; the
    file is then looked up with files.info."""
    stack.report()
    shared = upload(stack, "proof.png", PNG, channel=stack.emulator.bot_user_id)
    assert eventually(lambda: len(attachments(stack)) == 1)
    event = {
        **shared["message"],
        "ts": "1800000000.000100",
        "event_ts": "1800000000.000100",
        "files": [{"id": shared["file"]["id"], "file_access": "check_file_info"}],
    }
    envelope = {
        "token": "legacy",
        "team_id": "T_STEWARD",
        "api_app_id": "A_STEWARD",
        "type": "event_callback",
        "event_id": "Ev_FILE_ONLY",
        "event_time": 1800000000,
        "event": event,
    }
    body = json.dumps(envelope).encode()
    headers = signed_headers(stack.settings.slack_signing_secret or "", body, "application/json")
    request = urllib.request.Request(stack.web.events_url, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert eventually(lambda: len(attachments(stack)) == 2)
    assert attachments(stack)[1] == (
        "proof.png",
        len(PNG),
        hashlib.sha256(PNG).hexdigest(),
        "reporter_message",
    )


def test_without_files_read_nothing_can_be_fetched(stack: Stack) -> None:
    """An installation that was not granted files:read (say, an old manifest)."""
    file = upload(stack, "proof.png", PNG, channel=stack.emulator.bot_user_id)["file"]
    webapi = stack.emulator.webapi
    assert webapi.scopes is not None and "files:read" in webapi.scopes
    webapi.scopes = webapi.scopes - {"files:read"}
    with pytest.raises(SlackApiError) as refused:
        stack.slack.client.files_info(file=file["id"])
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "files:read"
    headers = {"Authorization": f"Bearer {stack.emulator.bot_token}"}
    request = urllib.request.Request(file["url_private"], headers=headers)
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(request, timeout=5)
    assert (denied.value.code, denied.value.read()) == (403, b"missing_scope")
