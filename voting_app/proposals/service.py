"""Residents' proposals: taken in at the liaison stations, screened by staff into candidates,
merged or declined with a reason the proposer reads. Services flush; callers commit."""

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, or_, select

from voting_app import audit
from voting_app.ballots.counting import SATISFACTION
from voting_app.ballots.models import ANNOUNCED, CONFIRMED, DRAFT, VOID, Candidate, Round
from voting_app.ballots.service import add_candidate, count_round
from voting_app.codes import new_code, normalise_code
from voting_app.db import db, utcnow
from voting_app.errors import ConflictError, DomainError
from voting_app.images import CleanImage
from voting_app.paging import Page, page_of, search_words
from voting_app.projects.delivery import photo_rows
from voting_app.projects.models import Project
from voting_app.projects.schedule import beijing_today
from voting_app.proposals.models import (ACCEPTED, CHANNELS, CHANNELS_AT_A_STATION, DECLINED, MERGED, RECEIVED, RESERVED,
                                         STATION_QR, STATUSES, CollectionWindow, DeclineReason, LiaisonStation, Proposal,
                                         ProposalMerge, RECEPTION_DAY, proposal_decline_reasons)
from voting_app.proposals.status import CHANNEL_LABELS
from voting_app.proposals.summary import Fact
from voting_app.proposals.window import Collection, Window, collection_on
from voting_app.registry import grid_service
from voting_app.registry.grids import CENTRE
from voting_app.registry.models import Grid

THEMES = (
    "roads_transport",
    "water_power",
    "education",
    "health",
    "elderly_childcare",
    "environment",
    "culture_sports",
    "community",
    "other",
)
TRACKING_CODE_LENGTH = 10
MAX_PROPOSAL_PHOTOS = 1


def tracking_code_shown(code: str) -> str:
    """Printed and spoken in two halves: 7KQ4M-X9TBA."""
    return f"{code[:5]}-{code[5:]}"


def _new_tracking_code() -> str:
    while True:
        code = new_code(TRACKING_CODE_LENGTH)
        if db.session.scalar(select(Proposal.id).where(Proposal.tracking_code == code)) is None:
            return code


def add_station(actor: str, name: str, address: str = "") -> LiaisonStation:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("A liaison station needs a name."))
    if db.session.scalar(select(LiaisonStation.id).where(LiaisonStation.name == name)) is not None:
        raise ConflictError(_l("A liaison station of this name exists already."))
    while True:
        code = new_code(6)
        if db.session.scalar(select(LiaisonStation.id).where(LiaisonStation.code == code)) is None:
            break
    station = LiaisonStation(name=name, address=" ".join((address or "").split()), code=code)
    db.session.add(station)
    db.session.flush()
    audit.record(actor, "station.add", f"station:{station.id}", name=name)
    return station


def station_by_code(code: str) -> LiaisonStation | None:
    return db.session.scalar(select(LiaisonStation).where(LiaisonStation.code == normalise_code(code)))


def windows() -> list[CollectionWindow]:
    return list(db.session.scalars(select(CollectionWindow).order_by(CollectionWindow.year.desc())))


def collection_today() -> Collection:
    """Whether the public form takes proposals today (Beijing's date)."""
    return collection_on([Window(w.year, w.opens_on, w.closes_on) for w in windows()], beijing_today())


def set_window(actor: str, year: int, opens_on: date, closes_on: date) -> Window:
    """Set or change a year's collection window; the caller warns when it is shorter than recommended."""
    if closes_on < opens_on:
        raise DomainError(_l("Collection cannot close before it opens."))
    if not (opens_on.year <= year <= closes_on.year):
        raise DomainError(_l("The window must include days of the year it is for."))
    for other in windows():
        if other.year != year and other.opens_on <= closes_on and opens_on <= other.closes_on:
            raise ConflictError(_l("This window overlaps the window of %(year)s.", year=other.year))
    row = db.session.scalar(select(CollectionWindow).where(CollectionWindow.year == year))
    if row is None:
        row = CollectionWindow(year=year)
        db.session.add(row)
    row.opens_on, row.closes_on = opens_on, closes_on
    db.session.flush()
    audit.record(actor, "collection.window", f"collection_window:{year}",
                 opens_on=opens_on.isoformat(), closes_on=closes_on.isoformat())
    return Window(year, opens_on, closes_on)


