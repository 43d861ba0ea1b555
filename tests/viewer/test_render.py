"""Block Kit and mrkdwn as the viewer renders them: Slack's formatting, and nothing unescaped."""

from __future__ import annotations

from html.parser import HTMLParser

from core.policy.loading import load_code
from slackapp.blocks.report_form import report_modal
from slackapp.blocks.thread import RootFacts, root_blocks
from slackapp.emulator.viewer.blocks import Surface, render_blocks
from slackapp.emulator.viewer.mrkdwn import Names, mrkdwn, plain_text

NAMES = Names(
    users={
        "U_ALEX": {"id": "U_ALEX", "real_name": "Alex Rivera", "display_name": "alex"},
        "U_STEW1": {"id": "U_STEW1", "real_name": "Sam Steward", "display_name": ""},
    },
    channels={"C_GENERAL": {"id": "C_GENERAL", "name": "general"}},
    bot={"user_id": "U_STEWARDBOT", "bot_id": "B_STEWARD", "real_name": "Steward"},
)
ALLOWED_TAGS = {
    "a", "b", "i", "s", "code", "pre", "br", "blockquote", "ul", "ol", "li", "span", "div",
    "h3", "hr", "button", "select", "option", "input", "textarea", "label",
}  # fmt: skip


class TagAudit(HTMLParser):
    """Every tag and attribute in a fragment, to prove untrusted text made none of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend(attrs)


def audit(fragment: str) -> TagAudit:
    parser = TagAudit()
    parser.feed(fragment)
    return parser


def test_mrkdwn_emphasis_code_and_emoji() -> None:
    html = mrkdwn("*Claimed by:* _soon_ ~gone~ `x < y` :scales: :no_such_emoji:", NAMES)
    assert html == (
        "<b>Claimed by:</b> <i>soon</i> <s>gone</s> <code>x &lt; y</code> ⚖️ :no_such_emoji:"
    )


def test_mrkdwn_leaves_markers_inside_words_alone() -> None:
    assert mrkdwn("snake_case_name and 2*3*4", NAMES) == "snake_case_name and 2*3*4"


def test_mrkdwn_mentions_show_names() -> None:
    html = mrkdwn("<@U_ALEX> and <@U_STEW1> in <#C_GENERAL> <!channel> <@U_STEWARDBOT>", NAMES)
    assert html == (
        '<span class="mention">@alex</span> and <span class="mention">@Sam Steward</span> in '
        '<span class="mention">#general</span> <span class="mention">@channel</span> '
        '<span class="mention">@Steward</span>'
    )


def test_mrkdwn_links_only_for_safe_schemes() -> None:
    html = mrkdwn("<https://example.org/a?b=1&amp;c=2|the code> <javascript:alert(1)|click>", NAMES)
    assert html == (
        '<a href="https://example.org/a?b=1&amp;c=2" target="_blank" '
        'rel="noopener noreferrer">the code</a> click'
    )


def test_mrkdwn_lists_quotes_and_preformatted_blocks() -> None:
    html = mrkdwn("Steps:\n• one\n• *two*\n>quoted\n>still\n```a <b>\nc```", NAMES)
    assert html == (
        "Steps:<br><ul><li>one</li><li><b>two</b></li></ul>"
        "<blockquote>quoted<br>still</blockquote><pre>a &lt;b&gt;\nc</pre>"
    )


def test_slack_escapes_are_shown_as_the_characters_they_stand_for() -> None:
    assert mrkdwn("a &lt;b&gt; &amp; c", NAMES) == "a &lt;b&gt; &amp; c"


def test_untrusted_text_never_becomes_markup() -> None:
    attack = '<script>alert(1)</script> "><img src=x onerror=alert(1)> <a href=javascript:x>'
    escaped = attack.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": attack}},
        {"type": "section", "text": {"type": "mrkdwn", "text": attack + escaped}},
        {"type": "section", "fields": [{"type": "plain_text", "text": attack}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escaped}]},
        {
            "type": "actions",
            "block_id": attack,
            "elements": [
                {
                    "type": "button",
                    "action_id": attack,
                    "value": attack,
                    "text": {"type": "plain_text", "text": attack},
                    "url": "javascript:alert(1)",
                },
                {
                    "type": "static_select",
                    "action_id": "s",
                    "options": [{"text": {"type": "plain_text", "text": attack}, "value": attack}],
                },
            ],
        },
        {
            "type": "input",
            "block_id": "i",
            "label": {"type": "plain_text", "text": attack},
            "element": {"type": "plain_text_input", "action_id": "i", "initial_value": attack},
        },
        {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": attack}]}
            ],
        },
        {"type": attack},
    ]
    html = render_blocks(blocks, Surface(NAMES))
    found = audit(html)
    assert found.tags <= ALLOWED_TAGS, found.tags - ALLOWED_TAGS
    names = {name for name, _ in found.attributes}
    assert not any(name.startswith("on") for name in names), names
    assert all("javascript" not in (v or "") for n, v in found.attributes if n in ("href", "src"))
    assert "data-url" not in names  # a button's javascript: URL is dropped


def test_the_report_form_renders_every_input_as_slack_shows_it() -> None:
    view = report_modal(load_code("contributor-covenant-2.1"))
    html = render_blocks(view["blocks"], Surface(NAMES))
    assert (
        '<textarea class="bk-textarea" rows="4" data-action-id="what" data-block-id="what"' in html
    )
    assert 'data-type="static_select" data-input>' in html
    assert 'data-type="multi_users_select" data-input multiple size="2">' in html
    assert '<option value="U_ALEX">alex</option>' in html
    assert 'data-type="checkboxes" data-input>' in html
    assert 'type="radio" name="anonymous" value="no"' in html
    assert (
        'value="no" data-option=' in html and "checked><span>Yes, they may know it was me" in html
    )
    assert "What happened?</label>" in html
    assert 'What kind of behaviour was it? <span class="bk-optional">(optional)</span>' in html
    assert html.count('<div class="bk-error" role="alert"></div>') == sum(
        1 for b in view["blocks"] if b["type"] == "input"
    )


def test_submitted_state_wins_over_initial_values() -> None:
    block = {
        "type": "input",
        "block_id": "contact",
        "label": {"type": "plain_text", "text": "How?"},
        "element": {
            "type": "radio_buttons",
            "action_id": "contact",
            "options": [
                {"text": {"type": "plain_text", "text": "DM"}, "value": "slack_dm"},
                {"text": {"type": "plain_text", "text": "Email"}, "value": "email"},
            ],
            "initial_option": {"text": {"type": "plain_text", "text": "DM"}, "value": "slack_dm"},
        },
    }
    state = {
        "contact": {"contact": {"type": "radio_buttons", "selected_option": {"value": "email"}}}
    }
    html = render_blocks([block], Surface(NAMES, state))
    assert 'value="email" data-option=' in html
    assert html.index("checked") > html.index('value="email"')
    assert html.count("checked") == 1


def test_other_elements_in_inputs_and_messages() -> None:
    blocks = [
        {"type": "divider"},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Due*"},
            "accessory": {
                "type": "overflow",
                "action_id": "more",
                "options": [{"text": {"type": "plain_text", "text": "Snooze"}, "value": "s"}],
            },
        },
        {
            "type": "actions",
            "block_id": "a",
            "elements": [
                {"type": "datepicker", "action_id": "d", "initial_date": "2026-12-01"},
                {"type": "users_select", "action_id": "u", "initial_user": "U_ALEX"},
            ],
        },
        {
            "type": "input",
            "block_id": "f",
            "label": {"type": "plain_text", "text": "Evidence"},
            "element": {"type": "file_input", "action_id": "f"},
        },
        {"type": "video"},
    ]
    html = render_blocks(blocks, Surface(NAMES))
    assert '<hr class="bk-divider">' in html
    assert 'data-type="overflow" data-act="choose"><option value="">⋯</option>' in html
    assert 'type="date" data-action-id="d" data-block-id="a" data-type="datepicker" ' in html
    assert 'value="2026-12-01"' in html
    assert '<option value="U_ALEX" selected>alex</option>' in html
    assert 'data-type="file_input" data-input>📎' in html
    assert '<div class="bk-unknown">[video block]</div>' in html


def test_the_case_root_shows_its_buttons_with_their_values() -> None:
    facts = RootFacts(
        case_id=7, ref="COC-7", code_name="amber-heron", source="email", category=None,
        severity=None, status="new", claimed_by=None, next_deadline=None, escalated=False,
        immediate_danger=False, has_respondent_contact=False, anonymous=False,
    )  # fmt: skip
    html = render_blocks(root_blocks(facts), Surface(NAMES))
    assert '<h3 class="bk-header">COC-7 · amber-heron</h3>' in html
    assert (
        '<button type="button" class="btn" data-act="click" data-action-id="case_claim" '
        'data-block-id="case_actions_7" data-type="button" data-value="7" data-has-value="1">'
        "Claim</button>"
    ) in html
    assert "🆕 New, not yet acknowledged" in html


def test_plain_text_is_escaped_and_keeps_emoji_unless_told_not_to() -> None:
    assert plain_text({"type": "plain_text", "text": "<b> :zzz:"}) == "&lt;b&gt; 💤"
    assert plain_text({"type": "plain_text", "text": ":zzz:", "emoji": False}) == ":zzz:"


def test_every_steward_form_and_home_renders_without_an_unknown_element() -> None:
    from slackapp.blocks.decision_forms import (
        appeal_decision_modal,
        appeal_modal,
        decision_modal,
        late_appeal_modal,
    )
    from slackapp.blocks.home import HomeCase, home_view
    from slackapp.blocks.steward_forms import ask_modal, reply_modal

    case = HomeCase("COC-1", "amber-heron", "triage", "2026-11-30", "U_STEW1", "ack by Tuesday")
    views = [
        decision_modal(1, "COC-1", load_code("contributor-covenant-2.1"), "Appeals: 30 days."),
        appeal_decision_modal(1, "COC-1", load_code("contributor-covenant-2.1")),
        late_appeal_modal(1, "COC-1"),
        appeal_modal(1, "COC-1"),
        reply_modal(1, "COC-1", "email", anonymous=False),
        ask_modal(1, "COC-1", "email"),
        home_view([case], [case]),
    ]
    for view in views:
        html = render_blocks(view["blocks"], Surface(NAMES))
        assert "bk-unknown" not in html, view
    decision = render_blocks(
        decision_modal(1, "COC-1", load_code("contributor-covenant-2.1"), "Appeals: 30 days.")[
            "blocks"
        ],
        Surface(NAMES),
    )
    assert 'type="date" data-action-id="ban_until" data-block-id="ban_until"' in decision
    home = render_blocks(home_view([case], [case])["blocks"], Surface(NAMES))
    assert '<span class="mention">@Sam Steward</span>' in home
