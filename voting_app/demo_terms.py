"""The demo's term between its two sessions: the term's dates, staff contacts, a resignation
after the sixth session and a by-election before the seventh, recorded as staff would (through
the services, so the rosters and the audit log follow)."""

from datetime import date

from voting_app.clock import beijing_today
from voting_app.db import db
from voting_app.registry.models import Term
from voting_app.registry.roster import RosterRow
from voting_app.registry.terms import RESIGNED
from voting_app.sessions import service as sessions

TERM_STARTS, TERM_ENDS = date(2021, 12, 28), date(2028, 12, 31)
RESIGNED_ON, ELECTED_ON = date(2027, 6, 15), date(2027, 9, 20)


def demo_contact(number: int) -> str:
    """A made-up mobile number (138-0710-xxxx) per deputy: for the staff's pages only."""
    return f"1380710{number:04d}"


def date_the_term(term: Term) -> None:
    """The demo's 第十九届 runs from December 2021 to the end of 2028, so both sessions fall in it."""
    term.starts_on, term.ends_on = TERM_STARTS, TERM_ENDS
    db.session.flush()


def seed_office_changes(actor: str, term: Term) -> None:
    """Between the sessions: one deputy resigns (the sixth session keeps them, the seventh
    does not), and a by-election brings a new deputy onto the seventh session's roster."""
    today = max(beijing_today(), ELECTED_ON)  # the demo's calendar runs ahead of the clock
    leaving = next(person for person in term.deputies_in_roster_order if person.number == "017")
    sessions.record_office_change(
        actor, leaving, RESIGNED, RESIGNED_ON, "因工作调动辞去代表职务，经区人大常委会第二十次会议接受", today
    )
    numbers = [int(person.number) for person in term.deputies if person.number.isdecimal()]
    number = max(numbers) + 1
    sessions.add_elected_deputy(
        actor,
        term,
        RosterRow(0, f"{number:03d}", "钟文华", leaving.delegation, leaving.unit, contact=demo_contact(number)),
        ELECTED_ON,
        today,
        "区第十九届人大常委会补选",
    )
