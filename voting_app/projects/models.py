"""Livelihood projects: what passed candidates become, how their delivery is followed
(stage dates, milestones, departments' progress notes, deputies' supervision), and what
residents and deputies rate."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting_app.db import db, utcnow
from voting_app.projects import schedule
from voting_app.registry.models import DeputyGroup

APPROVED, IN_PROGRESS, OPERATING, ACCEPTED = "approved", "in_progress", "operating", "accepted"
STAGES = (APPROVED, IN_PROGRESS, OPERATING, ACCEPTED)
DELIVERED_STAGES = (OPERATING, ACCEPTED)
# Where a supervision record stands (delivery.supervision_status).
NOTED, AWAITING_ANSWER, AWAITING_VERDICT, SETTLED, NOT_SETTLED = (
    "noted", "awaiting_answer", "awaiting_verdict", "settled", "not_settled"
)
# A project's standing (Project.status): only an approved change request defers or terminates it.
ACTIVE, DEFERRED, TERMINATED = "active", "deferred", "terminated"
STATUSES = (ACTIVE, DEFERRED, TERMINATED)
# Change requests (ChangeRequest): what is asked, and where the request stands.
EDIT, DEFER, TERMINATE = "edit", "defer", "terminate"
CHANGE_KINDS = (EDIT, DEFER, TERMINATE)
PENDING, APPROVED_CHANGE, REFUSED, WITHDRAWN = "pending", "approved", "refused", "withdrawn"
# The yearly supervision cycle, "年初问计划、年中问进度、年底问效果": plan, progress, effect.
PLAN_CHECK, PROGRESS_CHECK, EFFECT_CHECK = "plan", "progress", "effect"
CHECKPOINT_KINDS = (PLAN_CHECK, PROGRESS_CHECK, EFFECT_CHECK)


class Department(db.Model):
    """A responsible department (承办单位); officers' accounts are bound to one."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Project(db.Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    year: Mapped[int]
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    location: Mapped[str] = mapped_column(String(200), default="")
    stage: Mapped[str] = mapped_column(String(20), default=APPROVED)
    progress_percent: Mapped[int] = mapped_column(default=0)
    spent: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The deputy group that supervises it (督办小组): its members see it first in their supervision list.
    supervision_group_id: Mapped[int | None] = mapped_column(ForeignKey("deputy_groups.id"), index=True)
    # The day staff published the implementation plan: from then on its targets, funds, departments
    # and deadlines change only by a change request the standing committee approves (projects.changes).
    plan_published_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE, server_default=ACTIVE)

    department: Mapped[Department | None] = relationship()
    supervision_group: Mapped[DeputyGroup | None] = relationship()
    changes: Mapped[list["ProjectChange"]] = relationship(
        back_populates="project", order_by="ProjectChange.id.desc()", cascade="all, delete-orphan"
    )
    stage_plans: Mapped[list["StagePlan"]] = relationship(back_populates="project", cascade="all, delete-orphan")
    milestones: Mapped[list["Milestone"]] = relationship(
        back_populates="project", order_by="Milestone.planned_on, Milestone.id", cascade="all, delete-orphan"
    )
    notes: Mapped[list["ProgressNote"]] = relationship(
        back_populates="project", order_by="ProgressNote.id.desc()", cascade="all, delete-orphan"
    )
    supervisions: Mapped[list["SupervisionRecord"]] = relationship(
        back_populates="project", order_by="SupervisionRecord.visited_on.desc(), SupervisionRecord.id.desc()",
        cascade="all, delete-orphan",
    )
    sub_items: Mapped[list["SubItem"]] = relationship(
        back_populates="project", order_by="SubItem.id", cascade="all, delete-orphan"
    )

    change_requests: Mapped[list["ChangeRequest"]] = relationship(
        back_populates="project", order_by="ChangeRequest.id.desc()", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.plan_published_on is not None

    @property
    def is_terminated(self) -> bool:
        """A terminated project has nothing overdue: its dates no longer bind anyone."""
        return self.status == TERMINATED

    @property
    def deferred_until(self) -> date | None:
        """The new deadline of a deferred project (the planned end of its delivery, 实施, as the
        approved deferral set it); None for a project not deferred."""
        plan = self.plan_for(IN_PROGRESS)
        return plan.planned_end if self.status == DEFERRED and plan else None

    def due_by(self, due: date | None) -> date | None:
        """The day a plan date of this project binds: the committee moved a deferred project's
        deadline, not each target's and milestone's date, so what fell due before the new deadline
        is due by it; what falls later keeps its own date."""
        return max(due, self.deferred_until) if due is not None and self.deferred_until is not None else due

    @property
    def status_decision(self) -> "ChangeRequest | None":
        """The approved deferral or termination that put the project in its status, newest first."""
        if self.status == ACTIVE:
            return None
        return next((request for request in self.change_requests
                     if request.state == APPROVED_CHANGE and request.kind != EDIT), None)

    def is_late(self, due: date | None, finished: bool, today: date) -> bool:
        """Whether a plan date of this project (a milestone's, a target's) is missed on a day: the
        one rule every page, report and pack shows, and reminder letters follow (due_by)."""
        return not self.is_terminated and schedule.is_overdue(self.due_by(due), finished, today)

    @property
    def has_plan(self) -> bool:
        """A project split into sub-items has its progress computed from them, not typed."""
        return bool(self.sub_items)

    @property
    def targets(self) -> list["Target"]:
        return [target for item in self.sub_items for target in item.targets]

    @property
    def department_name(self) -> str:
        return self.department.name if self.department else ""

    def plan_for(self, stage: str) -> "StagePlan | None":
        return next((plan for plan in self.stage_plans if plan.stage == stage), None)


class ProjectChange(db.Model):
    """One line of a project's public history: who changed what, when."""

    __tablename__ = "project_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_name: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[Project] = relationship(back_populates="changes")


class ChangeRequest(db.Model):
    """A change of a published plan, a deferral or a termination, asked with a reason and the
    values proposed, then decided by the standing committee (meeting, date, decision number) as
    staff record it. `proposed` maps a value's key (projects.changes) to {"what", "old", "new"}:
    the old values are those the request was based on, so an approval refuses when they moved."""

    __tablename__ = "project_change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    proposed: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_by_name: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    meeting: Mapped[str] = mapped_column(String(200), default="")
    decided_on: Mapped[date | None] = mapped_column(index=True)
    decision_number: Mapped[str] = mapped_column(String(100), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_name: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship(back_populates="change_requests")
    requested_by = relationship("User", foreign_keys=[requested_by_id])

    @property
    def is_pending(self) -> bool:
        return self.state == PENDING


class StagePlan(db.Model):
    """Planned and actual start and end of one stage (立项, 实施, 运营, 验收)."""

    __tablename__ = "project_stage_plans"
    __table_args__ = (UniqueConstraint("project_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    stage: Mapped[str] = mapped_column(String(20))
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    actual_start: Mapped[date | None]
    actual_end: Mapped[date | None]

    project: Mapped[Project] = relationship(back_populates="stage_plans")


class SubItem(db.Model):
    """A part of a project's implementation plan (子项) with its own responsible department,
    targets, funds and milestones. Money is whole yuan (see voting_app.projects.plans)."""

    __tablename__ = "project_sub_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    budget_yuan: Mapped[int | None] = mapped_column(BigInteger)
    spent_yuan: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="sub_items")
    department: Mapped[Department | None] = relationship()
    targets: Mapped[list["Target"]] = relationship(
        back_populates="sub_item", order_by="Target.id", cascade="all, delete-orphan"
    )
    milestones: Mapped[list["Milestone"]] = relationship(
        back_populates="sub_item", order_by="Milestone.planned_on, Milestone.id"
    )

    @property
    def department_name(self) -> str:
        return self.department.name if self.department else ""


class Target(db.Model):
    """A quantified target of a sub-item: planned quantity and unit by a due date, and the
    latest actual figure its department reported (None until the first report)."""

    __tablename__ = "project_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    sub_item_id: Mapped[int] = mapped_column(ForeignKey("project_sub_items.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    planned: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    unit: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date | None]
    actual: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))

    sub_item: Mapped[SubItem] = relationship(back_populates="targets")
    reports: Mapped[list["TargetReport"]] = relationship(
        back_populates="target", order_by="TargetReport.id", cascade="all, delete-orphan"
    )


