"""How a report becomes a case: the parts that only intake needs.

Opening plain reports in bulk, evidence files and their limits, and a reporter's
anonymity (asked for at intake, revealed later). The case record itself is in
`core.casework`; the adapters (mail gateway, Slack) call in here and there.
"""