def submit_proposal(station: LiaisonStation | None, title: str, description: str, location: str, theme: str,
                    contact: str, images: list[CleanImage], channel: str = STATION_QR,
                    entered_by: str | None = None) -> Proposal:
    """A new proposal through one channel: a resident on the station's QR form or the online form,
    or staff entering it on a resident's behalf (`entered_by`, audited as theirs)."""
    title, description = " ".join((title or "").split()), (description or "").strip()
    if channel not in CHANNELS:
        raise DomainError(_l("Choose how the proposal reached you."))
    if station is None and channel in CHANNELS_AT_A_STATION:
        raise DomainError(_l("Choose the liaison station: this channel is at a station."))
    if len(title) < 4:
        raise DomainError(_l("Give the proposal a title of at least 4 characters."))
    if len(description) < 10:
        raise DomainError(_l("Describe the proposal in at least 10 characters."))
    if theme not in THEMES:
        raise DomainError(_l("Choose a theme."))
    if len(images) > MAX_PROPOSAL_PHOTOS:
        raise DomainError(_l("One photo per proposal."))
    proposal = Proposal(
        tracking_code=_new_tracking_code(),
        station_id=station.id if station is not None else None,
        channel=channel,
        title=title[:200],
        description=description[:4000],
        location=" ".join((location or "").split())[:200],
        theme=theme,
        contact=(contact or "").strip()[:100],
        photos=photo_rows(images, public=False),
    )
    db.session.add(proposal)
    db.session.flush()
    station_id = station.id if station is not None else None
    if entered_by is None:
        audit.record("resident", "proposal.submit", f"proposal:{proposal.id}", station=station_id, channel=channel)
    else:
        audit.record(entered_by, "proposal.enter", f"proposal:{proposal.id}", station=station_id, channel=channel)
    return proposal


def find_by_tracking_code(typed: str) -> Proposal | None:
    code = normalise_code(typed or "")
    if len(code) != TRACKING_CODE_LENGTH:
        return None
    return db.session.scalar(select(Proposal).where(Proposal.tracking_code == code))


def _require_received(proposal: Proposal) -> None:
    """Open for screening: just received, or kept in the reserve from an earlier year."""
    if proposal.status not in (RECEIVED, RESERVED):
        raise ConflictError(_l("This proposal has been screened already."))


def _screened(proposal: Proposal, actor_name: str, status: str) -> None:
    proposal.status = status
    proposal.screened_by_name = actor_name
    proposal.screened_at = utcnow()


def accept_proposal(actor: str, actor_name: str, proposal: Proposal, round_: Round, department: str = "",
                    investment: Decimal | None = None, planned_completion: date | None = None) -> Candidate:
    """Into a draft round's candidate list, carrying the proposal's title and description."""
    _require_received(proposal)
    if round_.method == SATISFACTION or round_.state != DRAFT:
        raise DomainError(_l("Proposals are accepted into a deputies' vote that is still in preparation."))
    if investment is not None and investment < 0:
        raise DomainError(_l("Amounts cannot be negative."))
    candidate = add_candidate(actor, round_, proposal.title, proposal.description, investment, department or "",
                              planned_completion, location=proposal.location)
    proposal.candidate_id = candidate.id
    _screened(proposal, actor_name, ACCEPTED)
    db.session.flush()
    audit.record(actor, "proposal.accept", f"proposal:{proposal.id}", candidate=candidate.id, round=round_.id)
    return candidate


@dataclass(frozen=True)
class MergePlan:
    """What merging `proposal` into `into` will do, for the confirmation page."""

    proposal: Proposal
    into: Proposal
    followers: int  # proposals merged into `proposal` earlier, which follow it
    supporters_after: int  # residents `into` stands for afterwards


def merge_plan(proposal: Proposal, into: Proposal) -> MergePlan:
    """Check the merge may be made, and say what it will do; changes nothing."""
    _require_received(proposal)
    if into.id == proposal.id:
        raise DomainError(_l("A proposal cannot be merged into itself."))
    if into.status not in (RECEIVED, ACCEPTED):
        raise DomainError(_l("Merge into a proposal that is open or accepted."))
    return MergePlan(proposal, into, supporters(proposal) - 1, supporters(into) + supporters(proposal))


