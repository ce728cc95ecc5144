"""Pages of the livelihood projects: public list and detail, staff planning and dashboard,
departments' progress notes and answers, deputies' supervision."""

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload, undefer

from voting_app.ballots.models import Candidate
from voting_app.db import db, reads_first
from voting_app.errors import DomainError
from voting_app.forms import ButtonForm
from voting_app.groups.forms import KIND_LABELS
from voting_app.paging import page_of
from voting_app.permissions import (
    answers_issue,
    marks_milestone,
    may_see_photo,
    owns_project,
    recorded_supervision,
    reports_on_project,
    requests_change,
    withdraws_change,
)
from voting_app.projects import changes, delivery, planning, plans, schedule, service, story, supervision
from voting_app.projects.forms import (
    AdHocGroupForm,
    AnswerForm,
    ChangeRequestForm,
    DecisionForm,
    DepartmentForm,
    IssueForm,
    MilestoneDoneForm,
    MilestoneForm,
    ProgressNoteForm,
    ProjectForm,
    ProjectFromCandidateForm,
    ScheduleForm,
    SubItemForm,
    SupervisionForm,
    SupervisionGroupForm,
    TargetForm,
    VerdictForm,
    field_labels,
)
from voting_app.projects.models import (
    CHANGE_KINDS,
    EDIT,
    STAGES,
    ChangeRequest,
    Department,
    Milestone,
    Photo,
    ProgressNote,
    Project,
    SubItem,
    SupervisionIssue,
    SupervisionRecord,
    Target,
)
from voting_app.projects.stages import (
    CHANGE_KIND_LABELS,
    CHANGE_STATE_LABELS,
    CHECKPOINT_LABELS,
    PLAN_FIELD_LABELS,
    STAGE_LABELS,
    STATUS_LABELS,
    STORY_KIND_LABELS,
    SUPERVISION_STATUS_LABELS,
    change_value_label,
    history_field_label,
)
from voting_app.projects.timeline import timeline_figure
from voting_app.proposals import service as proposals
from voting_app.proposals.status import CHANNEL_LABELS
from voting_app.registry.groups import BulkAddError, GroupError, all_groups, groups_of_deputy
from voting_app.registry.service import newest_terms
from voting_app.registry.terms import term_label
from voting_app.uploads import photos_before_writing
from voting_app.web import PLOTLY_JS, current_actor, flash_domain_error, get_child_or_404, int_arg, int_or_none

bp = Blueprint("projects", __name__, url_prefix="/projects")

SATISFACTION_FILTERS = (service.MET, service.BELOW, service.UNRATED)


@bp.get("/")
def project_list():
    years = service.project_years()
    year = None if request.args.get("year") == "all" else int_arg("year") or service.default_year(years)
    stage = request.args.get("stage") if request.args.get("stage") in STAGES else None
    department_id = int_arg("department")
    band = request.args.get("satisfaction") if request.args.get("satisfaction") in SATISFACTION_FILTERS else None
    search = request.args.get("q", "").strip()
    group_id = int_arg("group")
    projects = service.filtered_projects(year, stage, department_id, search, group_id)
    ratings = service.project_ratings(current_app.extensions.get("rating_sources", []))
    if band:
        projects = [p for p in projects if service.satisfaction_band(ratings.get(p.id, [])) == band]
    page = page_of(len(projects), int_arg("page"))
    return render_template(
        "projects/list.html",
        projects=projects[page.offset:page.offset + page.per_page],
        page=page,
        search=search,
        ratings=ratings,
        years=years,
        departments=service.all_departments(),
        groups=all_groups(),
        stages=STAGE_LABELS,
        project_status=STATUS_LABELS,
        chosen={"year": "all" if year is None else year, "stage": stage, "department": department_id, "satisfaction": band,
                "group": group_id},
    )


def _judge_forms(project: Project) -> dict:
    return {record.id: recorded_supervision(current_user, record) for record in project.supervisions}


