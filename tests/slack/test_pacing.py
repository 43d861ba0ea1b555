"""Pacing a channel after Slack's 429 (slackapp/pacing.py), on a clock the test moves."""

from __future__ import annotations

from slackapp.pacing import LONGEST_WAIT, ChannelPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_a_channel_is_paced_only_after_a_refusal_and_only_for_a_while() -> None:
    clock = Clock()
    pacer = ChannelPacer(interval=1.1, memory=60.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        pacer.wait("G_STAFF")
    assert clock.slept == []  # never refused: posts go at once
    assert pacer.refused("G_STAFF", 2.0)
    pacer.wait("G_STAFF")  # the refused post waits out Retry-After
    pacer.wait("G_STAFF")  # then one post per interval
    pacer.wait("G_STAFF")
    pacer.wait("D_OTHER")  # other channels are not held up
    assert clock.slept == [2.0, 1.1, 1.1]
    clock.now += 0.5  # a slow answer: the next turn counts from when it came back
    pacer.posted("G_STAFF")
    pacer.wait("G_STAFF")
    assert clock.slept == [2.0, 1.1, 1.1, 1.1]
    clock.now += 120  # a minute after the last refusal the channel runs free again
    pacer.wait("G_STAFF")
    pacer.posted("G_STAFF")
    pacer.wait("G_STAFF")
    assert clock.slept == [2.0, 1.1, 1.1, 1.1]


def test_a_long_retry_after_is_not_waited_in_place() -> None:
    clock = Clock()
    pacer = ChannelPacer(clock=clock, sleep=clock.sleep)
    assert not pacer.refused("G_STAFF", LONGEST_WAIT + 1)
    pacer.wait("G_STAFF")
    assert clock.slept == []
