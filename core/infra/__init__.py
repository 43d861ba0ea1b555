"""The plumbing every part of Steward stands on; it knows no domain rule.

Settings and their checks, the database (engines, unit of work, tables, sealed
columns, keys and their rotation), the clock, group commit, the outbox and the
delivery ports, the append-only audit trail and its hash chain, logging and the
privacy filter on library loggers, metrics, health endpoints, the scheduler
election, and the template loader for Steward's own words (`core/templates/`).

A module belongs here if any domain package may use it and it imports nothing
from them: this package imports only from itself.
"""
