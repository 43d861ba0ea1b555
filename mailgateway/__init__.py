"""mailgateway."""
