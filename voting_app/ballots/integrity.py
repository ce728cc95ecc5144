"""Whether a counted round's stored ballots are still the ones the scrutineers confirmed.

At confirmation the board's digest is stored on the round and written into the audit log.
Changing a stored ballot afterwards changes the digest recomputed from the database;
changing the round's stored digest as well still disagrees with the audit log, whose own
hash chain shows any edit to that entry.
"""

from dataclasses import dataclass

from sqlalchemy import select

from voting_app.audit import AuditEntry
from voting_app.ballots.models import ANNOUNCED, CONFIRMED, Round
from voting_app.ballots.service import round_board
from voting_app.db import db


@dataclass(frozen=True)
class RoundIntegrity:
    round_id: int
    title: str
    digest_now: str
    digest_confirmed: str | None
    digest_logged: str | None

    @property
    def problems(self) -> list[str]:
        found = []
        if self.digest_now != self.digest_confirmed:
            found.append("the stored ballots no longer match the digest confirmed by the scrutineers")
        if self.digest_logged is None:
            found.append("the audit log holds no confirmation of this round")
        elif self.digest_logged != self.digest_confirmed:
            found.append("the round's confirmed digest differs from the one written in the audit log")
        return found


def check_round(round_: Round) -> RoundIntegrity:
    logged = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "round.confirm", AuditEntry.target == f"round:{round_.id}")
        .order_by(AuditEntry.id.desc())
    ).first()
    return RoundIntegrity(
        round_.id,
        round_.title,
        round_board(round_)["digest"],
        round_.board_digest,
        logged.details.get("digest") if logged is not None else None,
    )


def check_counted_rounds(round_id: int | None = None) -> list[RoundIntegrity]:
    query = select(Round).where(Round.state.in_((CONFIRMED, ANNOUNCED))).order_by(Round.id)
    if round_id is not None:
        query = query.where(Round.id == round_id)
    return [check_round(round_) for round_ in db.session.scalars(query)]