def merge_proposal(actor: str, actor_name: str, proposal: Proposal, into: Proposal) -> None:
    """A duplicate joins the proposal it repeats; proposals merged into it follow, so chains stay one step."""
    merge_plan(proposal, into)
    for follower in db.session.scalars(select(Proposal).where(Proposal.merged_into_id == proposal.id)):
        follower.merged_into_id = into.id
    proposal.merged_into_id = into.id
    db.session.add(ProposalMerge(proposal_id=proposal.id, into_id=into.id))
    _screened(proposal, actor_name, MERGED)
    db.session.flush()
    audit.record(actor, "proposal.merge", f"proposal:{proposal.id}", into=into.id)


def unmerge_proposal(actor: str, proposal: Proposal) -> list[Proposal]:
    """Undo a merge: the proposal is open again as before it, and the proposals merged into it
    (directly or through others) stand with it again. Returns those that came back."""
    if proposal.status != MERGED:
        raise ConflictError(_l("This proposal is not merged, so there is nothing to undo."))
    was_into = proposal.merged_into_id
    came_back: list[Proposal] = []
    frontier = [proposal.id]
    while frontier:
        children = list(db.session.scalars(
            select(Proposal).join(ProposalMerge, ProposalMerge.proposal_id == Proposal.id)
            .where(ProposalMerge.into_id.in_(frontier)).order_by(Proposal.id)
        ))
        came_back += children
        frontier = [child.id for child in children]
    for follower in came_back:
        follower.merged_into_id = proposal.id
    db.session.execute(delete(ProposalMerge).where(ProposalMerge.proposal_id == proposal.id))
    proposal.status = RECEIVED
    proposal.merged_into_id = None
    proposal.screened_by_name = ""
    proposal.screened_at = None
    db.session.flush()
    audit.record(actor, "proposal.unmerge", f"proposal:{proposal.id}", was_into=was_into,
                 came_back=[follower.id for follower in came_back])
    return came_back


def decline_proposal(actor: str, actor_name: str, proposal: Proposal, reason_ids: list[int], explanation: str) -> None:
    """Declined for one or more reasons from the active list, with an optional explanation the proposer reads too."""
    chosen = active_reasons_named(reason_ids)
    if not chosen:
        raise DomainError(_l("Choose at least one reason from the list."))
    _require_received(proposal)
    proposal.decline_reasons = chosen
    proposal.decline_reason = (explanation or "").strip()[:2000]
    _screened(proposal, actor_name, DECLINED)
    db.session.flush()
    audit.record(actor, "proposal.decline", f"proposal:{proposal.id}", reasons=[reason.id for reason in chosen])


def active_reasons_named(reason_ids: list[int]) -> list[DeclineReason]:
    """The active reasons among these ids, in list order; retired or unknown ids are dropped."""
    if not reason_ids:
        return []
    return list(db.session.scalars(select(DeclineReason).where(DeclineReason.id.in_(reason_ids),
                                                               DeclineReason.is_active.is_(True))
                                   .order_by(DeclineReason.position, DeclineReason.id)))


def _not_elected(candidate: Candidate) -> bool:
    """Its vote is decided (void, or counted and confirmed) without electing it, and no runoff copy is pending or elected."""
    round_ = candidate.round
    if round_.state == VOID:
        decided = True
    elif round_.state in (CONFIRMED, ANNOUNCED):
        decided = candidate.id not in count_round(round_).elected
    else:
        decided = False
    runoffs = db.session.scalars(select(Candidate).where(Candidate.source_id == candidate.id)).all()
    return decided and all(_not_elected(runoff) for runoff in runoffs)


def may_reserve(proposal: Proposal) -> bool:
    """Received, or accepted as a candidate the deputies did not elect."""
    if proposal.status == RECEIVED:
        return True
    if proposal.status != ACCEPTED or proposal.candidate_id is None:
        return False
    return _not_elected(db.session.get(Candidate, proposal.candidate_id))


