"""Public pages of the livelihood projects."""

from flask import Blueprint, current_app, render_template

from voting_app.db import db
from voting_app.projects import service
from voting_app.projects.models import Project
from voting_app.projects.stages import STAGE_LABELS

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
    )


def register_panel(app, provider) -> None:
    """Other areas (surveys) add a section to the project page without this package importing them."""
    app.extensions.setdefault("project_panels", []).append(provider)
