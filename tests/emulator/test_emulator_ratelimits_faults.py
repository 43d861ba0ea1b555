"""Per-channel rate limits (429 + Retry-After) and injected faults."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from slackapp.emulator import SlackEmulator


def test_rate_limit_answers_429_with_retry_after(client: WebClient, emu: SlackEmulator) -> None:
    emu.rate_limit("chat.postMessage", 1)
    assert client.chat_postMessage(channel="G_STAFF", text="first")["ok"]
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="G_STAFF", text="second")
    response = info.value.response
    assert response.status_code == 429
    assert response["error"] == "ratelimited"
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit() and int(retry_after) >= 1
    # The limit is per channel: another channel is unaffected.
    assert client.chat_postMessage(channel="G_ESCALATE", text="other")["ok"]
    # Other methods are unaffected.
    assert client.conversations_info(channel="G_STAFF")["ok"]
    assert len(emu.state()["channels"]["G_STAFF"]["messages"]) == 1
    # Refused calls are counted apart from the calls made.
    state = emu.state()
    assert state["rate_limited"] == {"chat.postMessage": 1}
    assert state["calls"]["chat.postMessage"] == 2


def test_retry_handler_recovers_from_429(emu: SlackEmulator) -> None:
    emu.rate_limit("chat.postMessage", 1)
    client = WebClient(
        base_url=emu.api_url,
        token=emu.bot_token,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    client.chat_postMessage(channel="G_STAFF", text="first")
    started = time.monotonic()
    assert client.chat_postMessage(channel="G_STAFF", text="second")["ok"]
    assert time.monotonic() - started >= 1.0
    texts = [m["text"] for m in emu.state()["channels"]["G_STAFF"]["messages"]]
    assert texts == ["first", "second"]


def test_sliding_window_admits_n_per_second(client: WebClient, emu: SlackEmulator) -> None:
    emu.rate_limit("chat.postMessage", 3)
    for i in range(3):
        client.chat_postMessage(channel="G_STAFF", text=str(i))
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="G_STAFF", text="4th")


def test_rate_limit_can_be_removed(client: WebClient, emu: SlackEmulator) -> None:
    emu.rate_limit("chat.postMessage", 1)
    client.chat_postMessage(channel="G_STAFF", text="a")
    emu.rate_limit("chat.postMessage", 0)
    assert client.chat_postMessage(channel="G_STAFF", text="b")["ok"]
    assert emu.state()["rate_limits"] == {}


def test_fault_with_slack_error_counts_down(client: WebClient, emu: SlackEmulator) -> None:
    emu.faults("chat.postMessage", error="internal_error", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as info:
            client.chat_postMessage(channel="G_STAFF", text="x")
        assert info.value.response.status_code == 200
        assert info.value.response["error"] == "internal_error"
    assert client.chat_postMessage(channel="G_STAFF", text="x")["ok"]
    assert emu.state()["faults"] == {}


def test_fault_with_http_status(client: WebClient, emu: SlackEmulator) -> None:
    emu.faults("views.publish", status=503)
    assert emu.state()["faults"] == {
        "views.publish": [{"error": None, "status": 503, "remaining": 1}]
    }
    view = {"type": "home", "blocks": [{"type": "divider"}]}
    with pytest.raises(SlackApiError) as info:
        client.views_publish(user_id="U_ALEX", view=view)
    assert info.value.response.status_code == 503
    assert client.views_publish(user_id="U_ALEX", view=view)["ok"]


def test_fault_on_every_method(client: WebClient, emu: SlackEmulator) -> None:
    emu.faults("*", status=500, times=1)
    with pytest.raises(SlackApiError) as info:
        client.auth_test()
    assert info.value.response.status_code == 500
    assert client.auth_test()["ok"]


def test_faults_via_http_and_bad_requests(emu: SlackEmulator) -> None:
    from slackapp.emulator import ControlError, EmulatorClient

    control = EmulatorClient(emu.url)
    assert control.faults("chat.postMessage", error="fatal_error")["ok"]
    assert emu.state()["faults"]["chat.postMessage"][0]["error"] == "fatal_error"
    with pytest.raises(ControlError) as info:
        control.faults("chat.postMessage")
    assert info.value.status == 400
    with pytest.raises(ControlError) as info:
        control.rate_limit("chat.postMessage", -1)
    assert info.value.status == 400


def test_an_outage_fails_every_call_for_its_duration_then_ends(
    client: WebClient, emu: SlackEmulator
) -> None:
    emu.faults("chat.postMessage", status=503, for_seconds=0.6)
    emu.faults("chat.postMessage", error="ratelimited", status=429, for_seconds=0.4)
    started, answers = time.monotonic(), []
    while time.monotonic() - started < 3:
        try:
            client.chat_postMessage(channel="G_STAFF", text="during")
            break
        except SlackApiError as exc:
            answers.append(exc.response.status_code)
            time.sleep(0.05)
    assert answers[0] == 503 and answers[-1] == 429
    assert answers == sorted(answers, key=lambda status: status == 429)  # 503s, then 429s
    assert 0.9 < time.monotonic() - started < 2.5
    assert emu.state()["faults"] == {}


def test_a_delay_fault_times_the_caller_out_though_the_post_lands(emu: SlackEmulator) -> None:
    emu.faults("chat.postMessage", delay=1.0)
    assert emu.state()["faults"]["chat.postMessage"][0]["delay"] == 1.0
    impatient = WebClient(base_url=emu.api_url, token=emu.bot_token, timeout=0.3)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="G_STAFF", text="slow")
    time.sleep(1.0)
    messages = emu.state()["channels"]["G_STAFF"]["messages"]
    assert [m["text"] for m in messages] == ["slow"]  # Slack did the work