@bp.get("/<int:project_id>")
def project_detail(project_id: int):
    project = db.session.get(Project, project_id, options=[
        selectinload(Project.notes).selectinload(ProgressNote.photos),
        selectinload(Project.notes).selectinload(ProgressNote.target_reports),
        selectinload(Project.supervisions).selectinload(SupervisionRecord.photos),
        selectinload(Project.supervisions).selectinload(SupervisionRecord.issues).selectinload(SupervisionIssue.department),
        selectinload(Project.stage_plans),
        selectinload(Project.milestones),
        selectinload(Project.changes),
        selectinload(Project.sub_items).selectinload(SubItem.targets),
    ])
    if project is None:
        abort(404)
    today = schedule.beijing_today()
    may_judge = _judge_forms(project)
    # The chart needs plotly.js (about 400 KB); the page opens with the dates table and draws the chart on request.
    shows_chart = request.args.get("chart") == "timeline"
    panels = [provider(project) for provider in current_app.extensions.get("project_panels", [])]
    labels = {
        "stages": STAGE_LABELS,
        "planned": _("Planned"),
        "actual": _("Actual"),
        "milestones": _("Milestones"),
        "milestone_row": _("Milestones"),
    }
    return render_template(
        "projects/detail.html",
        project=project,
        stages=STAGE_LABELS,
        plan_fields=PLAN_FIELD_LABELS,
        assessments=service.deputy_assessments(project),
        panels=panels,
        has_dates=bool(project.stage_plans or project.milestones),
        figure=timeline_figure(project, labels, today) if shows_chart else None,
        plotly_js=PLOTLY_JS,
        today=today,
        is_overdue=project.is_late,
        stage_overdue=lambda plan: delivery.stage_overdue(plan, today),
        rectification_overdue=lambda record: delivery.rectification_overdue(record, today),
        supervision_status=delivery.supervision_status,
        status_labels=SUPERVISION_STATUS_LABELS,
        project_status=STATUS_LABELS,
        may_request_change=requests_change(current_user, project),
        kind_labels=CHANGE_KIND_LABELS,
        state_labels=CHANGE_STATE_LABELS,
        may_report=reports_on_project(current_user, project),
        may_answer=lambda issue: answers_issue(current_user, issue),
        may_mark=lambda milestone: marks_milestone(current_user, milestone),
        plan=planning.plan_lines(project),
        number_text=plans.number_text,
        is_unserved=project.department_id in service.unserved_department_ids(),
        may_judge=may_judge,
        origins=proposals.proposals_behind(project),
        **_story(project, today),
        done_form=MilestoneDoneForm(formdata=None, done_on=today),
        answer_form=AnswerForm(formdata=None),
        issue_form=IssueForm(formdata=None),
        departments=service.all_departments() if any(may_judge.values()) else [],
        button=ButtonForm(),
    )


def _story(project: Project, today) -> dict:
    """One page of the project's timeline (voting_app.projects.story) and the words it needs."""
    entries = story.project_story(project, today, current_app.extensions.get("story_sources", []))
    page = page_of(len(entries), int_arg("page"), story.STORY_PER_PAGE)
    return {
        "story": entries[page.offset:page.offset + page.per_page],
        "story_page": page,
        "history_label": lambda field: history_field_label(field, field_labels()),
        "channels": CHANNEL_LABELS,
        "story_kinds": STORY_KIND_LABELS,
    }


@bp.get("/<int:project_id>/history")
def project_history(project_id: int):
    """Every line of the project's history, newest first, a page at a time: the timeline folds them."""
    project = db.get_or_404(Project, project_id)
    changes, page = story.history_page(project, int_arg("page"))
    return render_template("projects/history.html", project=project, changes=changes, page=page, stages=STAGE_LABELS,
                           project_status=STATUS_LABELS, history_label=lambda field: history_field_label(field, field_labels()))


def _to_detail(project: Project, anchor: str | None = None):
    return redirect(url_for("projects.project_detail", project_id=project.id, _anchor=anchor))


@bp.route("/new", methods=["GET", "POST"])
def project_new():
    form = ProjectForm()
    unserved = form.offer_departments()
    form.offer_groups()
    if form.validate_on_submit():
        try:
            project = service.create_project(current_actor(), current_user.label, department=form.chosen_department(current_actor()),
                                             supervision_group=service.chosen_group(form.supervision_group_id.data), **form.values())
            db.session.commit()
            return _to_detail(project)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
    return render_template("projects/form.html", form=form, project=None, unserved=unserved), 400 if form.errors else 200


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
def project_edit(project_id: int):
    project = db.get_or_404(Project, project_id)
    form = ProjectForm(obj=project)
    unserved = form.offer_departments()
    form.offer_groups()
    if form.validate_on_submit():
        try:
            values = form.values()
            if project.has_plan:
                del values["progress_percent"]  # computed from the plan (planning.refresh_progress)
            service.update_project(current_actor(), current_user.label, project, department=form.chosen_department(current_actor()),
                                   supervision_group=service.chosen_group(form.supervision_group_id.data), **values)
            db.session.commit()
            return _to_detail(project)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
            project = db.get_or_404(Project, project_id)
    return render_template("projects/form.html", form=form, project=project, unserved=unserved), 400 if form.errors else 200


def _ad_hoc_term(project: Project):
    """The term an ad-hoc group is formed in: that of the project's present group, else the
    district's newest term."""
    if project.supervision_group is not None:
        return project.supervision_group.term
    terms = newest_terms()
    return terms[0] if terms else None


