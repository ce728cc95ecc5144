"""Sample frames: household lists imported per grid, a reproducible audited draw, exactly the
frame's households printed a code each with no household-code pairing stored, and the frame's
response rate overall and per grid with small cells suppressed."""

import re

import pytest
from sqlalchemy import select

from surveys import frame_rules
from surveys.models import FrameHousehold, HouseholdCode, SampleFrame
from tests.conftest import post
from tests.helpers import signed_in
from tests.registry.test_grids import import_grids, sealed, upload
from tests.surveys.helpers import build_survey, resident, text_of
from tests.surveys.test_household_codes import with_code
from voting_app.audit import AuditEntry
from voting_app.db import db
from voting_app.registry.models import Household

# 40 households in 甲网格, 40 in 乙网格, 10 in 丙网格, 5 in 丁网格
HOUSEHOLDS = (
    [("C1U1G1", f"幸福路{i}号") for i in range(1, 41)]
    + [("C1U1G2", f"和平街{i}号") for i in range(1, 41)]
    + [("C1U2G1", f"解放路{i}号") for i in range(1, 11)]
    + [("C2U1G1", f"人民路{i}号") for i in range(1, 6)]
)


def household_csv(rows=HOUSEHOLDS) -> bytes:
    return ("地址,网格编码\n" + "".join(f"{address},{grid}\n" for grid, address in rows)).encode("utf-8")


def import_households(client, content: bytes = None, filename: str = "households.csv"):
    preview = upload(client, "/households/import", content or household_csv(), filename)
    if preview.status_code != 200:
        return preview, None
    return preview, post(client, "/households/import", {"table": sealed(text_of(preview))})


@pytest.fixture
def staff(app):
    client = signed_in(app, "staff")
    import_grids(client)
    return client


@pytest.fixture
def listed(app, staff):
    preview, done = import_households(staff)
    assert done.status_code == 302, text_of(preview)
    return staff


@pytest.fixture
def tokened(app):
    return build_survey(app, mode="tokened")


def count(app, model) -> int:
    with app.app_context():
        return len(db.session.scalars(select(model)).all())


def draw(client, survey_id, size=None, scope=""):
    return post(client, f"/surveys/{survey_id}/frames", {"size": str(size or ""), "scope_id": scope})


def the_frame(app) -> dict:
    with app.app_context():
        frame = db.session.scalars(select(SampleFrame)).one()
        return {"id": frame.id, "seed": frame.seed, "size": frame.size, "list_size": frame.list_size,
                "households": sorted(m.household_id for m in frame.households), "printed": frame.printed_at}


# ---- import -----------------------------------------------------------------------------

def test_a_household_list_is_previewed_imported_counted_per_grid_and_idempotent(app, staff):
    preview, done = import_households(staff)
    assert "This file will add 95 households and leave 0 already listed." in text_of(preview)
    assert done.status_code == 302
    assert count(app, Household) == 95
    page = text_of(staff.get("/households"))
    assert "Households listed: 95" in page and "甲网格" in page
    again, done = import_households(staff)
    assert "This file will add 0 households and leave 95 already listed." in text_of(again)
    assert count(app, Household) == 95
    with app.app_context():
        assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "household.import")).all()


@pytest.mark.parametrize("content, problem", [
    (household_csv([("C9", "幸福路1号")]), "No grid has the code C9."),
    (household_csv([("C1U1G1", "")]), "The address is empty."),
    (household_csv([("C1U1G1", "幸福路1号"), ("C1U1G1", "幸福路 1号")]), "The address 幸福路 1号 appears more than once in this grid."),
    ("网格编码\nC1U1G1\n".encode(), "The header has no “address” column."),
    (b"\x00\x01garbage", None),
])
def test_a_bad_household_file_stores_nothing_and_says_why(app, staff, content, problem):
    preview, done = import_households(staff, household_csv(HOUSEHOLDS[:3]) + b"" if False else content)
    assert preview.status_code == 400 and done is None
    page = text_of(preview)
    assert "Nothing was imported" in page
    if problem:
        assert problem in page, page
    assert count(app, Household) == 0


