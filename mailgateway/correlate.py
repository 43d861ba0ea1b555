"""Which case an incoming email belongs to, in a strict order of trust.

1. The unguessable reply token in `conduct+TOKEN@` (only we handed it out).
2. Our own Message-IDs in In-Reply-To or References (only we generated them).
3. A `[COC-n]` subject tag, but only from a sender already on that case;
   anyone can type a tag, so from a stranger it opens a new, flagged case.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.casework.cases import (
    case_for_our_message_ids,
    parse_ref,
    parties_with_address,
    party_by_token,
)
from core.infra.models import Case, Party
from core.infra.settings import Settings
from mailgateway.addresses import reply_token


@dataclass
class Correlation:
    case: Case | None
    party: Party | None
    via: str | None
    stranger_tag: str | None = None


def correlate(
    session: Session,
    settings: Settings,
    *,
    recipients: list[str],
    sender: str | None,
    message_ids: list[str],
    subject: str,
) -> Correlation:
    for address in recipients:
        token = reply_token(settings, address)
        party = party_by_token(session, token) if token else None
        if party is not None:
            return Correlation(case=party.case, party=party, via="reply-token")
    reference = case_for_our_message_ids(session, message_ids)
    if reference is not None:
        case = session.get(Case, reference.case_id)
        party = session.get(Party, reference.party_id) if reference.party_id else None
        return Correlation(case=case, party=party, via="message-id")
    number = parse_ref(subject)
    if number is None:
        return Correlation(case=None, party=None, via=None)
    case = session.get(Case, number)
    known = parties_with_address(session, case.id, sender) if (case and sender) else []
    if case is not None and known:
        return Correlation(case=case, party=known[0], via="subject-tag")
    return Correlation(case=None, party=None, via=None, stranger_tag=f"COC-{number}")
