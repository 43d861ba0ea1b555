"""Block Kit builders: every message, modal and Home tab Steward shows in Slack."""