def test_the_same_address_in_two_grids_is_two_households(app, staff):
    _, done = import_households(staff, household_csv([("C1U1G1", "幸福路1号"), ("C1U1G2", "幸福路1号")]))
    assert done.status_code == 302 and count(app, Household) == 2


# ---- the draw -----------------------------------------------------------------------------

def test_the_draw_is_reproducible_from_its_seed_and_differs_with_another():
    ids = list(range(1, 1001))
    first = frame_rules.draw(reversed(ids), 300, "abc")
    assert first == frame_rules.draw(ids, 300, "abc") and len(set(first)) == 300
    assert first != frame_rules.draw(ids, 300, "abd")
    # pinned: the algorithm (sorted ids, random.Random(seed).sample) must not drift
    assert frame_rules.draw(range(1, 21), 5, "seed") == sorted(__import__("random").Random("seed").sample(list(range(1, 21)), 5))
    with pytest.raises(frame_rules.FrameError, match="too_large"):
        frame_rules.draw(ids, 1001, "abc")


def test_staff_draw_a_frame_of_300_by_default_recorded_and_audited(app, listed, tokened):
    page = text_of(listed.get(f"/surveys/{tokened.survey_id}/frames"))
    assert 'value="300"' in page
    response = draw(listed, tokened.survey_id, 300)
    assert response.status_code == 400
    assert "fewer households than the frame" in text_of(response)
    assert count(app, SampleFrame) == 0
    response = draw(listed, tokened.survey_id, 30)
    assert response.status_code == 302
    frame = the_frame(app)
    assert frame["size"] == 30 and frame["list_size"] == 95 and len(frame["households"]) == 30
    with app.app_context():
        ids = db.session.scalars(select(Household.id)).all()
        assert frame_rules.draw(ids, 30, frame["seed"]) == frame["households"]
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "survey.frame_draw")).all()
        assert frame["seed"] in str(entry.details) and "95" in str(entry.details)
    verified = text_of(listed.get(f"/surveys/{tokened.survey_id}/frames/{frame['id']}/verify"))
    assert "Verified: drawing again from the seed gives exactly these 30 households." in verified


def test_a_frame_of_a_subtree_draws_only_its_households(app, listed, tokened):
    with app.app_context():
        from voting_app.registry.models import Grid
        unit = db.session.scalars(select(Grid).where(Grid.code == "C1U2")).one()
        unit_id = unit.id
        allowed = set(db.session.scalars(select(Household.id).where(Household.grid_id.in_(select(Grid.id).where(Grid.unit_id == unit_id)))))
    assert draw(listed, tokened.survey_id, 11, str(unit_id)).status_code == 400  # 丙网格 lists 10
    assert draw(listed, tokened.survey_id, 10, str(unit_id)).status_code == 302
    assert set(the_frame(app)["households"]) == allowed


def test_a_redraw_changes_the_seed_until_the_codes_are_printed(app, listed, tokened):
    draw(listed, tokened.survey_id, 50)
    before = the_frame(app)
    base = f"/surveys/{tokened.survey_id}/frames/{before['id']}"
    assert "Draw frame" in text_of(listed.get(base + "/redraw"))  # confirmation page without JavaScript
    assert post(listed, base + "/redraw").status_code == 302
    after = the_frame(app)
    assert after["seed"] != before["seed"] and after["households"] != before["households"]
    assert "Create and print 50 codes" in text_of(listed.get(base + "/print"))
    assert post(listed, base + "/print").status_code == 200
    refused = post(listed, base + "/redraw", follow_redirects=True)
    assert "can no longer be drawn again" in text_of(refused)
    assert the_frame(app)["seed"] == after["seed"]
    again = post(listed, base + "/print", follow_redirects=True)
    assert "printed already" in text_of(again)
    assert count(app, HouseholdCode) == 50


# ---- printing and privacy -------------------------------------------------------------

