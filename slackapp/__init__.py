"""slackapp."""