def reserve_proposal(actor: str, actor_name: str, proposal: Proposal, note: str) -> None:
    """Into the reserve (储备库), to be screened again next year; the candidate of a vote it lost stays in that vote's record."""
    note = (note or "").strip()
    if len(note) < 4:
        raise DomainError(_l("Say in at least 4 characters why it is kept in the reserve."))
    if not may_reserve(proposal):
        raise ConflictError(_l("Only a received proposal, or one accepted but not elected in a decided vote, can go to the reserve."))
    was = proposal.candidate_id
    proposal.candidate_id = None
    proposal.reserve_note = note[:2000]
    proposal.reserved_at = utcnow()
    _screened(proposal, actor_name, RESERVED)
    db.session.flush()
    audit.record(actor, "proposal.reserve", f"proposal:{proposal.id}", was_candidate=was)


def supporters(proposal: Proposal) -> int:
    """The proposal itself and its merged duplicates: how many residents asked for this."""
    return 1 + db.session.scalar(select(func.count(Proposal.id)).where(Proposal.merged_into_id == proposal.id))


def _listed(status: str | None, station_id: int | None, theme: str | None, search: str | None,
            from_reserve: bool = False, channel: str | None = None):
    query = select(Proposal)
    if status in STATUSES:
        query = query.where(Proposal.status == status)
    if channel in CHANNELS:
        query = query.where(Proposal.channel == channel)
    if from_reserve:
        query = query.where(Proposal.reserved_at.is_not(None))
    if station_id is not None:
        query = query.where(Proposal.station_id == station_id)
    if theme in THEMES:
        query = query.where(Proposal.theme == theme)
    for word in search_words(search):
        code = normalise_code(word)
        query = query.where(or_(
            Proposal.title.icontains(word, autoescape=True),
            Proposal.description.icontains(word, autoescape=True),
            Proposal.location.icontains(word, autoescape=True),
            *([Proposal.tracking_code.contains(code, autoescape=True)] if len(code) >= 4 else []),
        ))
    return query


def proposal_list(status: str | None = None, station_id: int | None = None, theme: str | None = None,
                  search: str | None = None, channel: str | None = None) -> list[Proposal]:
    return list(db.session.scalars(_listed(status, station_id, theme, search, channel=channel).order_by(Proposal.id.desc())))


def proposal_page(status: str | None = None, station_id: int | None = None, theme: str | None = None,
                  search: str | None = None, page: int | None = None,
                  from_reserve: bool = False, channel: str | None = None) -> tuple[list[Proposal], Page]:
    """One page of the screening list, newest first; the search matches title, description, place
    and tracking code, every typed word."""
    query = _listed(status, station_id, theme, search, from_reserve, channel)
    shown = page_of(db.session.scalar(select(func.count()).select_from(query.subquery())), page)
    rows = db.session.scalars(query.order_by(Proposal.id.desc()).offset(shown.offset).limit(shown.per_page))
    return list(rows), shown


@dataclass(frozen=True)
class CountRow:
    key: object  # a LiaisonStation or a theme key
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def counts_by_station() -> list[CountRow]:
    grouped: dict[int, dict[str, int]] = {}
    for station_id, status, number in db.session.execute(
        select(Proposal.station_id, Proposal.status, func.count()).group_by(Proposal.station_id, Proposal.status)
    ):
        grouped.setdefault(station_id, {})[status] = number
    stations = db.session.scalars(select(LiaisonStation).order_by(LiaisonStation.name)).all()
    rows = [CountRow(station, grouped.get(station.id, {})) for station in stations]
    return rows + ([CountRow(None, grouped[None])] if None in grouped else [])


def counts_by_grid(level: int) -> list[CountRow]:
    """Proposals by status for every grid at `level` (centre, unit grid or grid): one GROUP BY
    over the grid's ancestor of that level; a last row (key None) for those with no grid there."""
    column = grid_service.level_column(level)
    grouped: dict[int | None, dict[str, int]] = {}
    for key, status, number in db.session.execute(
        select(column, Proposal.status, func.count())
        .select_from(Proposal).outerjoin(Grid, Grid.id == Proposal.grid_id)
        .group_by(column, Proposal.status)
    ):
        grouped.setdefault(key, {})[status] = number
    rows = [CountRow(grid, grouped.get(grid.id, {})) for grid in grid_service.at_level(level)]
    if None in grouped:
        rows.append(CountRow(None, grouped[None]))
    return rows


def set_grid(actor: str, proposal: Proposal, grid_id: int | None) -> None:
    """The grid a proposal is about, set at screening."""
    if proposal.grid_id == grid_id:
        return
    proposal.grid_id = grid_id
    db.session.flush()
    audit.record(actor, "proposal.grid", f"proposal:{proposal.id}", grid=grid_id)


