"""People as the record knows them: an email address, a Slack user, a name, or several."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework.codenames import free_code_names, new_code_name
from core.infra.crypto import lookup_hashes
from core.infra.models import Person


@dataclass(frozen=True)
class Contact:
    """What an adapter knows about someone; any field may be missing."""

    email: str | None = None
    slack_user_id: str | None = None
    display_name: str | None = None

    def normalised(self) -> Contact:
        email = self.email.strip().lower() if self.email else None
        name = self.display_name.strip()[:255] if self.display_name else None
        return Contact(email=email or None, slack_user_id=self.slack_user_id, display_name=name)

    @property
    def is_empty(self) -> bool:
        return not (self.email or self.slack_user_id or self.display_name)


def find_or_create_person(session: Session, contact: Contact) -> Person:
    """Reuse the person already known by email or Slack ID, so cases link to one another."""
    contact = contact.normalised()
    person = _pending_match(session, contact)
    with session.no_autoflush:  # looking someone up should not force the whole case out early
        if person is None and contact.slack_user_id:
            person = session.scalars(
                select(Person)
                .where(Person.slack_user_id_hash.in_(lookup_hashes(contact.slack_user_id)))
                .limit(1)
            ).first()
        if person is None and contact.email:
            person = session.scalars(
                select(Person).where(Person.email_hash.in_(lookup_hashes(contact.email))).limit(1)
            ).first()
    if person is None:
        person = Person(
            email=contact.email,
            slack_user_id=contact.slack_user_id,
            display_name=contact.display_name,
            code_name=free_person_code_name(session),
        )
        session.add(person)
        return person
    if contact.email and not person.email:
        person.email = contact.email
    if contact.slack_user_id and not person.slack_user_id:
        person.slack_user_id = contact.slack_user_id
    if contact.display_name and not person.display_name:
        person.display_name = contact.display_name
    return person


def new_person_code_name() -> str:
    """A person's code name carries a number: there are far more people than cases."""
    return new_code_name(suffix=True)


def free_person_code_name(session: Session) -> str:
    """A person's code name nobody holds yet, nor anyone added in this unit of work."""
    pending = {obj.code_name for obj in session.new if isinstance(obj, Person)}
    return free_code_names(session.connection(), 1, people=True, avoid=pending)[0]


def code_name_of(person: Person) -> str:
    """The person's code name, given now if they were recorded before people had one."""
    if not person.code_name:
        session = Session.object_session(person)
        person.code_name = (
            free_person_code_name(session) if session is not None else new_person_code_name()
        )
    return person.code_name


def _pending_match(session: Session, contact: Contact) -> Person | None:
    """A person added earlier in this same unit of work (not yet visible to queries)."""
    for obj in session.new:
        if not isinstance(obj, Person):
            continue
        if contact.slack_user_id and obj.slack_user_id == contact.slack_user_id:
            return obj
        if contact.email and obj.email == contact.email:
            return obj
    return None


def is_contact(person: Person, contact: Contact) -> bool:
    """Whether a person on the record is the one an adapter knows by this Slack ID or address.

    Every "is this the same person" question goes through here (and through
    `find_or_create_person`), so how identities are compared lives in one module. The
    keyed hashes are compared, as in a lookup, so a blanked (expunged) person matches no one.
    """
    contact = contact.normalised()
    if contact.slack_user_id and person.slack_user_id_hash in lookup_hashes(contact.slack_user_id):
        return True
    return bool(contact.email and person.email_hash in lookup_hashes(contact.email))
