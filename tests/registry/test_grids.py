"""The grid hierarchy end to end: importing it (preview, per-row errors, nothing stored on a bad
file, idempotent), its boundaries, the staff page, and survey results and proposal counts by
grid at every level, with cells under 30 answers suppressed and the same figures on the map."""

import io
import json
import re

import pytest
from sqlalchemy import func, select

from surveys.frame_rules import MIN_HOUSEHOLDS_PER_CODE_GRID
from tests.conftest import SECRET, post
from tests.helpers import signed_in
from tests.surveys.helpers import SATISFIED, DISSATISFIED, build_survey, error_flash, resident, text_of, answer, full_answer

GRID_CSV = (
    "网格编码,网格名称,上级网格编码,层级\n"
    "C1,一中心,,网格中心\nC2,二中心,,网格中心\n"
    "C1U1,一单元,C1,单元网格\nC1U2,二单元,C1,单元网格\nC2U1,三单元,C2,单元网格\n"
    "C1U1G1,甲网格,C1U1,网格\nC1U1G2,乙网格,C1U1,网格\nC1U2G1,丙网格,C1U2,网格\nC2U1G1,丁网格,C2U1,网格\n"
)


def upload(client, endpoint_url, content: bytes, filename: str):
    return post(client, endpoint_url, {"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")


def sealed(page: str) -> str:
    return re.search(r'name="table"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="table"', page).group(1)


def grids(app) -> dict:
    from voting_app.db import db
    from voting_app.registry.models import Grid

    with app.app_context():
        by_id = {grid.id: grid.code for grid in db.session.scalars(select(Grid))}
        return {grid.code: (grid.name, grid.level, by_id.get(grid.parent_id), by_id.get(grid.centre_id), by_id.get(grid.unit_id))
                for grid in db.session.scalars(select(Grid))}


def import_grids(client, csv_text: str = GRID_CSV):
    preview = upload(client, "/grids/import", csv_text.encode("utf-8"), "grids.csv")
    assert preview.status_code == 200, text_of(preview)
    return preview, post(client, "/grids/import", {"table": sealed(text_of(preview))})


@pytest.fixture
def staff(app):
    return signed_in(app, "staff")


def test_a_good_file_is_previewed_then_imported_with_every_ancestor(app, staff):
    preview, done = import_grids(staff)
    assert "This file will add 9 grids, update 0 and leave 0 unchanged." in text_of(preview)
    assert done.status_code == 302
    stored = grids(app)
    assert stored["C1"] == ("一中心", 1, None, "C1", None)
    assert stored["C1U2"] == ("二单元", 2, "C1", "C1", "C1U2")
    assert stored["C1U2G1"] == ("丙网格", 3, "C1U2", "C1", "C1U2")
    assert stored["C2U1G1"] == ("丁网格", 3, "C2U1", "C2", "C2U1")
    page = text_of(staff.get("/grids"))
    assert re.search(r"<strong>2</strong> Grid centre", page) and re.search(r"<strong>3</strong> Unit grid", page)
    assert re.search(r"<strong>4</strong> Grid</li>", page)
    from voting_app.db import db
    from voting_app.registry.models import Grid

    with app.app_context():
        c1 = db.session.scalar(select(Grid.id).where(Grid.code == "C1"))
    under = text_of(staff.get(f"/grids?parent={c1}"))
    assert "一单元" in under and "二单元" in under and "三单元" not in under


def test_the_same_file_twice_changes_nothing_and_a_changed_name_updates(app, staff):
    import_grids(staff)
    before = grids(app)
    preview, done = import_grids(staff)
    assert "add 0 grids, update 0 and leave 9 unchanged" in text_of(preview)
    assert grids(app) == before
    preview, _ = import_grids(staff, GRID_CSV.replace("甲网格", "甲网格（新）"))
    assert "add 0 grids, update 1 and leave 8 unchanged" in text_of(preview)
    assert grids(app)["C1U1G1"][0] == "甲网格（新）"


def test_a_bad_file_reports_every_bad_row_and_stores_nothing(app, staff):
    bad = GRID_CSV + "C1U1G1,重复,C1U1,网格\nC3U1,孤单元,C9,单元网格\nC1U3G1,错级,C1,网格\nC4,,,网格中心\n"
    response = upload(staff, "/grids/import", bad.encode("utf-8"), "grids.csv")
    page = text_of(response)
    assert response.status_code == 400
    assert "Nothing was imported: 4 problem(s) found." in page
    assert "Grid code C1U1G1 appears more than once in the file." in page
    assert "The grid name is empty." in page and "The level “网格中心”" not in page
    assert "A grid centre has no parent" not in page and "The parent C1 is not one level up from this grid." in page
    response = upload(staff, "/grids/import", (GRID_CSV + "C3U1,孤单元,C9,单元网格\nC1U3G1,错级,C1,网格\n").encode("utf-8"), "g.csv")
    page = text_of(response)
    assert "No grid has the parent code C9, in the file or already listed." in page
    assert "The parent C1 is not one level up from this grid." in page
    assert re.search(r"<td>11</td><td>\s*No grid has the parent code C9", page)
    assert grids(app) == {}
    assert upload(staff, "/grids/import", b"\x00\x01", "g.xlsx").status_code == 400
    assert grids(app) == {}


def test_an_altered_preview_imports_nothing(app, staff):
    preview = upload(staff, "/grids/import", GRID_CSV.encode("utf-8"), "grids.csv")
    token = sealed(text_of(preview))
    response = post(staff, "/grids/import", {"table": token[:-2] + ("AA" if not token.endswith("AA") else "BB")})
    assert response.status_code == 302 and grids(app) == {}


def square(x):
    return {"type": "Polygon", "coordinates": [[[x, 32.0], [x + 0.01, 32.0], [x + 0.01, 32.01], [x, 32.01], [x, 32.0]]]}


def test_boundaries_are_stored_whole_or_not_at_all(app, staff):
    import_grids(staff)
    features = [{"type": "Feature", "properties": {"网格编码": code}, "geometry": square(112 + index * 0.01)}
                for index, code in enumerate(("C1U1G1", "C1U1G2", "C1U2G1", "C2U1G1"))]
    bad = features + [{"type": "Feature", "properties": {"code": "X9"}, "geometry": square(0)},
                      {"type": "Feature", "properties": {"code": "C1"}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}}]
    response = upload(staff, "/grids/boundaries", json.dumps({"type": "FeatureCollection", "features": bad}).encode(), "b.geojson")
    page = text_of(response)
    assert response.status_code == 400
    assert "No grid has the code X9." in page and "The geometry of C1 is not a valid Polygon or MultiPolygon." in page
    from voting_app.db import db
    from voting_app.registry.models import Grid

    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Grid.boundary.is_not(None))) == 0
    response = upload(staff, "/grids/boundaries", json.dumps({"type": "FeatureCollection", "features": features}).encode(), "b.geojson")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Grid.boundary.is_not(None))) == 4