class TargetReport(db.Model):
    """One actual figure a department reported for a target, with the progress note it came
    with: the history the timeline reads. The figure is the total to date, not an increment."""

    __tablename__ = "project_target_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("project_targets.id"), index=True)
    progress_note_id: Mapped[int | None] = mapped_column(ForeignKey("project_progress_notes.id"), index=True)
    actual: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    reported_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    target: Mapped[Target] = relationship(back_populates="reports")
    note: Mapped["ProgressNote | None"] = relationship(back_populates="target_reports")


class Milestone(db.Model):
    __tablename__ = "project_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    # The sub-item it belongs to, if any; its department marks it reached.
    sub_item_id: Mapped[int | None] = mapped_column(ForeignKey("project_sub_items.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    planned_on: Mapped[date]
    done_on: Mapped[date | None]

    project: Mapped[Project] = relationship(back_populates="milestones")
    sub_item: Mapped[SubItem | None] = relationship(back_populates="milestones")


class ProgressNote(db.Model):
    """A department's report on its project, public on the project page."""

    __tablename__ = "project_progress_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(100))
    department_name: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    progress_percent: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="notes")
    photos: Mapped[list["Photo"]] = relationship(order_by="Photo.id", foreign_keys="Photo.progress_note_id")
    target_reports: Mapped[list[TargetReport]] = relationship(back_populates="note", order_by="TargetReport.id")


class SupervisionRecord(db.Model):
    """A deputy's inspection (督办): the visit, its photos, and the issues found at it (the
    ledger's lines, each with its department, rectification, answer and verdict)."""

    __tablename__ = "supervision_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), index=True)
    deputy_name: Mapped[str] = mapped_column(String(64))
    visited_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="supervisions")
    deputy = relationship("Deputy")
    photos: Mapped[list["Photo"]] = relationship(order_by="Photo.id", foreign_keys="Photo.supervision_id")
    issues: Mapped[list["SupervisionIssue"]] = relationship(
        back_populates="record", order_by="SupervisionIssue.id", cascade="all, delete-orphan"
    )

    @property
    def findings(self) -> str:
        """What was found at the visit: its issues' problems, one a line."""
        return "\n".join(issue.problem for issue in self.issues)

    @property
    def rectifications(self) -> list["SupervisionIssue"]:
        return [issue for issue in self.issues if issue.rectification]


