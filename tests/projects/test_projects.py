"""Projects: a passed candidate becomes a project in one step; staff enter and change
projects, and every change is on the public history."""

from decimal import Decimal

from sqlalchemy import select

from tests.ballots.helpers import announce_round, as_deputy, as_role, cast, close_round, confirm_round, open_round
from tests.conftest import post
from voting_app.audit import AuditEntry
from voting_app.ballots.models import Candidate
from voting_app.db import db
from voting_app.projects.models import Project


def counted_round(app, world):
    open_round(app, world)
    a, b, _, _ = world.candidate_ids
    for index in range(6):
        cast(as_deputy(app, world, index), world.round_id, choices=[a, b])
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    return a, b


def test_an_elected_candidate_becomes_a_project_carrying_its_data(app, world):
    with app.app_context():
        candidate = db.session.get(Candidate, world.candidate_ids[0])
        candidate.summary, candidate.department, candidate.investment = "新建桥梁3座", "区交通运输局", Decimal("860.50")
        db.session.commit()
    a, _ = counted_round(app, world)
    staff = as_role(app, world, "staff")
    page = staff.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert f"/projects/from-candidate/{a}" in page and f"/projects/from-candidate/{world.candidate_ids[2]}" not in page
    assert 'name="year"' in page
    made = post(staff, f"/projects/from-candidate/{a}", {"year": "2027"})
    assert made.status_code == 302
    with app.app_context():
        project = db.session.scalars(select(Project)).one()
        assert (project.name, project.summary, project.department_name, project.budget, project.stage) == (
            "项目1", "新建桥梁3座", "区交通运输局", Decimal("860.50"), "approved"
        )
        assert db.session.get(Candidate, a).project_id == project.id
        project_id = project.id
    assert made.headers["Location"].endswith(f"/projects/{project_id}")
    again = post(staff, f"/projects/from-candidate/{a}", {"year": "2027"}, follow_redirects=True)
    assert "is a project already" in again.get_data(as_text=True)
    loser = post(staff, f"/projects/from-candidate/{world.candidate_ids[2]}", {"year": "2027"}, follow_redirects=True)
    assert "Only an elected candidate" in loser.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Project)) == 1


def test_a_candidate_of_an_open_round_cannot_become_a_project(app, world):
    open_round(app, world)
    response = post(as_role(app, world, "staff"), f"/projects/from-candidate/{world.candidate_ids[0]}", {"year": "2027"},
                    follow_redirects=True)
    assert "counted round" in response.get_data(as_text=True)


def test_staff_enter_and_change_a_project_and_the_public_sees_the_history(app, world):
    staff = as_role(app, world, "staff")
    form = {"name": "背街小巷改造", "new_department": "区城市管理执法局", "year": "2027", "budget": "1100", "stage": "approved", "progress_percent": "0"}
    created = post(staff, "/projects/new", form)
    assert created.status_code == 302
    project_url = created.headers["Location"]
    changed = post(staff, f"{project_url}/edit", form | {"stage": "in_progress", "progress_percent": "35", "spent": "280.5"})
    assert changed.status_code == 302
    refused = post(staff, f"{project_url}/edit", form | {"progress_percent": "150"})
    assert refused.status_code == 400 and "150" in refused.get_data(as_text=True)
    with app.app_context():
        project = db.session.scalars(select(Project)).one()
        assert (project.stage, project.progress_percent, project.spent) == ("in_progress", 35, Decimal("280.50"))
        history = [(c.field, c.old_value, c.new_value) for c in reversed(project.changes)]
        assert history == [
            ("created", "", "背街小巷改造"),
            ("stage", "approved", "in_progress"),
            ("progress_percent", "0", "35"),
            ("spent", "", "280.50"),
        ]
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("project.%"))).all()
        assert actions == ["project.create", "project.update"]
    public = app.test_client().get(project_url).get_data(as_text=True)
    assert "the whole story" in public and "280.50" in public and "Progress (percent)" in public
    assert "Under way (实施)" in public, "stages read as words in the timeline"
    history = app.test_client().get(f"{project_url}/history").get_data(as_text=True)
    assert "History" in history and "280.50" in history and "Under way (实施)" in history