def _supervisors_page(project: Project, choose=None, ad_hoc=None, problems=(), status: int = 200):
    if choose is None:
        choose = SupervisionGroupForm(formdata=None, supervision_group_id=project.supervision_group_id)
    choose.offer_groups()
    term = _ad_hoc_term(project)
    if ad_hoc is None:
        ad_hoc = AdHocGroupForm(formdata=None, name=_("Supervision group of %(project)s", project=project.name)[:100])
    group = project.supervision_group
    return render_template("projects/supervisors.html", project=project, group=group,
                           members=group.members_in_roster_order if group else [], choose=choose, ad_hoc=ad_hoc,
                           term=term, term_name=term_label(term.congress.name, term.number) if term else "",
                           problems=problems, kinds=KIND_LABELS), status


@bp.route("/<int:project_id>/supervisors", methods=["GET", "POST"])
def project_supervisors(project_id: int):
    """Staff choose the project's supervising group: a deputy group, or an ad-hoc group formed here."""
    project = db.get_or_404(Project, project_id)
    if request.method == "GET":
        return _supervisors_page(project)
    if request.form.get("which") == "ad_hoc":
        form, term = AdHocGroupForm(), _ad_hoc_term(project)
        if term is None:
            abort(404)
        if not form.validate_on_submit():
            return _supervisors_page(project, ad_hoc=form, status=400)
        try:
            group = supervision.form_ad_hoc_group(current_actor(), current_user.label, project, term, form.name.data,
                                                  form.numbers.data, form.leader.data or "")
            db.session.commit()
        except BulkAddError as error:
            db.session.rollback()
            form.numbers.errors.append(str(error.message))
            return _supervisors_page(db.get_or_404(Project, project_id), ad_hoc=form, problems=error.problems, status=400)
        except GroupError as error:
            db.session.rollback()
            form[error.field if error.field in form else "name"].errors.append(str(error.message))
            return _supervisors_page(db.get_or_404(Project, project_id), ad_hoc=form, status=400)
        flash(_("%(group)s now supervises %(project)s.", group=group.name, project=project.name), "success")
        return redirect(url_for("projects.project_supervisors", project_id=project.id))
    form = SupervisionGroupForm()
    form.offer_groups()
    if not form.validate_on_submit():
        return _supervisors_page(project, choose=form, status=400)
    try:
        supervision.set_supervision_group(current_actor(), current_user.label, project,
                                          service.chosen_group(form.supervision_group_id.data))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        form.supervision_group_id.errors.append(str(error.message))
        return _supervisors_page(db.get_or_404(Project, project_id), choose=form, status=400)
    flash(_("Supervision group saved."), "success")
    return redirect(url_for("projects.project_supervisors", project_id=project.id))


@bp.post("/from-candidate/<int:candidate_id>")
def project_from_candidate(candidate_id: int):
    candidate = db.get_or_404(Candidate, candidate_id)
    form = ProjectFromCandidateForm()
    if not form.validate_on_submit():
        if not form.year.errors:
            abort(400)
        for message in form.year.errors:
            flash(str(message), "error")
        return redirect(url_for("ballots.round_detail", round_id=candidate.round_id))
    try:
        project = service.project_from_candidate(current_actor(), current_user.label, candidate, form.year.data)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("ballots.round_detail", round_id=candidate.round_id))
    flash(_("%(name)s is now a project.", name=project.name), "success")
    return _to_detail(project)


# Staff: the managed list of departments


@bp.route("/departments", methods=["GET", "POST"])
def department_list():
    form = DepartmentForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            department = service.add_department(current_actor(), form.name.data)
            db.session.commit()
            flash(_("%(name)s is on the list.", name=department.name), "success")
            return redirect(url_for("projects.department_list"))
        except DomainError as error:
            db.session.rollback()
            form.name.errors.append(str(error.message))
            status = error.status
    return render_template("projects/departments.html", lines=service.department_overview(), form=form), status


# Staff: stage dates and milestones


def _schedule_page(project: Project, form: ScheduleForm | None = None, milestone_form=None, status: int = 200):
    milestone_form = milestone_form or MilestoneForm(formdata=None)
    milestone_form.offer_sub_items(project)
    return render_template(
        "projects/schedule.html",
        project=project,
        form=form or ScheduleForm(formdata=None, data=_stage_dates(project)),
        stages=STAGE_LABELS,
        milestone_form=milestone_form,
        button=ButtonForm(),
        today=schedule.beijing_today(),
        is_overdue=project.is_late,
    ), status


def _stage_dates(project: Project) -> dict:
    plans = {stage: project.plan_for(stage) for stage in STAGES}
    return {stage: {field: getattr(plan, field) for field in delivery.PLAN_FIELDS} if plan else {} for stage, plan in plans.items()}