class SupervisionIssue(db.Model):
    """One line of the supervision ledger (问题、责任、整改台账): a problem found at a visit, the
    department responsible for it, the rectification asked by a due date, the department's
    answer and the recording deputy's verdict (None until judged)."""

    __tablename__ = "supervision_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("supervision_records.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    problem: Mapped[str] = mapped_column(Text)
    rectification: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None]
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    answered_by_name: Mapped[str] = mapped_column(String(100), default="")
    settled: Mapped[bool | None]
    judged_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    record: Mapped[SupervisionRecord] = relationship(back_populates="issues")
    department: Mapped[Department | None] = relationship()

    @property
    def project(self) -> Project:
        return self.record.project

    @property
    def department_name(self) -> str:
        return self.department.name if self.department else ""


class ReminderLetter(db.Model):
    """A reminder letter (提醒函) to a department about one overdue milestone, target or
    rectification. One letter per subject and due date, so a second run of the reminder on the
    same data issues nothing; the serial number (樊人大提〔2026〕3号) counts per year."""

    __tablename__ = "reminder_letters"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_id", "due_on"), UniqueConstraint("year", "number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    # What is late, as it read when the letter was issued (a letter does not change afterwards).
    subject_name: Mapped[str] = mapped_column(Text)
    asked: Mapped[str] = mapped_column(Text, default="")  # the rectification asked, or the target's quantity
    due_on: Mapped[date]
    issued_on: Mapped[date]
    reply_by: Mapped[date]
    year: Mapped[int]
    number: Mapped[int]
    serial: Mapped[str] = mapped_column(String(60))
    issued_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    department: Mapped[Department] = relationship()
    project: Mapped[Project] = relationship()


class SupervisionCheckpoint(db.Model):
    """The day of one of a year's three supervision checkpoints, as staff set it; a year without
    rows uses the default days (voting_app.projects.checkpoints.default_days)."""

    __tablename__ = "supervision_checkpoints"
    __table_args__ = (UniqueConstraint("year", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Photo(db.Model):
    """A cleaned, re-encoded photo kept in the database, so a rolled-back upload leaves
    nothing behind and a backup holds everything. Each photo belongs to one note, one
    supervision record, one proposal or one round's count report; proposal photos are for
    staff only, count-report photos for whoever may see the round."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    # Pages list photos without their bytes; only the photo route reads them.
    data: Mapped[bytes] = mapped_column(deferred=True)
    # A small copy for pages (voting_app.images.THUMBNAIL_SIDE); None only for an earlier photo the
    # upgrade could not decode.
    thumbnail: Mapped[bytes | None] = mapped_column(deferred=True)
    width: Mapped[int]
    height: Mapped[int]
    is_public: Mapped[bool] = mapped_column(default=True)
    progress_note_id: Mapped[int | None] = mapped_column(ForeignKey("project_progress_notes.id"), index=True)
    supervision_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_records.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    # A photo of a round's signed 计票报告单: for the people who conduct and watch the vote.
    count_report_round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