def counts_by_theme() -> list[CountRow]:
    grouped: dict[str, dict[str, int]] = {}
    for theme, status, number in db.session.execute(
        select(Proposal.theme, Proposal.status, func.count()).group_by(Proposal.theme, Proposal.status)
    ):
        grouped.setdefault(theme, {})[status] = number
    return [CountRow(theme, grouped.get(theme, {})) for theme in THEMES]


def draft_rounds() -> list[Round]:
    """Rounds a proposal can join: deputies' votes (not assessments) still in preparation."""
    return list(db.session.scalars(
        select(Round).where(Round.state == DRAFT, Round.method != SATISFACTION).order_by(Round.id.desc())
    ))


def candidates_behind(project: Project) -> set[int]:
    """The candidates a project stood as: its own, and those a runoff copied it from."""
    candidate_ids = set(db.session.scalars(select(Candidate.id).where(Candidate.project_id == project.id)))
    frontier = set(candidate_ids)
    while frontier:
        sources = set(db.session.scalars(select(Candidate.source_id).where(Candidate.id.in_(frontier),
                                                                            Candidate.source_id.is_not(None))))
        frontier = sources - candidate_ids
        candidate_ids |= sources
    return candidate_ids


def proposals_behind(project: Project) -> list[Proposal]:
    """The residents' proposals a project grew from, through its candidate and any runoff's source,
    and those staff merged into them (a merge always points at the proposal that stands now)."""
    candidate_ids = candidates_behind(project)
    if not candidate_ids:
        return []
    accepted = select(Proposal.id).where(Proposal.candidate_id.in_(candidate_ids))
    return list(db.session.scalars(select(Proposal).where(or_(Proposal.id.in_(accepted), Proposal.merged_into_id.in_(accepted)))
                                   .order_by(Proposal.id)))


def waiting_count() -> int:
    return db.session.scalar(select(func.count(Proposal.id)).where(Proposal.status == RECEIVED))


def project_of(candidate: Candidate) -> Project | None:
    """The project a candidate became, also when it passed in a runoff that copied it."""
    if candidate.project_id:
        return db.session.get(Project, candidate.project_id)
    runoff = db.session.scalar(select(Candidate).where(Candidate.source_id == candidate.id,
                                                       Candidate.project_id.is_not(None)))
    return db.session.get(Project, runoff.project_id) if runoff else None


def similar_proposals(proposal: Proposal, limit: int = 8) -> list[Proposal]:
    """Open or accepted proposals on the same theme, nearest station first: where duplicates hide."""
    same_station = Proposal.station_id == proposal.station_id
    return list(db.session.scalars(
        select(Proposal)
        .where(Proposal.id != proposal.id, Proposal.theme == proposal.theme, Proposal.status.in_((RECEIVED, ACCEPTED)))
        .order_by(same_station.desc(), Proposal.id.desc())
        .limit(limit)
    ))


@dataclass(frozen=True)
class SummaryDimension:
    """One breakdown of the public collection summary: the proposal column that gives a proposal's
    value, the headings, and every value in display order with its label (zeros shown too)."""

    name: str
    column: object
    heading: str
    row_heading: str
    none_label: str  # the row of proposals without a value
    rows: Callable[[], list[tuple[Hashable, str]]]


def _channel_rows() -> list[tuple[Hashable, str]]:
    return [(key, str(CHANNEL_LABELS[key])) for key in CHANNELS]


def _station_rows() -> list[tuple[Hashable, str]]:
    return [(station.id, station.name)
            for station in db.session.scalars(select(LiaisonStation).order_by(LiaisonStation.name))]


def _grid_centre_rows() -> list[tuple[Hashable, str]]:
    return [(grid.id, grid.name)
            for grid in db.session.scalars(select(Grid).where(Grid.level == CENTRE).order_by(Grid.code))]


# A proposal's grid centre (网格中心), read through its grid: the public summary stays ten rows
# long, not one row for each of 625 grids (staff see every level at /proposals/by-grid).
_GRID_CENTRE = select(Grid.centre_id).where(Grid.id == Proposal.grid_id).scalar_subquery()