@bp.route("/<int:project_id>/schedule", methods=["GET", "POST"])
def project_schedule(project_id: int):
    project = db.get_or_404(Project, project_id)
    form = ScheduleForm(data=_stage_dates(project))
    if request.method == "GET":
        return _schedule_page(project, form)
    if form.validate_on_submit():
        try:
            delivery.set_stage_plans(current_actor(), current_user.label, project, form.plans())
            db.session.commit()
            flash(_("Dates saved."), "success")
            return redirect(url_for("projects.project_schedule", project_id=project.id))
        except delivery.StageDatesError as error:
            db.session.rollback()
            problems = error.problems
            project = db.get_or_404(Project, project_id)
    else:
        # A date the form could not read is reported together with the other stages' problems.
        problems = delivery.stage_date_problems(form.plans(), schedule.beijing_today())
    for problem in problems:
        form[problem.stage][problem.field].errors.append(str(problem.problem))
    return _schedule_page(project, form, status=400)


@bp.post("/<int:project_id>/milestones")
def milestone_add(project_id: int):
    project = db.get_or_404(Project, project_id)
    form = MilestoneForm()
    form.offer_sub_items(project)
    if not form.validate_on_submit():
        return _schedule_page(project, milestone_form=form, status=400)
    try:
        delivery.add_milestone(current_actor(), current_user.label, project, form.name.data, form.planned_on.data,
                               form.chosen_sub_item(project))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(str(error.message))
        return _schedule_page(db.get_or_404(Project, project_id), milestone_form=form, status=error.status)
    return redirect(url_for("projects.project_schedule", project_id=project.id, _anchor="milestones"))


