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

import json
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 3000
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
MAX_URL = 3000
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_INPUT_LABEL = 2000
MAX_INPUT_HINT = 2000
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTION_DESCRIPTION = 75
MAX_SELECT_OPTIONS = 100
MAX_CHOICE_OPTIONS = 10  # radio buttons and checkboxes
MAX_OVERFLOW_OPTIONS = 5
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_INPUT_LENGTH = 3000  # plain_text_input min_length and max_length
MAX_IMAGE_ALT_TEXT = 2000
MAX_MESSAGE_TEXT = 40000
MAX_MESSAGE_BLOCKS_TEXT = 12000  # all text in one message's blocks: msg_blocks_too_long
MAX_VIEW_BYTES = 250_000

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
SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
TEXT_INPUTS = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "file_input",
        "rich_text_input",
    }
)
INTERACTIVE = (
    SELECTS
    | TEXT_INPUTS
    | {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "timepicker",
        "overflow",
        "radio_buttons",
        "workflow_button",
    }
)
ACTIONS_ELEMENTS = INTERACTIVE - TEXT_INPUTS
ACCESSORY_ELEMENTS = (INTERACTIVE | {"image"}) - TEXT_INPUTS - {"datetimepicker"}
INPUT_ELEMENTS = INTERACTIVE - {"button", "overflow", "workflow_button"}


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
        if kind == "mrkdwn" and "emoji" in obj:
            self.fail(f"{pointer}/emoji", f"{what}: emoji is only allowed on plain_text")
        if kind == "plain_text" and "verbatim" in obj:
            self.fail(f"{pointer}/verbatim", f"{what}: verbatim is only allowed on mrkdwn")
        text = obj.get("text")
        if not isinstance(text, str):
            self.fail(f"{pointer}/text", f"{what} must have a text string")
            return
        if not text:
            self.fail(f"{pointer}/text", f"must be more than 0 characters: {what} is empty")
        self.max_len(text, min(limit, MAX_TEXT), f"{pointer}/text", what)

    def option(self, option: Any, pointer: str, plain_only: bool) -> None:
        if not isinstance(option, dict):
            self.fail(pointer, "option must be an object")
            return
        self.text_object(
            option.get("text"), f"{pointer}/text", MAX_OPTION_TEXT, "option text", plain_only
        )
        value = option.get("value")
        if not isinstance(value, str) or not value:
            self.fail(f"{pointer}/value", "option must have a value string")
        self.max_len(value, MAX_OPTION_VALUE, f"{pointer}/value", "option value")
        if option.get("description") is not None:
            self.text_object(
                option["description"],
                f"{pointer}/description",
                MAX_OPTION_DESCRIPTION,
                "option description",
                plain_only,
            )
        self.max_len(option.get("url"), MAX_URL, f"{pointer}/url", "option url")

    def options(self, element: dict[str, Any], pointer: str, limit: int, plain: bool) -> None:
        """An element's ``options``, and its initial options, which must be among them."""
        options = element.get("options")
        groups = element.get("option_groups")
        if options is None and groups is None:
            if element["type"] in ("static_select", "multi_static_select", "overflow"):
                self.fail(f"{pointer}/options", "options or option_groups is required")
            elif element["type"] in ("radio_buttons", "checkboxes"):
                self.fail(f"{pointer}/options", "options is required")
            return
        every: list[Any] = []
        if options is not None:
            if not isinstance(options, list) or not options:
                self.fail(f"{pointer}/options", "options must be a non-empty array")
                return
            self.max_items(options, limit, f"{pointer}/options", f"{element['type']} options")
            for i, option in enumerate(options):
                self.option(option, f"{pointer}/options/{i}", plain)
            every += options
        for g, group in enumerate(groups if isinstance(groups, list) else []):
            inner = group.get("options") if isinstance(group, dict) else None
            for i, option in enumerate(inner if isinstance(inner, list) else []):
                self.option(option, f"{pointer}/option_groups/{g}/options/{i}", plain)
                every.append(option)
        known = [_option_key(o) for o in every if isinstance(o, dict)]
        initial = element.get("initial_option")
        chosen = [initial] if initial is not None else list(element.get("initial_options") or [])
        key = "initial_option" if initial is not None else "initial_options"
        for option in chosen:
            if not isinstance(option, dict) or _option_key(option) not in known:
                self.fail(f"{pointer}/{key}", f"{key} must match one of the options")

    def confirm(self, confirm: Any, pointer: str) -> None:
        if not isinstance(confirm, dict):
            self.fail(pointer, "confirm must be a confirmation dialog object")
            return
        for key, limit, plain in (
            ("title", MAX_CONFIRM_TITLE, True),
            ("text", MAX_CONFIRM_TEXT, False),
            ("confirm", MAX_CONFIRM_BUTTON, True),
            ("deny", MAX_CONFIRM_BUTTON, True),
        ):
            self.text_object(confirm.get(key), f"{pointer}/{key}", limit, f"confirm {key}", plain)

    def element(self, element: Any, pointer: str, allowed: frozenset[str]) -> None:
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            self.fail(pointer, "element must be an object with a type")
            return
        kind = element["type"]
        if kind not in allowed:
            self.fail(f"{pointer}/type", f"element type {kind!r} is not allowed here")
            return
        self.max_len(element.get("action_id"), MAX_ACTION_ID, f"{pointer}/action_id", "action_id")
        if element.get("placeholder") is not None:
            self.text_object(
                element["placeholder"],
                f"{pointer}/placeholder",
                MAX_PLACEHOLDER,
                "placeholder",
                plain_only=True,
            )
        if element.get("confirm") is not None:
            self.confirm(element["confirm"], f"{pointer}/confirm")
        if kind == "button":
            self.text_object(
                element.get("text"),
                f"{pointer}/text",
                MAX_BUTTON_TEXT,
                "button text",
                plain_only=True,
            )
            self.max_len(element.get("value"), MAX_BUTTON_VALUE, f"{pointer}/value", "button value")
            self.max_len(element.get("url"), MAX_URL, f"{pointer}/url", "button url")
            if element.get("style") not in (None, "primary", "danger"):
                self.fail(f"{pointer}/style", "button style must be primary or danger")
        elif kind == "image":
            self.max_len(element.get("image_url"), MAX_URL, f"{pointer}/image_url", "image_url")
            self.max_len(
                element.get("alt_text"), MAX_IMAGE_ALT_TEXT, f"{pointer}/alt_text", "alt_text"
            )
        elif kind in ("radio_buttons", "checkboxes"):
            self.options(element, pointer, MAX_CHOICE_OPTIONS, plain=False)
        elif kind == "overflow":
            self.options(element, pointer, MAX_OVERFLOW_OPTIONS, plain=True)
        elif kind in SELECTS:
            self.options(element, pointer, MAX_SELECT_OPTIONS, plain=True)
        elif kind == "plain_text_input":
            self._text_input(element, pointer)

    def _text_input(self, element: dict[str, Any], pointer: str) -> None:
        low, high = element.get("min_length"), element.get("max_length")
        for key, value in (("min_length", low), ("max_length", high)):
            if value is not None and (not isinstance(value, int) or value > MAX_INPUT_LENGTH):
                self.fail(
                    f"{pointer}/{key}",
                    f"{key} must be an integer no greater than {MAX_INPUT_LENGTH}",
                )
        if isinstance(low, int) and isinstance(high, int) and low > high:
            self.fail(f"{pointer}/min_length", "min_length must not exceed max_length")

    def unique_action_ids(self, elements: list[Any], pointer: str) -> None:
        """Slack refuses two interactive elements with one action_id in the same block."""
        seen: set[str] = set()
        for i, element in enumerate(elements):
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                if action_id in seen:
                    self.fail(
                        f"{pointer}/{i}/action_id",
                        f"duplicate action_id {action_id!r} in one block",
                    )
                seen.add(action_id)

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
            if not isinstance(block_id, str) or not block_id:
                self.fail(f"{pointer}/block_id", "block_id must be a non-empty string")
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
            self.element(block["accessory"], f"{pointer}/accessory", ACCESSORY_ELEMENTS)

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
            self.element(element, f"{pointer}/elements/{i}", ACTIONS_ELEMENTS)
        self.unique_action_ids(elements, f"{pointer}/elements")

    def _block_context(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.fail(f"{pointer}/elements", "context block must have elements")
            return
        self.max_items(elements, MAX_CONTEXT_ELEMENTS, f"{pointer}/elements", "context elements")
        for i, element in enumerate(elements):
            where = f"{pointer}/elements/{i}"
            if isinstance(element, dict) and element.get("type") == "image":
                self.element(element, where, frozenset({"image"}))
            else:
                self.text_object(element, where, MAX_TEXT, "context text")

    def _block_input(self, block: dict[str, Any], pointer: str) -> None:
        self.text_object(
            block.get("label"), f"{pointer}/label", MAX_INPUT_LABEL, "input label", plain_only=True
        )
        if block.get("hint") is not None:
            self.text_object(
                block["hint"], f"{pointer}/hint", MAX_INPUT_HINT, "input hint", plain_only=True
            )
        if block.get("element") is None:
            self.fail(f"{pointer}/element", "input block must have an element")
        else:
            self.element(block["element"], f"{pointer}/element", INPUT_ELEMENTS)

    def _block_image(self, block: dict[str, Any], pointer: str) -> None:
        self.max_len(block.get("image_url"), MAX_URL, f"{pointer}/image_url", "image_url")
        self.max_len(block.get("alt_text"), MAX_IMAGE_ALT_TEXT, f"{pointer}/alt_text", "alt_text")

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


def _option_key(option: dict[str, Any]) -> tuple[Any, Any]:
    """What makes two option objects the same option: its value and its text."""
    text = option.get("text")
    return option.get("value"), text.get("text") if isinstance(text, dict) else text


def validate_message_blocks(blocks: Any) -> None:
    """Check a message's ``blocks``; raises BlockKitError (Slack: ``invalid_blocks``)."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS, "message")
    if checker.errors:
        raise BlockKitError(checker.errors)


def blocks_text_length(value: Any) -> int:
    """Characters of text in every text object and rich-text run under ``value``.

    Slack refuses a message whose blocks hold more than MAX_MESSAGE_BLOCKS_TEXT
    in all (``msg_blocks_too_long``), even when every block is within its own limit.
    """
    if isinstance(value, list):
        return sum(blocks_text_length(item) for item in value)
    if not isinstance(value, dict):
        return 0
    text = value.get("text")
    if isinstance(text, str) and value.get("type") in ("plain_text", "mrkdwn", "text", "markdown"):
        return len(text)
    return sum(blocks_text_length(item) for item in value.values())


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
    if kind == "home":
        for key in ("submit", "close"):
            if view.get(key) is not None:
                checker.fail(f"/view/{key}", f"a home view cannot have {key}")
    checker.max_len(
        view.get("private_metadata"),
        MAX_PRIVATE_METADATA,
        "/view/private_metadata",
        "private_metadata",
    )
    checker.max_len(view.get("callback_id"), MAX_CALLBACK_ID, "/view/callback_id", "callback_id")
    checker.max_len(view.get("external_id"), MAX_EXTERNAL_ID, "/view/external_id", "external_id")
    checker.blocks(view.get("blocks"), "/view/blocks", MAX_VIEW_BLOCKS, f"{kind or 'view'}")
    size = len(json.dumps(view).encode())
    if size > MAX_VIEW_BYTES:
        checker.fail("/view", f"view is limited to {MAX_VIEW_BYTES} bytes, got {size}")
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