# ---- results by grid ------------------------------------------------------------------


def seed_answers(app, built, per_grid: dict[str, tuple[int, int]]):
    """Give each named grid a placement and (satisfied, dissatisfied) answers through it."""
    from surveys import service
    from surveys.models import Placement, Survey
    from voting_app.db import db
    from voting_app.registry.models import Grid

    with app.app_context():
        survey = db.session.get(Survey, built.survey_id)
        for code, (good, bad) in per_grid.items():
            grid = db.session.scalar(select(Grid).where(Grid.code == code))
            placement = service.add_placement("test", survey, f"{code}处", grid.id)
            for rating in [SATISFIED] * good + [DISSATISFIED] * bad:
                service.submit_response(survey, placement, {built.questions["satisfaction"]: [rating],
                                                            built.questions["single"]: [built.options["single"][0]],
                                                            built.questions["rating"]: ["4"]})
        db.session.commit()


def cells(app, survey_id, level):
    from surveys import service
    from surveys.models import Survey
    from voting_app.db import db

    with app.app_context():
        return {(cell.grid.code if cell.grid else None): (cell.rate.valid, cell.rate.satisfied, cell.is_suppressed)
                for cell in service.grid_results(db.session.get(Survey, survey_id), level)}


def test_results_by_each_level_add_up_to_their_children_and_29_answers_are_suppressed(app, staff):
    import_grids(staff)
    built = build_survey(app, places=())
    seed_answers(app, built, {"C1U1G1": (20, 10), "C1U1G2": (20, 9), "C1U2G1": (5, 0), "C2U1G1": (30, 0)})
    by_grid, by_unit, by_centre = (cells(app, built.survey_id, level) for level in (3, 2, 1))
    assert by_grid == {"C1U1G1": (30, 20, False), "C1U1G2": (29, 20, True), "C1U2G1": (5, 5, True), "C2U1G1": (30, 30, False)}
    assert by_unit == {"C1U1": (59, 40, False), "C1U2": (5, 5, True), "C2U1": (30, 30, False)}
    assert by_centre == {"C1": (64, 45, False), "C2": (30, 30, False)}
    page = text_of(staff.get(f"/surveys/{built.survey_id}/results?level=3"))
    section = page[page.index('id="by-grid"'):]
    row = lambda name: re.search(rf"<th scope=\"row\">{name}</th>(.*?)</tr>", section, re.S).group(1)
    assert "Too few answers" in row("乙网格") and "%" not in row("乙网格") and ">29<" in row("乙网格")
    assert "66.6%" in row("甲网格") and "95% interval" in row("甲网格")
    assert "100.0%" in row("丁网格")