# Adding a breakdown is one more entry here; the page, the CSV and the arithmetic
# (voting_app.proposals.summary) take every entry as it comes.
SUMMARY_DIMENSIONS = (
    SummaryDimension("channel", Proposal.channel, _l("By channel"), _l("Channel"), _l("No channel"), _channel_rows),
    SummaryDimension("station", Proposal.station_id, _l("By liaison station"), _l("Liaison station"),
                     _l("No station"), _station_rows),
    SummaryDimension("grid", _GRID_CENTRE, _l("By grid centre"), _l("Grid centre"), _l("No grid"), _grid_centre_rows),
    # Reception days (接待选民日) by station: the station of a reception-day proposal, None for the others.
    SummaryDimension("reception_station", case((Proposal.channel == RECEPTION_DAY, Proposal.station_id)),
                     _l("Reception days by liaison station"), _l("Liaison station"),
                     _l("Not from a reception day"), _station_rows),
)
BEIJING_OFFSET = timedelta(hours=8)  # created_at is UTC; a proposal's year is Beijing's


def summary_years() -> list[int]:
    """Years with proposals or a collection window, newest first."""
    years = {w.year for w in windows()}
    first, last = db.session.execute(select(func.min(Proposal.created_at), func.max(Proposal.created_at))).one()
    if first is not None:
        years |= set(range((first + BEIJING_OFFSET).year, (last + BEIJING_OFFSET).year + 1))
    return sorted(years, reverse=True)


def summary_facts(year: int | None = None) -> list[Fact]:
    """Every proposal received in the year (Beijing time; None: all years) as the summary sees it:
    status, reasons, elected and the breakdown keys. Nothing about the proposer is read."""
    query = select(Proposal.id, Proposal.status, Proposal.candidate_id, *(d.column for d in SUMMARY_DIMENSIONS))
    if year is not None:
        query = query.where(Proposal.created_at >= datetime(year, 1, 1) - BEIJING_OFFSET,
                            Proposal.created_at < datetime(year + 1, 1, 1) - BEIJING_OFFSET)
    rows = db.session.execute(query).all()
    reasons: dict[int, list[int]] = {}
    for proposal_id, reason_id in db.session.execute(
            select(proposal_decline_reasons.c.proposal_id, proposal_decline_reasons.c.reason_id)
            .join(Proposal, Proposal.id == proposal_decline_reasons.c.proposal_id)
            .where(Proposal.status == DECLINED)):
        reasons.setdefault(proposal_id, []).append(reason_id)
    elected = elected_candidates({row.candidate_id for row in rows if row.status == ACCEPTED and row.candidate_id})
    names = [d.name for d in SUMMARY_DIMENSIONS]
    return [
        Fact(status=row.status, reasons=tuple(sorted(reasons.get(row.id, ()))),
             is_elected=row.status == ACCEPTED and row.candidate_id in elected,
             keys=dict(zip(names, row[3:])))
        for row in rows
    ]


def elected_candidates(candidate_ids: set[int]) -> set[int]:
    """Those of these candidates the deputies elected in an announced vote, themselves or through a
    runoff that copied them; the count is the counting module's, read from the announced result."""
    elected_in: dict[int, set[int]] = {}

    def is_elected(candidate: Candidate) -> bool:
        round_ = candidate.round
        if round_.state == ANNOUNCED and round_.method != SATISFACTION:
            if round_.id not in elected_in:
                try:
                    elected_in[round_.id] = set(count_round(round_).elected)
                except ConflictError:
                    elected_in[round_.id] = set()
            if candidate.id in elected_in[round_.id]:
                return True
        runoffs = db.session.scalars(select(Candidate).where(Candidate.source_id == candidate.id)).all()
        return any(is_elected(runoff) for runoff in runoffs)

    if not candidate_ids:
        return set()
    candidates = db.session.scalars(select(Candidate).where(Candidate.id.in_(candidate_ids))).all()
    return {candidate.id for candidate in candidates if is_elected(candidate)}


def counts_by_channel() -> list[CountRow]:
    grouped: dict[str, dict[str, int]] = {}
    for channel, status, number in db.session.execute(
        select(Proposal.channel, Proposal.status, func.count()).group_by(Proposal.channel, Proposal.status)
    ):
        grouped.setdefault(channel, {})[status] = number
    return [CountRow(channel, grouped.get(channel, {})) for channel in CHANNELS]
