"""Deputy groups (代表小组) and their members. Services flush; the caller commits.

A group belongs to one term and holds that term's deputies, of any level (Fancheng's groups
meet with national, provincial, municipal and district deputies alike). A deputy may be in
several groups, typically one by place and one professional. The registry knows nothing of
projects: whoever deletes a group passes the projects it supervises, and a group that
supervises any is kept."""

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from voting_app import audit, table_files
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.registry.group_rules import (
    BULK_LINES_MAX,
    GROUP_KINDS,
    NAME_MAX,
    NOTE_MAX,
    REGIONAL,
    MembershipRow,
    TableProblem,
    clean_name,
    read_membership_table,
    read_pasted_numbers,
)
from voting_app.registry.models import DeputyGroup, GroupMembership, Term, TermDeputy
from voting_app.registry.roster import in_roster_order, matches, search_text


class GroupError(DomainError):
    """Bad input on a group's form, naming the field it belongs to."""

    def __init__(self, message, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LineProblem:
    line: int
    text: str
    problem: str  # a translated message


class BulkAddError(DomainError):
    """Some pasted lines cannot be added: nothing was added, each problem names its line."""

    def __init__(self, problems: list[LineProblem]):
        super().__init__(_l("Nothing was added: %(count)s line(s) to correct.", count=len(problems)))
        self.problems = problems


@dataclass(frozen=True)
class BulkResult:
    added: list[TermDeputy]
    already: list[TermDeputy]


def term_groups(term: Term, kind: str | None = None) -> list[DeputyGroup]:
    """The term's groups, by place first, then professional, each by name; members loaded."""
    query = (
        select(DeputyGroup)
        .where(DeputyGroup.term_id == term.id)
        .options(selectinload(DeputyGroup.memberships).selectinload(GroupMembership.deputy), selectinload(DeputyGroup.convener))
        .order_by(DeputyGroup.kind.desc(), DeputyGroup.name)
    )
    if kind in GROUP_KINDS:
        query = query.where(DeputyGroup.kind == kind)
    return list(db.session.scalars(query))


def all_groups() -> list[DeputyGroup]:
    """Every group of every term, newest term first: what a project's form offers."""
    return list(db.session.scalars(
        select(DeputyGroup).join(Term).order_by(Term.starts_on.desc().nulls_last(), Term.id.desc(),
                                                DeputyGroup.kind.desc(), DeputyGroup.name)
    ))


def groups_of_deputy(deputy: TermDeputy) -> list[DeputyGroup]:
    return list(db.session.scalars(
        select(DeputyGroup).join(GroupMembership).where(GroupMembership.term_deputy_id == deputy.id).order_by(DeputyGroup.name)
    ))


def group_ids_of_deputy(deputy: TermDeputy | None) -> set[int]:
    if deputy is None:
        return set()
    return set(db.session.scalars(select(GroupMembership.group_id).where(GroupMembership.term_deputy_id == deputy.id)))


def member_counts(group_ids: Sequence[int]) -> dict[int, int]:
    return dict(db.session.execute(
        select(GroupMembership.group_id, func.count()).where(GroupMembership.group_id.in_(group_ids)).group_by(GroupMembership.group_id)
    ).all())


def _checked(term: Term, name: str, kind: str, note: str, group: DeputyGroup | None = None) -> tuple[str, str]:
    name, note = clean_name(name), (note or "").strip()
    if not name:
        raise GroupError(_l("Enter the group's name."), "name")
    if len(name) > NAME_MAX:
        raise GroupError(_l("The name is too long: at most %(max)s characters.", max=NAME_MAX), "name")
    if kind not in GROUP_KINDS:
        raise GroupError(_l("Choose whether the group is by place, professional or ad hoc."), "kind")
    if len(note) > NOTE_MAX:
        raise GroupError(_l("The note is too long: at most %(max)s characters.", max=NOTE_MAX), "note")
    same = db.session.scalar(select(DeputyGroup.id).where(DeputyGroup.term_id == term.id, DeputyGroup.name == name))
    if same is not None and (group is None or same != group.id):
        raise GroupError(_l("This term already has a group named %(name)s.", name=name), "name")
    return name, note


def create_group(actor: str, term: Term, name: str, kind: str = REGIONAL, note: str = "") -> DeputyGroup:
    name, note = _checked(term, name, kind, note)
    group = DeputyGroup(term=term, name=name, kind=kind, note=note)
    db.session.add(group)
    db.session.flush()
    audit.record(actor, "group.create", f"deputy_group:{group.id}", term=term.id, name=name, kind=kind)
    return group


def update_group(actor: str, group: DeputyGroup, name: str, kind: str, note: str,
                 convener: TermDeputy | None) -> list[str]:
    """Rename, change its kind, note or convener; the convener must be one of its members."""
    name, note = _checked(group.term, name, kind, note, group)
    if convener is not None and convener.id not in {m.term_deputy_id for m in group.memberships}:
        raise GroupError(_l("The convener must be one of the group's members."), "convener_id")
    wanted = {"name": name, "kind": kind, "note": note, "convener_id": convener.id if convener else None}
    changed = {key: value for key, value in wanted.items() if getattr(group, key) != value}
    if not changed:
        return []
    details = {key: value for key, value in changed.items() if key != "note"}
    if "name" in changed:
        details["old_name"] = group.name
    for key, value in changed.items():
        setattr(group, key, value)
    db.session.flush()
    audit.record(actor, "group.update", f"deputy_group:{group.id}", fields=sorted(changed), **details)
    return sorted(changed)


def delete_group(actor: str, group: DeputyGroup, supervised: Sequence[str]) -> None:
    """Delete a group made by mistake, with its memberships; `supervised` names the projects it
    supervises (the projects area finds them), and a group that supervises any is kept."""
    if supervised:
        raise ConflictError(_l(
            "%(name)s supervises %(projects)s: choose another supervision group for the project(s) first, then delete it.",
            name=group.name, projects="、".join(supervised),
        ))
    audit.record(actor, "group.delete", f"deputy_group:{group.id}", name=group.name,
                 members=[membership.deputy.number for membership in group.memberships])
    db.session.delete(group)
    db.session.flush()


def _check_member(group: DeputyGroup, deputy: TermDeputy) -> None:
    if deputy.term_id != group.term_id:
        raise DomainError(_l("%(name)s is not a deputy of this group's term.", name=deputy.name))
    if deputy.left_office_on is not None:
        raise DomainError(_l("%(name)s has left office.", name=deputy.name))


def _is_member(group: DeputyGroup, deputy: TermDeputy) -> bool:
    return any(membership.term_deputy_id == deputy.id for membership in group.memberships)


def add_member(actor: str, group: DeputyGroup, deputy: TermDeputy) -> GroupMembership:
    _check_member(group, deputy)
    if _is_member(group, deputy):
        raise ConflictError(_l("%(name)s is already in %(group)s.", name=deputy.name, group=group.name))
    membership = GroupMembership(group=group, deputy=deputy)
    db.session.add(membership)
    db.session.flush()
    audit.record(actor, "group.member_add", f"deputy_group:{group.id}", number=deputy.number, name=deputy.name)
    return membership


def remove_member(actor: str, group: DeputyGroup, membership: GroupMembership) -> None:
    """Take a deputy out of a group; a convener who leaves the group is no longer its convener."""
    deputy = membership.deputy
    if group.convener_id == deputy.id:
        group.convener_id = None
    group.memberships.remove(membership)
    db.session.flush()
    audit.record(actor, "group.member_remove", f"deputy_group:{group.id}", number=deputy.number, name=deputy.name)


def _number_key(number: str) -> str:
    """Numbers compared as the roster search compares them: 1 and 001 are one number."""
    folded = search_text(number)
    return str(int(folded)) if folded.isdecimal() else folded


def same_number(one: str, other: str) -> bool:
    return _number_key(one) == _number_key(other)


def _deputies_by_number(term: Term) -> dict[str, TermDeputy]:
    return {_number_key(deputy.number): deputy for deputy in term.deputies}


def add_members_by_numbers(actor: str, group: DeputyGroup, text: str) -> BulkResult:
    """Add the deputies whose numbers are pasted one a line. Any line that names no deputy of
    the term, or one who has left office, stops the whole paste: nothing is added and each
    such line is named. Members already in the group and repeated lines are passed over."""
    lines = read_pasted_numbers(text)
    if not lines:
        raise GroupError(_l("Paste at least one deputy number."), "numbers")
    if len(lines) > BULK_LINES_MAX:
        raise GroupError(_l("At most %(max)s lines at a time.", max=BULK_LINES_MAX), "numbers")
    registry, problems = _deputies_by_number(group.term), []
    wanted: dict[int, TermDeputy] = {}
    for line in lines:
        deputy = registry.get(_number_key(line.number))
        if deputy is None:
            problems.append(LineProblem(line.line, line.number, str(_l("No deputy of this term has this number."))))
        elif deputy.left_office_on is not None:
            problems.append(LineProblem(line.line, line.number, str(_l("%(name)s has left office.", name=deputy.name))))
        else:
            wanted.setdefault(deputy.id, deputy)
    if problems:
        raise BulkAddError(problems)
    added = [deputy for deputy in wanted.values() if not _is_member(group, deputy)]
    already = [deputy for deputy in wanted.values() if _is_member(group, deputy)]
    for deputy in added:
        db.session.add(GroupMembership(group=group, deputy=deputy))
    db.session.flush()
    if added:
        audit.record(actor, "group.member_add", f"deputy_group:{group.id}", numbers=[d.number for d in added])
    return BulkResult(in_roster_order(added), in_roster_order(already))


def search_candidates(group: DeputyGroup, query: str, limit: int = 20) -> list[TermDeputy]:
    """The term's deputies in office, not yet in the group, that the search finds (number,
    name or delegation)."""
    if not search_text(query or ""):
        return []
    members = {membership.term_deputy_id for membership in group.memberships}
    found = [
        deputy for deputy in group.term.deputies
        if deputy.id not in members and deputy.left_office_on is None
        and matches(query, deputy.number, deputy.name, deputy.delegation)
    ]
    return in_roster_order(found)[:limit]


# Importing memberships from a file (代表证号, 代表小组)


@dataclass(frozen=True)
class ImportLine:
    line: int
    number: str
    group: str
    problem: str = ""  # a translated message; empty when the row can be imported


@dataclass(frozen=True)
class MembershipPreview:
    lines: list[ImportLine]
    added: int
    already: int
    new_groups: list[str]

    @property
    def problems(self) -> list[ImportLine]:
        return [line for line in self.lines if line.problem]

    @property
    def is_valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class MembershipFile:
    """A membership table checked against the term: what is wrong with the table itself (a file
    that does not read, a column missing, a cell empty), or else what importing it would do."""

    rows: list[MembershipRow]
    problems: list[TableProblem]
    preview: MembershipPreview | None = None

    @property
    def is_valid(self) -> bool:
        return self.preview is not None and self.preview.is_valid


def check_membership_file(term: Term, filename: str, data: bytes) -> tuple[list[list[str]], MembershipFile]:
    """The file's table (kept, sealed, for the import after the preview) and what it reads as."""
    return table_files.check_file(
        filename, data, lambda table: check_membership_table(term, table), lambda code: MembershipFile([], [TableProblem(0, code)])
    )


def check_membership_table(term: Term, table: list[list[str]]) -> MembershipFile:
    rows, problems = read_membership_table(table)
    return MembershipFile(rows, problems, None if problems else preview_memberships(term, rows))


def _salt(term: Term) -> str:
    return f"group-import:{term.id}"


def seal_table(secret: str, term: Term, table: list[list[str]]) -> str:
    """The checked table sealed for the preview's Import button, good for this term's page only."""
    return table_files.seal_table(secret, _salt(term), table)


def import_sealed(actor: str, term: Term, secret: str, sealed: str) -> MembershipPreview | None:
    """Import the table a preview sealed, checked again against the term's registry and groups;
    None when the seal is not valid for this term or the file no longer passes: nothing is stored."""
    return table_files.import_sealed(
        secret, _salt(term), sealed, lambda table: check_membership_table(term, table),
        lambda checked: import_memberships(actor, term, checked.rows),
    )


def preview_memberships(term: Term, rows: list[MembershipRow]) -> MembershipPreview:
    """What importing the rows into the term would do, row by row. Reads only."""
    registry = _deputies_by_number(term)
    groups = {group.name: group for group in term_groups(term)}
    existing = {(m.group_id, m.term_deputy_id) for group in groups.values() for m in group.memberships}
    lines, added, already, new_groups, seen = [], 0, 0, [], set()
    for row in rows:
        deputy = registry.get(_number_key(row.number))
        problem = ""
        if deputy is None:
            problem = str(_l("No deputy of this term has this number."))
        elif deputy.left_office_on is not None:
            problem = str(_l("%(name)s has left office.", name=deputy.name))
        lines.append(ImportLine(row.line, row.number, row.group, problem))
        if problem:
            continue
        group = groups.get(row.group)
        if group is None and row.group not in new_groups:
            new_groups.append(row.group)
        key = (row.group, deputy.id)
        if key in seen:
            continue
        seen.add(key)
        if group is not None and (group.id, deputy.id) in existing:
            already += 1
        else:
            added += 1
    return MembershipPreview(lines, added, already, new_groups)


def import_memberships(actor: str, term: Term, rows: list[MembershipRow]) -> MembershipPreview:
    """Put each row's deputy in its group (a group not yet in the term is added, by place);
    the same file twice changes nothing. Refuses rows with problems: check with the preview."""
    preview = preview_memberships(term, rows)
    if not preview.is_valid:
        raise ValueError("refusing to import memberships with problems")
    registry = _deputies_by_number(term)
    groups = {group.name: group for group in term_groups(term)}
    for name in preview.new_groups:
        groups[name] = create_group(actor, term, name, REGIONAL)
    added = 0
    for row in rows:
        group, deputy = groups[row.group], registry[_number_key(row.number)]
        if not _is_member(group, deputy):
            group.memberships.append(GroupMembership(deputy=deputy))
            added += 1
    db.session.flush()
    if added:
        audit.record(actor, "group.import", f"term:{term.id}", added=added, new_groups=len(preview.new_groups))
    return preview