def test_the_map_draws_one_region_per_grid_with_its_value_in_the_title(app, staff):
    import_grids(staff)
    features = [{"type": "Feature", "properties": {"code": code}, "geometry": square(112 + index * 0.01)}
                for index, code in enumerate(("C1U1G1", "C1U1G2", "C1U2G1", "C2U1G1"))]
    upload(staff, "/grids/boundaries", json.dumps({"type": "FeatureCollection", "features": features}).encode(), "b.geojson")
    built = build_survey(app, places=())
    seed_answers(app, built, {"C1U1G1": (20, 10), "C1U1G2": (20, 9)})
    page = text_of(staff.get(f"/surveys/{built.survey_id}/grid-map?level=3"))
    assert page.count('<path class="region"') == 4
    assert "<title>甲网格: 66.6% (n=30)</title>" in page
    assert "<title>乙网格: Too few answers</title>" in page
    # a unit grid without a boundary of its own is drawn from its grids'
    page = text_of(staff.get(f"/surveys/{built.survey_id}/grid-map?level=2"))
    assert page.count('<path class="region"') == 3 and "<title>一单元: 67.7% (n=59)</title>" in page


def test_a_household_codes_grid_becomes_its_answers_grid(app, staff):
    import_grids(staff)
    from surveys.models import Response
    from voting_app.db import db
    from voting_app.registry.models import Grid

    with app.app_context():
        grid_id = db.session.scalar(select(Grid.id).where(Grid.code == "C2U1G1"))
    built = build_survey(app, mode="tokened", places=())
    batch = str(MIN_HOUSEHOLDS_PER_CODE_GRID)
    page = text_of(post(staff, f"/surveys/{built.survey_id}/codes", {"count": batch, "grid_id": str(grid_id)}))
    code = re.search(r'<p class="card-name">([^<]+)</p>', page).group(1)
    phone = resident(app)
    assert answer(phone, built.short_code, full_answer(built) | {"household_code": code}).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Response.grid_id)).all() == [grid_id]


