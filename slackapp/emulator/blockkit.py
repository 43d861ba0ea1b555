"""Block Kit validation with Slack's limits.

An app that passes the emulator must also pass Slack, so every limit that Slack
enforces on messages and views, and that Steward can plausibly hit, is checked
here. Each failure names the limit it broke, in Slack's own
``[ERROR] ... [json-pointer:...]`` message format, so a failing test says which
block went over which limit.

Sources: https://docs.slack.dev/reference/block-kit/blocks ,
https://docs.slack.dev/reference/block-kit/block-elements ,
https://docs.slack.dev/reference/views and
https://docs.slack.dev/reference/methods/chat.postMessage (see docs/slack-emulator.md).
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_VIEW_TITLE = 24
MAX_VIEW_SUBMIT = 24
MAX_VIEW_CLOSE = 24
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
MAX_EXTERNAL_ID = 255
MAX_BLOCK_ID = 255
MAX_ACTION_ID = 255
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_INPUT_LABEL = 2000
MAX_MESSAGE_TEXT = 40000

BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
        "call",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


class BlockKitError(Exception):
    """A Block Kit payload that Slack would refuse.

    ``messages`` are Slack's ``response_metadata.messages`` lines; the error code
    (``invalid_blocks`` for messages, ``invalid_arguments`` for views) is chosen
    by the caller, because Slack uses different codes for the two surfaces.
    """

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class _Checker:
    """Collects every violation in one pass, as Slack reports several at once."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, pointer: str, detail: str) -> None:
        self.errors.append(f"[ERROR] {detail} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str, what: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.fail(
                pointer,
                f"must be less than {limit + 1} characters: {what} is limited to "
                f"{limit} characters, got {len(value)}",
            )

    def max_items(self, value: Any, limit: int, pointer: str, what: str) -> None:
        if isinstance(value, list) and len(value) > limit:
            self.fail(
                pointer,
                f"no more than {limit} items allowed: {what} is limited to {limit}, "
                f"got {len(value)}",
            )

    def text_object(
        self,
        obj: Any,
        pointer: str,
        limit: int,
        what: str,
        plain_only: bool = False,
    ) -> None:
        if not isinstance(obj, dict):
            self.fail(pointer, f"{what} must be a text object")
            return
        kind = obj.get("type")
        allowed = {"plain_text"} if plain_only else TEXT_TYPES
        if kind not in allowed:
            self.fail(f"{pointer}/type", f"{what} must be of type {' or '.join(sorted(allowed))}")
        text = obj.get("text")
        if not isinstance(text, str):
            self.fail(f"{pointer}/text", f"{what} must have a text string")
            return
        self.max_len(text, limit, f"{pointer}/text", what)

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            self.fail(pointer, "element must be an object with a type")
            return
        self.max_len(element.get("action_id"), MAX_ACTION_ID, f"{pointer}/action_id", "action_id")
        if element["type"] == "button":
            self.text_object(
                element.get("text"),
                f"{pointer}/text",
                MAX_BUTTON_TEXT,
                "button text",
                plain_only=True,
            )
            self.max_len(element.get("value"), MAX_BUTTON_VALUE, f"{pointer}/value", "button value")

    def block(self, block: Any, pointer: str, seen_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.fail(pointer, "block must be an object")
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.fail(f"{pointer}/type", f"unknown block type {kind!r}")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str):
                self.fail(f"{pointer}/block_id", "block_id must be a string")
            else:
                self.max_len(block_id, MAX_BLOCK_ID, f"{pointer}/block_id", "block_id")
                if block_id in seen_ids:
                    self.fail(f"{pointer}/block_id", f"duplicate block_id {block_id!r}")
                seen_ids.add(block_id)
        getattr(self, f"_block_{kind}", self._block_other)(block, pointer)

    def _block_section(self, block: dict[str, Any], pointer: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            self.fail(pointer, "section must have text or fields")
        if text is not None:
            self.text_object(text, f"{pointer}/text", MAX_SECTION_TEXT, "section text")
        if fields is not None:
            self.max_items(fields, MAX_SECTION_FIELDS, f"{pointer}/fields", "section fields")
            for i, field in enumerate(fields if isinstance(fields, list) else []):
                self.text_object(
                    field, f"{pointer}/fields/{i}", MAX_SECTION_FIELD_TEXT, "section field text"
                )
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{pointer}/accessory")

    def _block_header(self, block: dict[str, Any], pointer: str) -> None:
        self.text_object(
            block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, "header text", plain_only=True
        )

    def _block_actions(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.fail(f"{pointer}/elements", "actions block must have elements")
            return
        self.max_items(elements, MAX_ACTIONS_ELEMENTS, f"{pointer}/elements", "actions elements")
        for i, element in enumerate(elements):
            self.element(element, f"{pointer}/elements/{i}")

    def _block_context(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.fail(f"{pointer}/elements", "context block must have elements")
            return
        self.max_items(elements, MAX_CONTEXT_ELEMENTS, f"{pointer}/elements", "context elements")

    def _block_input(self, block: dict[str, Any], pointer: str) -> None:
        self.text_object(
            block.get("label"), f"{pointer}/label", MAX_INPUT_LABEL, "input label", plain_only=True
        )
        if block.get("element") is None:
            self.fail(f"{pointer}/element", "input block must have an element")
        else:
            self.element(block["element"], f"{pointer}/element")

    def _block_other(self, block: dict[str, Any], pointer: str) -> None:
        """Blocks without limits that Steward can reach: only the type is checked."""

    def blocks(self, blocks: Any, pointer: str, limit: int, surface: str) -> None:
        if not isinstance(blocks, list):
            self.fail(pointer, "blocks must be an array")
            return
        self.max_items(blocks, limit, pointer, f"blocks in a {surface}")
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}", seen)


def validate_message_blocks(blocks: Any) -> None:
    """Check a message's ``blocks``; raises BlockKitError (Slack: ``invalid_blocks``)."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS, "message")
    if checker.errors:
        raise BlockKitError(checker.errors)


def validate_view(view: Any, expected_type: str | None = None) -> None:
    """Check a modal or home view; raises BlockKitError (Slack: ``invalid_arguments``)."""
    checker = _Checker()
    if not isinstance(view, dict):
        raise BlockKitError(["[ERROR] view must be an object [json-pointer:/view]"])
    kind = view.get("type")
    if kind not in ("modal", "home") or (expected_type and kind != expected_type):
        wanted = expected_type or "modal or home"
        checker.fail("/view/type", f"view type must be {wanted}, got {kind!r}")
    if kind == "modal":
        if view.get("title") is None:
            checker.fail("/view/title", "a modal must have a title")
        else:
            checker.text_object(
                view["title"], "/view/title", MAX_VIEW_TITLE, "modal title", plain_only=True
            )
        for key, limit in (("submit", MAX_VIEW_SUBMIT), ("close", MAX_VIEW_CLOSE)):
            if view.get(key) is not None:
                checker.text_object(
                    view[key], f"/view/{key}", limit, f"modal {key}", plain_only=True
                )
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            checker.fail("/view/submit", "a modal with input blocks must have a submit button")
    checker.max_len(
        view.get("private_metadata"),
        MAX_PRIVATE_METADATA,
        "/view/private_metadata",
        "private_metadata",
    )
    checker.max_len(view.get("callback_id"), MAX_CALLBACK_ID, "/view/callback_id", "callback_id")
    checker.max_len(view.get("external_id"), MAX_EXTERNAL_ID, "/view/external_id", "external_id")
    checker.blocks(view.get("blocks"), "/view/blocks", MAX_VIEW_BLOCKS, f"{kind or 'view'}")
    if checker.errors:
        raise BlockKitError(checker.errors)


def check_message_text(text: Any) -> bool:
    """True when ``text`` fits Slack's 40,000-character message limit."""
    return not isinstance(text, str) or len(text) <= MAX_MESSAGE_TEXT


def find_element(blocks: list[Any], action_id: str, block_id: str | None = None) -> list[tuple]:
    """Every interactive element with ``action_id``, as (block, element) pairs.

    Used by the control API's ``click`` to fill in what Slack would send for the
    element that the user pressed.
    """
    found: list[tuple] = []
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements") or [])
        elif block.get("type") == "section" and block.get("accessory"):
            candidates = [block["accessory"]]
        elif block.get("type") == "input" and block.get("element"):
            candidates = [block["element"]]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                found.append((block, element))
    return found
