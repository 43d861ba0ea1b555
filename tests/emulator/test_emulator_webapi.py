"""The Web API through slack-sdk's own WebClient: tokens, channels, messages, DMs, files."""

from __future__ import annotations

import json
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackapp.emulator import SlackEmulator


def error_of(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


def raw_post(url: str, data: bytes, headers: dict[str, str]) -> dict:
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


# -- tokens ------------------------------------------------------------------------------


def test_auth_test_identifies_the_bot(client: WebClient, emu: SlackEmulator) -> None:
    answer = client.auth_test()
    assert answer["user_id"] == emu.bot_user_id == "U_STEWARDBOT"
    assert answer["bot_id"] == emu.bot_id
    assert answer["team_id"] == "T_STEWARD"


def test_wrong_token_is_invalid_auth(emu: SlackEmulator) -> None:
    bad = WebClient(base_url=emu.api_url, token="xoxb-wrong")
    err = error_of(lambda: bad.chat_postMessage(channel="G_STAFF", text="x"))
    assert err.response["error"] == "invalid_auth"
    assert emu.state()["channels"]["G_STAFF"]["messages"] == []


def test_missing_token_is_not_authed(emu: SlackEmulator) -> None:
    err = error_of(lambda: WebClient(base_url=emu.api_url).auth_test())
    assert err.response["error"] == "not_authed"


def test_token_form_field_is_accepted_but_not_inside_json(emu: SlackEmulator) -> None:
    url = emu.api_url + "auth.test"
    form = raw_post(
        url,
        f"token={emu.bot_token}".encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form["ok"] is True
    as_json = raw_post(
        url, json.dumps({"token": emu.bot_token}).encode(), {"Content-Type": "application/json"}
    )
    assert as_json == {"ok": False, "error": "not_authed"}


def test_unknown_method(emu: SlackEmulator, client: WebClient) -> None:
    err = error_of(lambda: client.api_call("chat.frobnicate"))
    assert err.response.status_code == 404
    assert err.response["error"] == "unknown_method"


# -- channels ----------------------------------------------------------------------------


def test_conversations_info_reports_privacy_and_membership(client: WebClient) -> None:
    staff = client.conversations_info(channel="G_STAFF")["channel"]
    assert staff["is_private"] is True and staff["is_member"] is True
    assert staff["name"] == "conduct-stewards"
    general = client.conversations_info(channel="C_GENERAL")["channel"]
    assert general["is_private"] is False and general["is_member"] is False
    assert general["is_channel"] is True


def test_unknown_channel_is_channel_not_found(client: WebClient) -> None:
    err = error_of(lambda: client.conversations_info(channel="C_NOPE"))
    assert err.response["error"] == "channel_not_found"


def test_private_channel_without_the_bot_is_invisible() -> None:
    seed = {
        "users": [{"id": "U_A", "name": "a"}],
        "channels": [{"id": "G_SECRET", "name": "secret", "is_private": True, "members": ["U_A"]}],
    }
    with SlackEmulator(seed=seed) as emu:
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        err = error_of(lambda: client.conversations_info(channel="G_SECRET"))
        assert err.response["error"] == "channel_not_found"


def test_posting_where_the_bot_is_not_a_member_is_not_in_channel(
    client: WebClient, emu: SlackEmulator
) -> None:
    err = error_of(lambda: client.chat_postMessage(channel="C_GENERAL", text="hello"))
    assert err.response["error"] == "not_in_channel"
    err = error_of(lambda: client.conversations_history(channel="C_GENERAL"))
    assert err.response["error"] == "not_in_channel"
    assert len(emu.state()["channels"]["C_GENERAL"]["messages"]) == 4


def test_conversations_members_paginates(client: WebClient) -> None:
    first = client.conversations_members(channel="C_GENERAL", limit=2)
    assert len(first["members"]) == 2
    cursor = first["response_metadata"]["next_cursor"]
    assert cursor
    rest = client.conversations_members(channel="C_GENERAL", cursor=cursor, limit=10)
    assert rest["response_metadata"]["next_cursor"] == ""
    assert set(first["members"] + rest["members"]) == {
        "U_ALEX",
        "U_BLAIR",
        "U_STEW1",
        "U_STEW2",
        "U_DEPLOYBOT",
    }


# -- messages ----------------------------------------------------------------------------


def test_post_thread_history_and_replies(client: WebClient, emu: SlackEmulator) -> None:
    root = client.chat_postMessage(channel="G_STAFF", text="Case C-1")
    assert root["channel"] == "G_STAFF" and root["message"]["bot_id"] == emu.bot_id
    reply = client.chat_postMessage(channel="G_STAFF", text="claimed", thread_ts=root["ts"])
    client.chat_postMessage(channel="G_STAFF", text="Case C-2")
    assert float(reply["ts"]) > float(root["ts"])

    history = client.conversations_history(channel="G_STAFF")["messages"]
    assert [m["text"] for m in history] == ["Case C-2", "Case C-1"]
    assert history[1]["reply_count"] == 1 and history[1]["thread_ts"] == root["ts"]

    replies = client.conversations_replies(channel="G_STAFF", ts=root["ts"])["messages"]
    assert [m["text"] for m in replies] == ["Case C-1", "claimed"]
    assert replies[1]["thread_ts"] == root["ts"]

    state = emu.state()["channels"]["G_STAFF"]["messages"]
    assert [r["text"] for r in state[0]["replies"]] == ["claimed"]
    assert state[0]["replies"][0]["thread_ts"] == root["ts"]


def test_reply_to_a_reply_joins_the_root_thread(client: WebClient) -> None:
    root = client.chat_postMessage(channel="G_STAFF", text="root")
    reply = client.chat_postMessage(channel="G_STAFF", text="r1", thread_ts=root["ts"])
    nested = client.chat_postMessage(channel="G_STAFF", text="r2", thread_ts=reply["ts"])
    assert nested["message"]["thread_ts"] == root["ts"]


def test_thread_ts_of_a_missing_message_is_refused(client: WebClient) -> None:
    err = error_of(
        lambda: client.chat_postMessage(channel="G_STAFF", text="x", thread_ts="1.000001")
    )
    assert err.response["error"] == "message_not_found"
    err = error_of(lambda: client.conversations_replies(channel="G_STAFF", ts="1.000001"))
    assert err.response["error"] == "thread_not_found"


def test_history_window_and_pagination(client: WebClient) -> None:
    posted = [client.chat_postMessage(channel="G_STAFF", text=f"m{i}")["ts"] for i in range(5)]
    page = client.conversations_history(channel="G_STAFF", limit=2)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"] and page["has_more"]
    page2 = client.conversations_history(
        channel="G_STAFF", limit=10, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in page2["messages"]] == ["m2", "m1", "m0"]
    window = client.conversations_history(channel="G_STAFF", oldest=posted[1], latest=posted[3])
    assert [m["text"] for m in window["messages"]] == ["m2"]


def test_no_text_is_refused(client: WebClient) -> None:
    err = error_of(lambda: client.api_call("chat.postMessage", json={"channel": "G_STAFF"}))
    assert err.response["error"] == "no_text"


def test_chat_update_edits_only_the_bots_messages(client: WebClient, emu: SlackEmulator) -> None:
    posted = client.chat_postMessage(channel="G_STAFF", text="status: new")
    updated = client.chat_update(channel="G_STAFF", ts=posted["ts"], text="status: triage")
    assert updated["text"] == "status: triage" and updated["ts"] == posted["ts"]
    message = emu.state()["channels"]["G_STAFF"]["messages"][0]
    assert message["text"] == "status: triage" and "edited" in message
    err = error_of(lambda: client.chat_update(channel="G_STAFF", ts="1.000001", text="x"))
    assert err.response["error"] == "message_not_found"


def test_chat_update_keeps_blocks_unless_given(client: WebClient, emu: SlackEmulator) -> None:
    blocks = [{"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "*C-1*"}}]
    posted = client.chat_postMessage(channel="G_STAFF", text="C-1", blocks=blocks)
    client.chat_update(channel="G_STAFF", ts=posted["ts"], text="C-1 again")
    message = emu.state()["channels"]["G_STAFF"]["messages"][0]
    assert message["blocks"][0]["block_id"] == "s"


SOMEONE_ELSES_MESSAGE = {
    "users": [{"id": "U_A", "name": "a"}],
    "channels": [
        {
            "id": "G_X",
            "is_private": True,
            "members": ["U_A", "U_STEWARDBOT"],
            "messages": [{"ts": "1700000000.000001", "user": "U_A", "text": "mine"}],
        }
    ],
}


def test_cannot_update_someone_elses_message() -> None:
    with SlackEmulator(seed=SOMEONE_ELSES_MESSAGE) as emu:
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        err = error_of(lambda: client.chat_update(channel="G_X", ts="1700000000.000001", text="x"))
        assert err.response["error"] == "cant_update_message"


def test_blocks_get_block_ids_like_slack(client: WebClient) -> None:
    answer = client.chat_postMessage(
        channel="G_STAFF", text="x", blocks=[{"type": "divider"}, {"type": "divider"}]
    )
    ids = [b["block_id"] for b in answer["message"]["blocks"]]
    assert all(ids) and len(set(ids)) == 2


def test_post_ephemeral(client: WebClient, emu: SlackEmulator) -> None:
    answer = client.chat_postEphemeral(channel="G_STAFF", user="U_STEW1", text="only you")
    assert answer["message_ts"]
    ephemeral = emu.state()["channels"]["G_STAFF"]["ephemeral"]
    assert ephemeral == [
        {
            "type": "message",
            "subtype": "ephemeral",
            "user": "U_STEW1",
            "ts": answer["message_ts"],
            "text": "only you",
        }
    ]
    err = error_of(lambda: client.chat_postEphemeral(channel="G_STAFF", user="U_ALEX", text="x"))
    assert err.response["error"] == "user_not_in_channel"


def test_permalink(client: WebClient) -> None:
    link = client.chat_getPermalink(channel="C_GENERAL", message_ts="1700000100.000100")
    assert link["permalink"] == (
        "https://steward-demo.slack.com/archives/C_GENERAL/p1700000100000100"
    )
    reply = client.chat_getPermalink(channel="C_GENERAL", message_ts="1700000250.000300")
    assert reply["permalink"].endswith("?thread_ts=1700000200.000200&cid=C_GENERAL")
    err = error_of(lambda: client.chat_getPermalink(channel="C_GENERAL", message_ts="1.000001"))
    assert err.response["error"] == "message_not_found"


def test_reactions_add(client: WebClient, emu: SlackEmulator) -> None:
    posted = client.chat_postMessage(channel="G_STAFF", text="C-1")
    client.reactions_add(channel="G_STAFF", timestamp=posted["ts"], name="eyes")
    message = emu.state()["channels"]["G_STAFF"]["messages"][0]
    assert message["reactions"] == [{"name": "eyes", "users": ["U_STEWARDBOT"], "count": 1}]
    err = error_of(
        lambda: client.reactions_add(channel="G_STAFF", timestamp=posted["ts"], name="eyes")
    )
    assert err.response["error"] == "already_reacted"


# -- users -------------------------------------------------------------------------------


def test_users_info_and_lookup(client: WebClient) -> None:
    alex = client.users_info(user="U_ALEX")["user"]
    assert alex["real_name"] == "Alex Rivera"
    assert alex["profile"]["email"] == "alex@example.org"
    assert alex["profile"]["display_name"] == "alex"
    assert client.users_lookupByEmail(email="Blair@example.org")["user"]["id"] == "U_BLAIR"
    err = error_of(lambda: client.users_lookupByEmail(email="nobody@example.org"))
    assert err.response["error"] == "users_not_found"
    err = error_of(lambda: client.users_info(user="U_NOPE"))
    assert err.response["error"] == "user_not_found"


# -- DMs ---------------------------------------------------------------------------------


def test_dm_open_post_and_state(client: WebClient, emu: SlackEmulator) -> None:
    opened = client.conversations_open(users="U_ALEX")
    dm = opened["channel"]["id"]
    assert dm.startswith("D")
    again = client.conversations_open(users=["U_ALEX"])
    assert again["channel"]["id"] == dm and again["already_open"] is True
    info = client.conversations_info(channel=dm)["channel"]
    assert info["is_im"] is True and info["user"] == "U_ALEX"
    client.chat_postMessage(channel=dm, text="Your case is C-1")
    state = emu.state()
    assert state["dms"] == {"U_ALEX": dm}
    assert state["channels"][dm]["channel_type"] == "im"
    assert [m["text"] for m in state["channels"][dm]["messages"]] == ["Your case is C-1"]


def test_posting_to_a_user_id_goes_to_their_dm(client: WebClient, emu: SlackEmulator) -> None:
    answer = client.chat_postMessage(channel="U_BLAIR", text="hello")
    assert answer["channel"] == emu.state()["dms"]["U_BLAIR"]


def test_group_dm_and_bad_users(client: WebClient) -> None:
    group = client.conversations_open(users="U_STEW1,U_STEW2", return_im=True)["channel"]
    assert group["is_mpim"] is True
    err = error_of(lambda: client.conversations_open(users="U_NOPE"))
    assert err.response["error"] == "user_not_found"
    err = error_of(lambda: client.api_call("conversations.open", params={}))
    assert err.response["error"] == "users_list_not_supplied"


# -- files -------------------------------------------------------------------------------


def test_files_upload_v2_round_trip(client: WebClient, emu: SlackEmulator) -> None:
    answer = client.files_upload_v2(
        channel="G_STAFF",
        content="case export\n",
        filename="C-1.txt",
        title="C-1 export",
        initial_comment="Export attached",
    )
    file_id = answer["file"]["id"]
    state = emu.state()
    assert state["files"][file_id]["text"] == "case export\n"
    assert state["files"][file_id]["title"] == "C-1 export"
    assert state["files"][file_id]["channels"] == ["G_STAFF"]
    message = state["channels"]["G_STAFF"]["messages"][-1]
    assert message["text"] == "Export attached"
    assert [f["id"] for f in message["files"]] == [file_id]


def test_complete_upload_needs_an_uploaded_file(client: WebClient) -> None:
    url = client.files_getUploadURLExternal(filename="x.txt", length=3)
    err = error_of(
        lambda: client.files_completeUploadExternal(
            files=[{"id": url["file_id"], "title": "x"}], channel_id="G_STAFF"
        )
    )
    assert err.response["error"] == "file_not_found"


def test_upload_into_a_channel_without_the_bot(client: WebClient) -> None:
    err = error_of(
        lambda: client.files_upload_v2(channel="C_GENERAL", content="x", filename="x.txt")
    )
    assert err.response["error"] == "not_in_channel"


# -- views -------------------------------------------------------------------------------


def test_views_publish_home_tab(client: WebClient, emu: SlackEmulator) -> None:
    view = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "1"}}],
    }
    first = client.views_publish(user_id="U_ALEX", view=view)["view"]
    view["blocks"][0]["text"]["text"] = "2"
    second = client.views_publish(user_id="U_ALEX", view=view, hash=first["hash"])["view"]
    assert second["id"] == first["id"] and second["hash"] != first["hash"]
    home = emu.state()["home_tabs"]["U_ALEX"]
    assert home["blocks"][0]["text"]["text"] == "2"
    err = error_of(lambda: client.views_publish(user_id="U_ALEX", view=view, hash=first["hash"]))
    assert err.response["error"] == "hash_conflict"
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    err = error_of(lambda: client.views_publish(user_id="U_ALEX", view=modal))
    assert err.response["error"] == "invalid_arguments"