@bp.post("/<int:project_id>/milestones/<int:milestone_id>/remove")
def milestone_remove(project_id: int, milestone_id: int):
    project = db.get_or_404(Project, project_id)
    milestone = get_child_or_404(Milestone, milestone_id, project_id=project.id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        delivery.remove_milestone(current_actor(), current_user.label, project, milestone)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return redirect(url_for("projects.project_schedule", project_id=project.id, _anchor="milestones"))


# Staff: the implementation plan (sub-items, their targets and funds)


def _plan_page(project: Project, item_form=None, status: int = 200):
    if item_form is None:
        item_form = SubItemForm(formdata=None)
        item_form.offer_departments()
    return render_template("projects/plan.html", project=project, plan=planning.plan_lines(project), item_form=item_form,
                           funds=planning.funds_text(project), button=ButtonForm()), status


@bp.post("/<int:project_id>/plan/publish")
def plan_publish(project_id: int):
    """From now on the plan's targets, funds, departments and deadlines change by change requests."""
    project = db.get_or_404(Project, project_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        changes.publish_plan(current_actor(), current_user.label, project)
        db.session.commit()
        flash(_("Plan published: its targets, funds, departments and deadlines now change only by a change request."), "success")
    except DomainError as error:
        flash_domain_error(error)
    return _to_plan(project)


def _to_plan(project: Project, anchor: str | None = None):
    return redirect(url_for("projects.project_plan", project_id=project.id, _anchor=anchor))


@bp.route("/<int:project_id>/plan", methods=["GET", "POST"])
def project_plan(project_id: int):
    """The plan at a glance, and a new sub-item."""
    project = db.get_or_404(Project, project_id)
    if request.method == "GET":
        return _plan_page(project)
    form = SubItemForm()
    form.offer_departments()
    if form.validate_on_submit():
        try:
            item = planning.add_sub_item(current_actor(), current_user.label, project, **form.values(current_actor()))
            db.session.commit()
            flash(_("Sub-item added. Now give it its targets."), "success")
            return redirect(url_for("projects.sub_item_edit", project_id=project.id, item_id=item.id))
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
            project = db.get_or_404(Project, project_id)
    return _plan_page(project, form, 400)


def _sub_item_page(project, item, form=None, target_form=None, status=200):
    if form is None:
        form = SubItemForm(formdata=None, obj=item, budget=plans.wan(item.budget_yuan), spent=plans.wan(item.spent_yuan))
        form.offer_departments()
    return render_template("projects/sub_item.html", project=project, item=item, form=form,
                           target_form=target_form or TargetForm(formdata=None), button=ButtonForm(),
                           number_text=plans.number_text), status


@bp.route("/<int:project_id>/plan/<int:item_id>", methods=["GET", "POST"])
def sub_item_edit(project_id: int, item_id: int):
    project = db.get_or_404(Project, project_id)
    item = get_child_or_404(SubItem, item_id, project_id=project.id)
    if request.method == "GET":
        return _sub_item_page(project, item)
    form = SubItemForm()
    form.offer_departments()
    if form.validate_on_submit():
        try:
            planning.update_sub_item(current_actor(), current_user.label, item, **form.values(current_actor()))
            db.session.commit()
            flash(_("Sub-item saved."), "success")
            return redirect(url_for("projects.sub_item_edit", project_id=project.id, item_id=item.id))
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
            project = db.get_or_404(Project, project_id)
            item = db.get_or_404(SubItem, item_id)
    return _sub_item_page(project, item, form=form, status=400)


@bp.post("/<int:project_id>/plan/<int:item_id>/remove")
def sub_item_remove(project_id: int, item_id: int):
    project = db.get_or_404(Project, project_id)
    item = get_child_or_404(SubItem, item_id, project_id=project.id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        planning.remove_sub_item(current_actor(), current_user.label, item)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("projects.sub_item_edit", project_id=project.id, item_id=item.id))
    return _to_plan(project)


@bp.post("/<int:project_id>/plan/<int:item_id>/targets")
def target_add(project_id: int, item_id: int):
    project = db.get_or_404(Project, project_id)
    item = get_child_or_404(SubItem, item_id, project_id=project.id)
    form = TargetForm()
    if form.validate_on_submit():
        try:
            planning.add_target(current_actor(), current_user.label, item, **form.values())
            db.session.commit()
            return redirect(url_for("projects.sub_item_edit", project_id=project.id, item_id=item.id, _anchor="targets"))
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
            project = db.get_or_404(Project, project_id)
            item = db.get_or_404(SubItem, item_id)
    return _sub_item_page(project, item, target_form=form, status=400)


@bp.route("/<int:project_id>/plan/<int:item_id>/targets/<int:target_id>", methods=["GET", "POST"])
def target_edit(project_id: int, item_id: int, target_id: int):
    project = db.get_or_404(Project, project_id)
    item = get_child_or_404(SubItem, item_id, project_id=project.id)
    target = get_child_or_404(Target, target_id, sub_item_id=item.id)
    form = TargetForm(obj=target)
    status = 200
    if form.validate_on_submit():
        try:
            planning.update_target(current_actor(), current_user.label, target, **form.values())
            db.session.commit()
            return redirect(url_for("projects.sub_item_edit", project_id=project.id, item_id=item.id, _anchor="targets"))
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
            project, item, target = (db.get_or_404(Project, project_id), db.get_or_404(SubItem, item_id),
                                     db.get_or_404(Target, target_id))
    if form.is_submitted():
        status = 400
    return render_template("projects/target_form.html", project=project, item=item, target=target, form=form), status


@bp.post("/<int:project_id>/plan/<int:item_id>/targets/<int:target_id>/remove")
def target_remove(project_id: int, item_id: int, target_id: int):
    project = db.get_or_404(Project, project_id)
    item = get_child_or_404(SubItem, item_id, project_id=project.id)
    target = get_child_or_404(Target, target_id, sub_item_id=item.id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        planning.remove_target(current_actor(), current_user.label, target)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return redirect(url_for("projects.sub_item_edit", project_id=project.id, item_id=item.id, _anchor="targets"))


# Change control: staff or the project's department ask; staff record the committee's decision


def _change_asker_or_403(project_id: int) -> Project:
    project = db.get_or_404(Project, project_id)
    if not requests_change(current_user, project):
        abort(403)
    return project


def _read_values(project: Project) -> tuple[dict, dict]:
    """The values typed in an edit request (fields `value-<key>`), and a message per value that
    cannot be one; a key the form did not send is left as it is."""
    values, errors = {}, {}
    for line in changes.plan_values(project):
        text = request.form.get(f"value-{line.key}")
        if text is None:
            continue
        try:
            values[line.key] = changes.parse_typed(line.field, text)
        except ValueError:
            errors[line.key] = _("Enter a value of this kind, or leave it as it is.")
    for line in changes.removable(project):
        if request.form.get(f"value-{line.key}"):
            values[line.key] = True
    _read_addition(project, values, errors)
    return values, errors


def _read_addition(project: Project, values: dict, errors: dict) -> None:
    """A new target and a new milestone the request adds (fields `add_target-*`, `add_milestone-*`),
    each when its name is typed; the domain checks what they hold."""
    form = request.form
    items = {str(item.id): item for item in project.sub_items}
    if form.get("add_target-name", "").strip():
        try:
            values[f"{changes.ADD_TARGET}.1"] = {
                "sub_item": items.get(form.get("add_target-sub_item", "")), "name": form["add_target-name"],
                "planned": changes.parse_typed("planned", form.get("add_target-planned", "")),
                "unit": form.get("add_target-unit", ""),
                "due_on": changes.parse_typed("due_on", form.get("add_target-due_on", ""))}
        except ValueError:
            errors[changes.ADD_TARGET] = _("Enter a value of this kind, or leave it as it is.")
    if form.get("add_milestone-name", "").strip():
        try:
            values[f"{changes.ADD_MILESTONE}.1"] = {
                "sub_item": items.get(form.get("add_milestone-sub_item", "")), "name": form["add_milestone-name"],
                "planned_on": changes.parse_typed("planned_on", form.get("add_milestone-planned_on", ""))}
        except ValueError:
            errors[changes.ADD_MILESTONE] = _("Enter a value of this kind, or leave it as it is.")


def _change_form_page(project, kind, form, typed=None, errors=None, status=200):
    return render_template("projects/change_form.html", project=project, kind=kind, form=form,
                           lines=changes.plan_values(project) if kind == EDIT else [], typed=typed or {},
                           removable=changes.removable(project) if kind == EDIT else [],
                           value_errors=errors or {}, departments=service.all_departments(),
                           deadline=next(line for line in changes.plan_values(project) if line.key == changes.DEADLINE),
                           label=change_value_label, kind_labels=CHANGE_KIND_LABELS), status


@bp.route("/<int:project_id>/changes/new/<kind>", methods=["GET", "POST"])
def change_new(project_id: int, kind: str):
    project = _change_asker_or_403(project_id)
    if kind not in CHANGE_KINDS:
        abort(404)
    form = ChangeRequestForm()
    typed = {key: value for key, value in request.form.items() if key.startswith(("value-", "add_"))}
    if not form.validate_on_submit():
        return _change_form_page(project, kind, form, typed, status=400 if form.is_submitted() else 200)
    values, errors = _read_values(project) if kind == EDIT else ({}, {})
    if errors:
        return _change_form_page(project, kind, form, typed, errors, 400)
    try:
        change = changes.submit_change(current_actor(), current_user, project, kind, form.reason.data, values,
                                       form.deadline.data)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(str(error.message))
        return _change_form_page(db.get_or_404(Project, project_id), kind, form, typed, status=error.status)
    flash(_("Change request submitted. It takes effect only when the standing committee approves it."), "success")
    return redirect(url_for("projects.change_detail", project_id=project.id, request_id=change.id))


def _change_page(project, change, form=None, status=200):
    return render_template("projects/change_detail.html", project=project, change=change,
                           form=form or DecisionForm(formdata=None, decided_on=schedule.beijing_today()),
                           stale=changes.stale_values(change) if change.is_pending else [], button=ButtonForm(),
                           label=change_value_label, kind_labels=CHANGE_KIND_LABELS, state_labels=CHANGE_STATE_LABELS,
                           project_status_label=lambda status: STATUS_LABELS.get(status, status),
                           may_withdraw=withdraws_change(current_user, change), today=schedule.beijing_today()), status


@bp.get("/<int:project_id>/changes/<int:request_id>")
def change_detail(project_id: int, request_id: int):
    project = _change_asker_or_403(project_id)
    return _change_page(project, get_child_or_404(ChangeRequest, request_id, project_id=project.id))


@bp.post("/<int:project_id>/changes/<int:request_id>/decide")
def change_decide(project_id: int, request_id: int):
    project = db.get_or_404(Project, project_id)
    change = get_child_or_404(ChangeRequest, request_id, project_id=project.id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _change_page(project, change, form, 400)
    try:
        changes.decide_change(current_actor(), current_user, change, form.outcome.data == "approved", form.meeting.data,
                              form.decided_on.data, form.decision_number.data)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(str(error.message))
        project = db.get_or_404(Project, project_id)
        return _change_page(project, db.get_or_404(ChangeRequest, request_id), form, error.status)
    flash(_("Decision recorded."), "success")
    return _to_detail(project, "history")


@bp.post("/<int:project_id>/changes/<int:request_id>/withdraw")
def change_withdraw(project_id: int, request_id: int):
    project = _change_asker_or_403(project_id)
    change = get_child_or_404(ChangeRequest, request_id, project_id=project.id)
    if not withdraws_change(current_user, change):
        abort(403)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        changes.withdraw_change(current_actor(), current_user, change)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return redirect(url_for("projects.change_detail", project_id=project.id, request_id=change.id))


# Department officers: their own projects only


@bp.post("/<int:project_id>/milestones/<int:milestone_id>/done")
def milestone_done(project_id: int, milestone_id: int):
    project = db.get_or_404(Project, project_id)
    milestone = get_child_or_404(Milestone, milestone_id, project_id=project.id)
    if not marks_milestone(current_user, milestone):
        abort(403)
    form = MilestoneDoneForm()
    if not form.validate_on_submit():
        flash(_("Enter the date the milestone was reached."), "error")
        return _to_detail(project, "milestones")
    try:
        delivery.complete_milestone(current_actor(), current_user.label, project, milestone, form.done_on.data)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return _to_detail(project, "milestones")


@bp.get("/mine")
def my_projects():
    department = db.session.get(Department, current_user.department_id) if current_user.department_id else None
    projects = planning.projects_reported_by(department.id) if department else []
    return render_template(
        "projects/mine.html",
        department=department,
        projects=projects,
        stages=STAGE_LABELS,
        board=delivery.dashboard(department_id=department.id) if department else None,
        status_labels=SUPERVISION_STATUS_LABELS,
        supervision_status=delivery.supervision_status,
    )


def _read_actuals() -> tuple[dict, dict]:
    """The figures typed per target (fields `actual-<target id>`), blank ones left out, and a
    message per figure that is not a quantity. A field for another department's target is read
    too, so the service refuses it rather than it being dropped unseen."""
    values, errors = {}, {}
    for key in request.form:
        if not key.startswith("actual-"):
            continue
        target_id = int_or_none(key.removeprefix("actual-"))
        if target_id is None:
            abort(400)
        try:
            value = plans.parse_quantity(request.form[key])
        except ValueError:
            errors[target_id] = _("Enter a number, zero or more, with at most two decimals (e.g. 7000 or 3.2).")
            continue
        if value is not None:
            values[target_id] = value
    return values, errors


def _note_page(form, project, targets, typed=None, errors=None, status=200):
    return render_template("projects/note_form.html", form=form, project=project, targets=targets, typed=typed or {},
                           actual_errors=errors or {}, number_text=plans.number_text), status


@bp.route("/<int:project_id>/notes/new", methods=["GET", "POST"])
@reads_first
def note_new(project_id: int):
    project = db.get_or_404(Project, project_id)
    if not reports_on_project(current_user, project):
        abort(403)
    targets = planning.own_targets(current_user.department_id, project)
    form = ProgressNoteForm(progress_percent=project.progress_percent)
    if project.has_plan:
        del form.progress_percent  # computed from the plan; the department reports figures instead
    typed = {key: value for key, value in request.form.items() if key.startswith("actual-")}
    if form.validate_on_submit():
        actuals, errors = _read_actuals()
        if errors:
            return _note_page(form, project, targets, typed, errors, 400)
        try:
            photos = photos_before_writing(form.photos.data, delivery.MAX_PHOTOS)
            progress = None if project.has_plan else form.progress_percent.data
            delivery.add_progress_note(current_actor(), current_user, project, form.body.data, progress, photos, actuals)
            db.session.commit()
            flash(_("Progress note published."), "success")
            return _to_detail(project, "notes")
        except DomainError as error:
            db.session.rollback()
            if error.status == 403:
                abort(403)
            form.photos.errors = [str(error.message)]
            project = db.get_or_404(Project, project_id)
            targets = planning.own_targets(current_user.department_id, project)
            return _note_page(form, project, targets, typed, status=error.status)
    return _note_page(form, project, targets, typed, status=400 if form.errors else 200)


def _issue_or_404(project_id: int, record_id: int, issue_id: int) -> tuple[Project, SupervisionIssue]:
    project = db.get_or_404(Project, project_id)
    record = get_child_or_404(SupervisionRecord, record_id, project_id=project.id)
    return project, get_child_or_404(SupervisionIssue, issue_id, record_id=record.id)


@bp.post("/<int:project_id>/supervision/<int:record_id>/issues/<int:issue_id>/answer")
def supervision_answer(project_id: int, record_id: int, issue_id: int):
    project, issue = _issue_or_404(project_id, record_id, issue_id)
    if not answers_issue(current_user, issue):
        abort(403)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Write the department's answer."), "error")
        return _to_detail(project, f"issue-{issue.id}")
    try:
        delivery.answer_issue(current_actor(), current_user, issue, form.answer.data)
        db.session.commit()
        flash(_("Answer published."), "success")
    except DomainError as error:
        flash_domain_error(error)
    return _to_detail(project, f"issue-{issue.id}")


# Deputies: supervision


@bp.get("/supervision")
def supervision_list():
    """The deputy's own group's projects first (any year), then the rest of this year's."""
    year = service.default_year(service.project_years())
    person = current_user.deputy.person
    mine = service.projects_of_member(person)
    seen = {project.id for project in mine}
    return render_template(
        "projects/supervision_list.html",
        mine=mine,
        my_groups=groups_of_deputy(person) if person else [],
        projects=[p for p in service.filtered_projects(year=year) if p.id not in seen] if year else [],
        records=delivery.records_of_deputy(current_user.deputy),
        stages=STAGE_LABELS,
        status_labels=SUPERVISION_STATUS_LABELS,
        record_status=delivery.record_status,
        checkpoint_kinds=CHECKPOINT_LABELS,
    )


@bp.route("/<int:project_id>/supervision/new", methods=["GET", "POST"])
@reads_first
def supervision_new(project_id: int):
    project = db.get_or_404(Project, project_id)
    form = SupervisionForm()
    form.offer_departments()
    if request.method == "GET":
        form.visited_on.data = schedule.beijing_today()
    if form.validate_on_submit():
        try:
            photos = photos_before_writing(form.photos.data, delivery.MAX_PHOTOS)
            record = delivery.record_supervision(
                current_actor(), current_user.deputy, project, form.visited_on.data, form.findings.data,
                form.rectification.data or "", form.rectification_due.data, photos, department=form.chosen_department(),
            )
            db.session.commit()
            flash(_("Supervision record saved."), "success")
            return _to_detail(project, f"supervision-{record.id}")
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
            project = db.get_or_404(Project, project_id)
            return render_template("projects/supervision_form.html", form=form, project=project), error.status
    return render_template("projects/supervision_form.html", form=form, project=project), 400 if form.errors else 200


@bp.post("/<int:project_id>/supervision/<int:record_id>/issues")
def supervision_issue_add(project_id: int, record_id: int):
    """One more issue found at a visit, by the deputy who recorded it."""
    project = db.get_or_404(Project, project_id)
    record = get_child_or_404(SupervisionRecord, record_id, project_id=project.id)
    if not recorded_supervision(current_user, record):
        abort(403)
    form = IssueForm()
    form.offer_departments()
    if not form.validate_on_submit():
        for field_name, messages in form.errors.items():
            flash(f"{form[field_name].label.text}: {' '.join(str(message) for message in messages)}", "error")
        return _to_detail(project, f"supervision-{record.id}")
    try:
        issue = delivery.add_issue(current_actor(), record, form.problem.data, form.rectification.data or "",
                                   form.due_on.data, form.chosen_department())
        db.session.commit()
        flash(_("Issue added to the visit."), "success")
        return _to_detail(project, f"issue-{issue.id}")
    except DomainError as error:
        flash_domain_error(error)
    return _to_detail(project, f"supervision-{record.id}")


@bp.post("/<int:project_id>/supervision/<int:record_id>/issues/<int:issue_id>/judge")
def supervision_judge(project_id: int, record_id: int, issue_id: int):
    project, issue = _issue_or_404(project_id, record_id, issue_id)
    if not recorded_supervision(current_user, issue.record):
        abort(403)
    form = VerdictForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        delivery.judge_issue(current_actor(), issue, form.settled.data == "yes")
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return _to_detail(project, f"issue-{issue.id}")


# Staff and presiding: what is late


@bp.get("/dashboard")
def dashboard():
    departments = service.all_departments()
    chosen = next((d for d in departments if d.id == int_arg("department")), None)
    return render_template(
        "projects/dashboard.html",
        board=delivery.dashboard(department_id=chosen.id if chosen else None),
        departments=departments,
        chosen=chosen,
        unserved=service.departments_without_officer(chosen.id if chosen else None),
        unserved_ids=service.unserved_department_ids(),
        show_department=chosen is None,  # a filtered board names its department in the heading
        stages=STAGE_LABELS,
        status_labels=SUPERVISION_STATUS_LABELS,
        supervision_status=delivery.supervision_status,
        waiting_proposals=proposals.waiting_count(),
        change_requests=changes.pending_requests(chosen.id if chosen else None),
        kind_labels=CHANGE_KIND_LABELS,
    )


def _photo_response(photo_token: str, thumbnail: bool):
    query = db.select(Photo).where(Photo.token == photo_token)
    photo = db.first_or_404(query.options(undefer(Photo.thumbnail if thumbnail else Photo.data)))
    if not may_see_photo(current_user, photo):
        abort(404)
    # The upgrade that brought thumbnails made them for earlier photos; one it could not decode is sent whole.
    response = make_response(photo.thumbnail if thumbnail and photo.thumbnail else photo.data)
    response.headers["Content-Type"] = photo.content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{photo.token}.jpg"'
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if photo.is_public else "private, no-store"
    return response


@bp.get("/photos/<photo_token>")
def photo(photo_token: str):
    return _photo_response(photo_token, thumbnail=False)


@bp.get("/photos/<photo_token>/thumbnail")
def photo_thumbnail(photo_token: str):
    """What pages show; the thumbnail links to the photo."""
    return _photo_response(photo_token, thumbnail=True)


def register_panel(app, provider) -> None:
    """Other areas (surveys) add a section to the project page without this package importing them."""
    app.extensions.setdefault("project_panels", []).append(provider)


def register_rating_source(app, source) -> None:
    """Other areas (surveys) add a satisfaction figure per project to the list and its filter."""
    app.extensions.setdefault("rating_sources", []).append(source)


def register_story_source(app, source) -> None:
    """Other areas (surveys) add entries to a project's timeline (voting_app.projects.story)."""
    app.extensions.setdefault("story_sources", []).append(source)