def slips(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<p class="card-name">([^<]+)</p>\s*<p class="card-address">([^<]+)</p>', page)


def test_the_sheet_prints_exactly_the_frames_households_with_fresh_codes_and_stores_no_pairing(app, listed, tokened):
    draw(listed, tokened.survey_id, 60)
    frame = the_frame(app)
    response = post(listed, f"/surveys/{tokened.survey_id}/frames/{frame['id']}/print")
    assert response.headers["Cache-Control"] == "no-store"
    printed = slips(text_of(response))
    assert len(printed) == 60 and len({code for code, _ in printed}) == 60
    with app.app_context():
        addresses = sorted(db.session.scalars(select(Household.address).where(Household.id.in_(frame["households"]))))
        codes = db.session.scalars(select(HouseholdCode).where(HouseholdCode.frame_id == frame["id"])).all()
        assert len(codes) == 60 and len({c.created_at for c in codes}) == 1
        # no column of a code names a household, and no column of a frame row names a code
        assert set(HouseholdCode.__table__.columns.keys()) == {"id", "survey_id", "code_hash", "used_at", "grid_id", "created_at", "frame_id"}
        assert set(FrameHousehold.__table__.columns.keys()) == {"frame_id", "household_id"}
    assert sorted(address for _, address in printed) == addresses
    # the printed codes open the survey and count for the frame
    code = printed[0][0]
    answered = post(resident(app), f"/s/{tokened.short_code}", with_code(tokened, code))
    assert answered.status_code == 302, text_of(answered)


def test_a_code_names_its_grid_only_where_the_frame_holds_30_households_there():
    parents = {1: None, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3}  # 1 centre; units 2, 3; grids 4, 5 under 2 and 6 under 3
    grids = [4] * 30 + [5] * 10 + [6] * 5
    chosen = frame_rules.code_grids(grids, parents)
    assert chosen[:30] == [4] * 30  # 30 in grid 4: its own grid
    assert chosen[30:40] == [2] * 10  # 10 in grid 5: its unit (40 there)
    assert chosen[40:] == [1] * 5  # 5 in grid 6, 5 in unit 3: the centre (45)
    assert frame_rules.code_grids([4] * 3, parents) == [None] * 3


# ---- the response rate ----------------------------------------------------------------

def rate_cells(page: str) -> list[tuple]:
    page = re.sub(r">\s+<", "><", page)
    return re.findall(r'<tr><td>([^<]+)</td><td class="num">(\d+)</td><td class="num">([^<]+)</td><td class="num">([^<]+)</td></tr>', page)

def test_the_results_show_the_frames_response_rate_with_small_grids_suppressed(app, listed, tokened):
    draw(listed, tokened.survey_id, 95)
    frame = the_frame(app)
    printed = slips(text_of(post(listed, f"/surveys/{tokened.survey_id}/frames/{frame['id']}/print")))
    by_address = dict((address, code) for code, address in printed)
    used = [by_address[f"幸福路{i}号"] for i in range(1, 13)] + [by_address[f"和平街{i}号"] for i in range(1, 4)] + [by_address["人民路1号"]]
    for number, code in enumerate(used):
        client = resident(app, address=f"198.51.100.{number + 20}")
        assert post(client, f"/s/{tokened.short_code}", with_code(tokened, code)).status_code == 302
    page = text_of(listed.get(f"/surveys/{tokened.survey_id}/results?level=3"))
    assert "16 of 95 codes used: 16.8%" in page
    cells = rate_cells(page)
    assert ("甲网格", "40", "12", "30.0%") in cells
    assert ("乙网格", "40", "3", "7.5%") in cells
    assert ("丁网格", "5", "—", "Too few answers") in cells
    centre = text_of(listed.get(f"/surveys/{tokened.survey_id}/results?level=1"))
    cells = rate_cells(centre)
    assert ("一中心", "90", "15", "16.7%") in cells
    assert ("二中心", "5", "—", "Too few answers") in cells