def test_views_update_needs_an_open_view(client: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    err = error_of(lambda: client.views_update(view_id="VNOPE", view=view))
    assert err.response["error"] == "not_found"


def test_concurrent_posts_are_all_kept(client: WebClient, emu: SlackEmulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(
            pool.map(lambda i: client.chat_postMessage(channel="G_STAFF", text=f"m{i}"), range(50))
        )
    assert len({a["ts"] for a in answers}) == 50
    assert len(emu.state()["channels"]["G_STAFF"]["messages"]) == 50
    assert emu.state()["calls"]["chat.postMessage"] == 50


def test_message_metadata_is_kept_and_listed_only_when_asked(
    client: WebClient, emu: SlackEmulator
) -> None:
    metadata = {"event_type": "steward_outbox", "event_payload": {"outbox_id": 7}}
    root = client.chat_postMessage(channel="G_STAFF", text="root", metadata=metadata)
    client.chat_postMessage(
        channel="G_STAFF", text="reply", thread_ts=root["ts"], metadata=metadata
    )
    plain = client.conversations_history(channel="G_STAFF")["messages"]
    assert "metadata" not in plain[0]
    listed = client.conversations_history(channel="G_STAFF", include_all_metadata=True)
    assert listed["messages"][0]["metadata"] == metadata
    thread = client.conversations_replies(
        channel="G_STAFF", ts=root["ts"], include_all_metadata=True
    )["messages"]
    assert [m.get("metadata") for m in thread] == [metadata, metadata]
    assert (
        "metadata"
        not in client.conversations_replies(channel="G_STAFF", ts=root["ts"])["messages"][1]
    )


@pytest.mark.parametrize(
    "metadata",
    [
        {"event_type": "has space", "event_payload": {}},
        {"event_type": "steward_outbox"},
        {"event_payload": {"outbox_id": 1}},
        ["steward_outbox"],
    ],
)
def test_malformed_metadata_is_refused(
    client: WebClient, emu: SlackEmulator, metadata: object
) -> None:
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="G_STAFF", text="x", metadata=metadata)
    assert info.value.response["error"] == "invalid_metadata_format"
    assert emu.state()["channels"]["G_STAFF"]["messages"] == []


def test_chat_delete_removes_the_bots_own_reply_and_answers_message_not_found_after(
    client: WebClient, emu: SlackEmulator
) -> None:
    root = client.chat_postMessage(channel="G_STAFF", text="root")
    reply = client.chat_postMessage(channel="G_STAFF", text="line", thread_ts=root["ts"])
    answer = client.chat_delete(channel="G_STAFF", ts=reply["ts"])
    assert (answer["ok"], answer["channel"], answer["ts"]) == (True, "G_STAFF", reply["ts"])
    [message] = emu.state()["channels"]["G_STAFF"]["messages"]
    assert (message["text"], message["replies"], message.get("reply_count")) == ("root", [], None)
    again = error_of(lambda: client.chat_delete(channel="G_STAFF", ts=reply["ts"]))
    assert again.response["error"] == "message_not_found"
    unknown = error_of(lambda: client.chat_delete(channel="G_NOPE", ts=reply["ts"]))
    assert unknown.response["error"] == "channel_not_found"


def test_chat_delete_of_a_parent_with_replies_leaves_slacks_tombstone(
    client: WebClient, emu: SlackEmulator
) -> None:
    root = client.chat_postMessage(channel="G_STAFF", text="root")
    emu.post("U_STEW1", "G_STAFF", "a steward's reply", thread_ts=root["ts"])
    client.chat_delete(channel="G_STAFF", ts=root["ts"])
    [message] = emu.state()["channels"]["G_STAFF"]["messages"]
    assert (message["subtype"], message["text"]) == ("tombstone", "This message was deleted.")
    assert [r["text"] for r in message["replies"]] == ["a steward's reply"]


def test_a_bot_cannot_delete_someone_elses_message() -> None:
    with SlackEmulator(seed=SOMEONE_ELSES_MESSAGE) as emu:
        client = WebClient(base_url=emu.api_url, token=emu.bot_token)
        err = error_of(lambda: client.chat_delete(channel="G_X", ts="1700000000.000001"))
        assert err.response["error"] == "cant_delete_message"
        assert emu.state()["channels"]["G_X"]["messages"][0]["text"] == "mine"
