"""Bolt listeners, one module per part of the conversation, each with `register(app, ctx)`."""
