"""Sample frames of a tokened survey: draw N households from the household lists, verify a
draw from its recorded seed, print exactly the frame's households a code each, and the
frame's response rate.

Privacy: the database never learns which code went to which household. The frame's
households are stored (to audit and verify the draw) and the codes are stored (keyed hashes,
with the frame and a grid for results), in an order shuffled with `secrets` and with one
creation time, but no pairing: it exists only on the sheet printed in the one request that
creates the codes, which is neither cached nor logged. A code carries its household's grid
only where the frame holds at least frame_rules.MIN_HOUSEHOLDS_PER_CODE_GRID households.
"""

import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from surveys import rules
from surveys.frame_rules import FrameError, code_grids, draw, new_seed, response_rate
from surveys.models import TOKENED, FrameHousehold, HouseholdCode, SampleFrame, Survey
from voting_app import audit
from voting_app.codes import new_code
from voting_app.db import db, utcnow
from voting_app.errors import DomainError
from voting_app.registry import grid_service
from voting_app.registry.models import Grid, Household

HOUSEHOLD_CODE_LENGTH = 8
FRAME_ERRORS = {
    "too_large": _l("The household list holds fewer households than the frame's size. Choose a smaller size or more grids."),
    "bad_size": _l("A frame holds between 1 and 5000 households."),
    "empty_list": _l("No household is listed in the chosen grids. Import a household list first."),
}


def eligible_ids(scope_id: int | None) -> list[int]:
    """The households of every grid (None), or of a grid and everything under it."""
    query = select(Household.id)
    if scope_id is not None:
        query = query.join(Grid, Grid.id == Household.grid_id).where(
            or_(Grid.id == scope_id, Grid.parent_id == scope_id, Grid.unit_id == scope_id, Grid.centre_id == scope_id)
        )
    return list(db.session.scalars(query))


def frames_of(survey: Survey) -> list[SampleFrame]:
    return list(db.session.scalars(select(SampleFrame).where(SampleFrame.survey_id == survey.id).order_by(SampleFrame.id)))


def _drawn(survey: Survey, size: int, scope_id: int | None, seed: str) -> tuple[list[int], int]:
    if survey.mode != TOKENED:
        raise DomainError(_l("Household codes are for surveys answered with a code."))
    ids = eligible_ids(scope_id)
    try:
        return draw(ids, size, seed), len(ids)
    except FrameError as error:
        raise DomainError(FRAME_ERRORS[str(error)]) from error


def draw_frame(actor: str, survey: Survey, size: int, scope_id: int | None) -> SampleFrame:
    """A new frame of `size` households drawn with a new seed, recorded and audited."""
    seed = new_seed()
    chosen, list_size = _drawn(survey, size, scope_id, seed)
    frame = SampleFrame(survey_id=survey.id, size=size, seed=seed, grid_scope_id=scope_id, list_size=list_size, drawn_by=actor)
    frame.households = [FrameHousehold(household_id=household_id) for household_id in chosen]
    db.session.add(frame)
    db.session.flush()
    audit.record(actor, "survey.frame_draw", f"survey:{survey.id}", frame=frame.id, size=size, seed=seed,
                 grids=scope_id or "all", list_size=list_size)
    return frame


def redraw_frame(actor: str, frame: SampleFrame) -> SampleFrame:
    """Draw again with a new seed, only while no code of the frame is printed."""
    if frame.printed_at is not None:
        raise DomainError(_l("This frame's codes are printed: it can no longer be drawn again."))
    survey = db.session.get(Survey, frame.survey_id)
    seed = new_seed()
    chosen, list_size = _drawn(survey, frame.size, frame.grid_scope_id, seed)
    old_seed = frame.seed
    frame.households = [FrameHousehold(household_id=household_id) for household_id in chosen]
    frame.seed, frame.list_size, frame.drawn_by, frame.drawn_at = seed, list_size, actor, utcnow()
    db.session.flush()
    audit.record(actor, "survey.frame_redraw", f"survey:{survey.id}", frame=frame.id, size=frame.size, seed=seed,
                 old_seed=old_seed, grids=frame.grid_scope_id or "all", list_size=list_size)
    return frame


@dataclass(frozen=True)
class Verification:
    matches: bool
    list_size_now: int
    missing: int  # stored households the draw does not give again
    extra: int  # households the draw gives that are not stored