def test_codes_for_a_grid_come_no_fewer_than_a_frames_minimum_and_a_smaller_batch_stores_nothing(app, staff):
    """The sample frame gives a code a grid only where it holds 30 households there; codes printed
    by hand for a grid follow the same rule, or a grid's answers would come from a known handful."""
    import_grids(staff)
    from surveys.models import HouseholdCode
    from voting_app.audit import AuditEntry
    from voting_app.db import db
    from voting_app.registry.models import Grid

    assert MIN_HOUSEHOLDS_PER_CODE_GRID == 30
    with app.app_context():
        grid_id = db.session.scalar(select(Grid.id).where(Grid.code == "C2U1G1"))
    built = build_survey(app, mode="tokened", places=())
    staff.set_cookie("lang", "zh_CN")
    too_few = str(MIN_HOUSEHOLDS_PER_CODE_GRID - 1)
    refused = post(staff, f"/surveys/{built.survey_id}/codes", {"count": too_few, "grid_id": str(grid_id)}, follow_redirects=True)
    assert error_flash(text_of(refused)) == [
        "为网格印入户码每次不得少于 30 个，以免少数住户的回答被认出。请多印一些，或不指定网格。"
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HouseholdCode)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "survey.codes_issue")) == 0

    # without a grid a small batch is fine: its answers carry no grid to single anyone out by
    page = text_of(post(staff, f"/surveys/{built.survey_id}/codes", {"count": too_few}))
    assert len(re.findall(r'<p class="card-name">', page)) == MIN_HOUSEHOLDS_PER_CODE_GRID - 1
    with app.app_context():
        assert db.session.scalars(select(HouseholdCode.grid_id).distinct()).all() == [None]


def test_a_placements_grid_is_set_where_staff_edit_it(app, staff):
    import_grids(staff)
    from surveys.models import Placement, Response
    from voting_app.db import db
    from voting_app.registry.models import Grid

    with app.app_context():
        grid_id = db.session.scalar(select(Grid.id).where(Grid.code == "C1U2G1"))
    built = build_survey(app)
    placement_id = built.placement_ids["桥北端"]
    assert "Grid of the QR code" in text_of(staff.get(f"/surveys/{built.survey_id}/placements/{placement_id}/grid"))
    assert post(staff, f"/surveys/{built.survey_id}/placements/{placement_id}/grid", {"grid_id": str(grid_id)}).status_code == 302
    assert post(staff, f"/surveys/{built.survey_id}/placements/{placement_id}/grid", {"grid_id": "999999"}).status_code == 400
    answer(resident(app), built.placements["桥北端"], full_answer(built))
    with app.app_context():
        assert db.session.get(Placement, placement_id).grid_id == grid_id
        assert db.session.scalars(select(Response.grid_id)).all() == [grid_id]


def test_proposal_counts_by_grid_at_every_level(app, staff):
    import_grids(staff)
    from voting_app.db import db
    from voting_app.proposals import service
    from voting_app.registry.models import Grid

    with app.app_context():
        station = service.add_station("test", "米公街道代表联络站")
        ids = [service.submit_proposal(station, f"加装路灯{n}号", "晚上路很黑，希望加装路灯", "", "other", "", []).id for n in range(4)]
        db.session.commit()
        grid = {code: db.session.scalar(select(Grid.id).where(Grid.code == code)) for code in ("C1U1G1", "C1U2G1", "C2U1G1", "C1")}
    for proposal_id, code in zip(ids, ("C1U1G1", "C1U2G1", "C2U1G1", "C1")):
        assert post(staff, f"/proposals/{proposal_id}/grid", {"grid_id": str(grid[code])}).status_code == 302
    with app.app_context():
        totals = {level: {(row.key.code if row.key else None): row.total for row in service.counts_by_grid(level)} for level in (1, 2, 3)}
    assert totals[1] == {"C1": 3, "C2": 1}
    assert totals[2] == {"C1U1": 1, "C1U2": 1, "C2U1": 1, None: 1}
    assert totals[3] == {"C1U1G1": 1, "C1U1G2": 0, "C1U2G1": 1, "C2U1G1": 1, None: 1}
    page = text_of(staff.get("/proposals/by-grid?level=1"))
    assert re.search(r'<th scope="row">一中心</th>.*?<td class="num">3</td></tr>', page, re.S)
