"""What the record becomes once kept: exports, case files, patterns, reports, retention.

Reading cases out (`steward cases show --json`, `steward export`), people across
cases, the transparency report and its chart, and how long a closed case is kept
until it is expunged to a tombstone.
"""