def verify_frame(frame: SampleFrame) -> Verification:
    """Run the draw again from the recorded seed over today's list and compare. Households
    added to the list since the draw make it differ (and list_size_now says so)."""
    ids = eligible_ids(frame.grid_scope_id)
    stored = {member.household_id for member in frame.households}
    try:
        again = set(draw(ids, frame.size, frame.seed))
    except FrameError:
        again = set()
    return Verification(again == stored, len(ids), len(stored - again), len(again - stored))


@dataclass(frozen=True)
class Slip:
    address: str
    grid: str
    code: str


def print_frame(actor: str, frame: SampleFrame, secret: str) -> list[Slip]:
    """A fresh one-time code for each of the frame's households, once: the slips (address and
    code) are returned for the sheet and never stored together."""
    if frame.printed_at is not None:
        raise DomainError(_l("This frame's codes were printed already: each is shown only once."))
    survey = db.session.get(Survey, frame.survey_id)
    households = list(db.session.execute(
        select(Household.address, Household.grid_id, Grid.code)
        .join(FrameHousehold, FrameHousehold.household_id == Household.id)
        .join(Grid, Grid.id == Household.grid_id)
        .where(FrameHousehold.frame_id == frame.id)
        .order_by(Grid.code, Household.address)
    ).all())
    parents = dict(db.session.execute(select(Grid.id, Grid.parent_id)).all())
    grids = code_grids([grid_id for _, grid_id, _ in households], parents)
    codes: list[str] = []
    taken: set[str] = set()
    while len(codes) < len(households):
        code = new_code(HOUSEHOLD_CODE_LENGTH)
        if code not in taken:
            taken.add(code)
            codes.append(code)
    stored = list(zip(codes, grids))
    secrets.SystemRandom().shuffle(stored)  # the rows' order says nothing of the sheet's order
    now = utcnow()
    db.session.add_all(
        HouseholdCode(survey_id=survey.id, frame_id=frame.id, code_hash=rules.code_hash(secret, code), grid_id=grid, created_at=now)
        for code, grid in stored
    )
    frame.printed_at = now
    db.session.flush()
    audit.record(actor, "survey.frame_print", f"survey:{survey.id}", frame=frame.id, count=len(codes))
    return [Slip(address, grid_code, f"{code[:4]}-{code[4:]}") for (address, _, grid_code), code in zip(households, codes)]


@dataclass(frozen=True)
class RateCell:
    grid: Grid | None
    size: int
    used: int
    is_suppressed: bool

    @property
    def rate_tenths(self) -> int | None:
        return response_rate(self.used, self.size)


@dataclass(frozen=True)
class FrameRate:
    frame: SampleFrame
    overall: RateCell
    cells: list[RateCell]


def frame_rate(frame: SampleFrame, level: int, minimum: int) -> FrameRate:
    """Codes used of the frame's size, overall and per grid at `level`; a cell of fewer than
    `minimum` households is suppressed. A cell of at least `minimum` households counts every
    code of its households (a code's grid is never coarser than such a cell)."""
    used_total = db.session.scalar(
        select(func.count(HouseholdCode.id)).where(HouseholdCode.frame_id == frame.id, HouseholdCode.used_at.is_not(None))
    ) or 0
    column = grid_service.level_column(level)
    sizes = dict(db.session.execute(
        select(column, func.count())
        .select_from(FrameHousehold)
        .join(Household, Household.id == FrameHousehold.household_id)
        .join(Grid, Grid.id == Household.grid_id)
        .where(FrameHousehold.frame_id == frame.id)
        .group_by(column)
    ).all())
    used = dict(db.session.execute(
        select(column, func.count())
        .select_from(HouseholdCode)
        .join(Grid, Grid.id == HouseholdCode.grid_id)
        .where(HouseholdCode.frame_id == frame.id, HouseholdCode.used_at.is_not(None))
        .group_by(column)
    ).all())
    grids = {grid.id: grid for grid in db.session.scalars(select(Grid).where(Grid.id.in_([key for key in sizes if key])))}
    cells = []
    for key in sorted(sizes, key=lambda k: grids[k].code if k in grids else ""):
        size = sizes[key]
        suppressed = size < minimum
        cells.append(RateCell(grids.get(key), size, 0 if suppressed else used.get(key, 0), suppressed))
    return FrameRate(frame, RateCell(None, frame.size, used_total, False), cells)
