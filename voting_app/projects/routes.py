"""Public pages of the livelihood projects."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voting_app.ballots.models import Candidate
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.forms import ButtonForm
from voting_app.projects import service
from voting_app.projects.forms import ProjectForm, field_labels
from voting_app.projects.models import Project
from voting_app.projects.stages import STAGE_LABELS
from voting_app.web import current_actor, flash_domain_error

bp = Blueprint("projects", __name__, url_prefix="/projects")


@bp.get("/")
def project_list():
    return render_template("projects/list.html", years=service.projects_by_year(), stages=STAGE_LABELS)


@bp.get("/<int:project_id>")
def project_detail(project_id: int):
    project = db.get_or_404(Project, project_id)
    panels = [provider(project) for provider in current_app.extensions.get("project_panels", [])]
    return render_template(
        "projects/detail.html",
        project=project,
        stages=STAGE_LABELS,
        assessments=service.deputy_assessments(project),
        panels=panels,
        field_labels=field_labels(),
    )


def _to_detail(project: Project):
    return redirect(url_for("projects.project_detail", project_id=project.id))


@bp.route("/new", methods=["GET", "POST"])
def project_new():
    form = ProjectForm()
    if form.validate_on_submit():
        try:
            project = service.create_project(current_actor(), current_user.label, **form.values())
            db.session.commit()
            return _to_detail(project)
        except DomainError as error:
            flash_domain_error(error)
    return render_template("projects/form.html", form=form, project=None)


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
def project_edit(project_id: int):
    project = db.get_or_404(Project, project_id)
    form = ProjectForm(obj=project)
    if form.validate_on_submit():
        try:
            service.update_project(current_actor(), current_user.label, project, **form.values())
            db.session.commit()
            return _to_detail(project)
        except DomainError as error:
            flash_domain_error(error)
    return render_template("projects/form.html", form=form, project=project)


@bp.post("/from-candidate/<int:candidate_id>")
def project_from_candidate(candidate_id: int):
    candidate = db.get_or_404(Candidate, candidate_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        project = service.project_from_candidate(current_actor(), current_user.label, candidate)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("ballots.round_detail", round_id=candidate.round_id))
    flash(_("%(name)s is now a project.", name=project.name), "success")
    return _to_detail(project)


def register_panel(app, provider) -> None:
    """Other areas (surveys) add a section to the project page without this package importing them."""
    app.extensions.setdefault("project_panels", []).append(provider)
