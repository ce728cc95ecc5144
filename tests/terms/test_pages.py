"""The staff's pages for congresses, terms and the registry: create with validation, the term
page's search, filters and pages, the import into the term, changes in office with their
confirmation page, by-elections, the deputy's page; sessions choose their term."""

import html
import io
import re
from datetime import date

import pytest
from flask import url_for

from tests.conftest import make_user, post, sign_in
from voting_app.db import db


@pytest.fixture
def staff(app, client):
    with app.app_context():
        user = make_user("staff")
        db.session.commit()
        sign_in(client, user)
    return user.id


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def make_term(app, deputies: int = 0):
    from voting_app.registry import service as registry
    from voting_app.registry.roster import RosterParse, RosterRow
    from voting_app.sessions import service as sessions

    with app.app_context():
        congress = registry.create_congress("test", "樊城区人民代表大会")
        term = registry.create_term("test", congress, 19, date(2021, 12, 28), date(2028, 12, 31))
        sessions.create_session("test", "樊城区第十九届人民代表大会第六次会议", "会堂", date(2026, 1, 12), term=term, meeting_number=6)
        rows = tuple(
            RosterRow(i + 2, f"{i + 1:03d}", f"代表{i + 1}", "城区代表团" if i % 2 else "农村代表团", "", "", "1380000" + f"{i:04d}")
            for i in range(deputies)
        )
        sessions.import_into_term("test", term, RosterParse(rows, ()))
        db.session.commit()
        return term.id


def urls(app, endpoint, **values):
    with app.app_context():
        return url_for(endpoint, **values)


def test_creating_a_congress_and_a_term_with_validation(app, client, staff):
    page = client.get(urls(app, "terms.term_list"))
    assert page.status_code == 200 and "No congress yet" in text_of(page)
    assert post(client, urls(app, "terms.congress_new"), {"name": "", "level": "district"}).status_code == 400
    response = post(client, urls(app, "terms.congress_new"), {"name": "太平店镇人民代表大会", "level": "town"})
    assert response.status_code == 302
    again = post(client, urls(app, "terms.congress_new"), {"name": "太平店镇人民代表大会", "level": "town"})
    assert again.status_code == 400 and "A congress of that name already exists." in text_of(again)
    new_term = response.headers["Location"]
    bad = post(client, new_term, {"number": "19", "starts_on": "2022-01-01", "ends_on": "2021-01-01"})
    assert bad.status_code == 400 and "A term cannot end before it starts." in text_of(bad)
    assert post(client, new_term, {"number": "0"}).status_code == 400
    created = post(client, new_term, {"number": "19", "starts_on": "2021-12-28", "ends_on": "2026-12-27"})
    assert created.status_code == 302
    duplicate = post(client, new_term, {"number": "19"})
    assert duplicate.status_code == 400 and "This congress already has that term." in text_of(duplicate)
    listing = text_of(client.get(urls(app, "terms.term_list")))
    assert "太平店镇第十九届人民代表大会" in listing and "Township congress" in listing


def test_the_term_page_searches_filters_and_pages_the_registry(app, client, staff):
    term_id = make_term(app, deputies=60)
    base = urls(app, "terms.term_detail", term_id=term_id)
    page = text_of(client.get(base))
    assert "第十九届第六次会议" in page and re.search(r'id="registry-counts".*?<dd>60</dd>.*?<dd>60</dd>.*?<dd>0</dd>', page, re.S)
    assert "60 in all" in page and "page 1 of 2" in page
    assert len(re.findall(r"/terms/\d+/deputies/\d+", page)) == 50
    assert "13800000" not in page  # contacts only on the deputy's own page
    second = text_of(client.get(base + "?page=2"))
    assert len(re.findall(r"/terms/\d+/deputies/\d+", second)) == 10
    found = text_of(client.get(base + "?q=代表１２"))  # full width, as typed on a phone
    assert re.findall(r">(代表\d+)</a>", found) == ["代表12"]
    assert re.findall(r">(代表\d+)</a>", text_of(client.get(base + "?q=007"))) == ["代表7"]  # a whole number
    rural = text_of(client.get(base + "?delegation=农村代表团"))
    assert "30 in all" in rural
    assert "0 in all" in text_of(client.get(base + "?status=left"))
    assert "0 in all" in text_of(client.get(base + "?level=town"))
    assert "60 in all" in text_of(client.get(base + "?level=district&status=in_office"))


def test_importing_into_the_term_keeps_the_preview_and_reaches_its_sessions(app, client, staff):
    term_id = make_term(app)
    target = urls(app, "terms.term_import", term_id=term_id)
    page = client.get(target)
    assert "樊城区第十九届人民代表大会" in text_of(page) and "standing registry" in text_of(page)
    data = "代表证号,姓名,代表团,代表层级,联系电话,性别\n001,张三,城区代表团,区,13800000001,男\n002,李四,城区代表团,市级,,女\n".encode()
    preview = post(client, target, {"file": (io.BytesIO(data), "a.csv")}, content_type="multipart/form-data")
    text = text_of(preview)
    assert preview.status_code == 200 and "This file will add 2 deputies" in text and "性别" in text
    from voting_app.registry.models import TermDeputy
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        assert db.session.query(TermDeputy).count() == 0  # nothing stored before Import
    token = html.unescape(re.findall(r'<input name="table" type="hidden" value="([^"]+)">', preview.get_data(as_text=True))[0])
    done = post(client, target, {"table": token})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/terms/{term_id}")
    assert "Roster imported: 2 added, 0 updated, 0 unchanged." in text_of(client.get(done.headers["Location"]))
    with app.app_context():
        people = {p.number: (p.level, p.contact) for p in db.session.query(TermDeputy)}
        assert people == {"001": ("district", "13800000001"), "002": ("municipal", "")}
        congress = db.session.query(CongressSession).one()
        assert [row.number for row in congress.roster] == ["001"]  # a municipal deputy is not on the district's roster
        session_id = congress.id
    # A token made on the term's page is not one for a session's page, and the other way round.
    refused = post(client, urls(app, "sessions.roster_import", session_id=session_id), {"table": token})
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/roster/import")
    again = post(client, target, {"file": (io.BytesIO(data), "a.csv")}, content_type="multipart/form-data")
    assert "This file will add 0 deputies, update 0 and leave 2 unchanged." in text_of(again)


def test_an_unknown_level_is_a_row_error_and_nothing_is_stored(app, client, staff):
    term_id = make_term(app)
    data = "代表证号,姓名,级别\n001,张三,区\n002,李四,村\n".encode()
    response = post(client, urls(app, "terms.term_import", term_id=term_id), {"file": (io.BytesIO(data), "a.csv")},
                    content_type="multipart/form-data")
    assert response.status_code == 400
    assert "The level “村” is not one of 全国, 省, 市, 区, 乡镇." in text_of(response)
    from voting_app.registry.models import TermDeputy

    with app.app_context():
        assert db.session.query(TermDeputy).count() == 0


def test_the_session_import_page_names_the_term(app, client, staff):
    make_term(app)
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        session_id = db.session.query(CongressSession.id).scalar()
    page = text_of(client.get(urls(app, "sessions.roster_import", session_id=session_id)))
    assert "The file goes into the standing registry of 樊城区第十九届人民代表大会" in page


def test_a_change_in_office_goes_through_a_confirmation_page(app, client, staff):
    term_id = make_term(app, deputies=3)
    from voting_app.registry.models import TermDeputy

    with app.app_context():
        person_id = db.session.query(TermDeputy.id).filter_by(number="002").scalar()
    target = urls(app, "terms.office_change", term_id=term_id, person_id=person_id)
    form = client.get(target)
    assert form.status_code == 200 and "Resigned" in text_of(form)
    future = post(client, target, {"kind": "resigned", "effective_on": "2099-01-01", "note": ""})
    assert future.status_code == 200 and "Confirm" in text_of(future)  # the confirmation, then the service decides
    refused = post(client, target, {"kind": "resigned", "effective_on": "2099-01-01", "note": "", "confirmed": "yes"})
    assert refused.status_code == 400 and "cannot be in the future" in text_of(refused)
    confirm = post(client, target, {"kind": "resigned", "effective_on": "2026-06-15", "note": "工作调动"})
    text = text_of(confirm)
    assert confirm.status_code == 200 and "Confirm: Resigned on 2026-06-15" in text
    assert "Sessions held before that day keep their rosters as they were." in text
    with app.app_context():
        assert db.session.get(TermDeputy, person_id).left_office_on is None  # nothing yet
    done = post(client, target, {"kind": "resigned", "effective_on": "2026-06-15", "note": "工作调动", "confirmed": "yes"})
    assert done.status_code == 302
    page = text_of(client.get(done.headers["Location"]))
    assert "Left office 2026-06-15" in page and "工作调动" in page and 'id="office-history"' in page
    with app.app_context():
        assert db.session.get(TermDeputy, person_id).left_reason == "resigned"


def test_a_by_election_adds_a_deputy_after_confirmation(app, client, staff):
    term_id = make_term(app, deputies=2)
    target = urls(app, "terms.deputy_elected", term_id=term_id)
    values = {"number": "009", "name": "钟文华", "delegation": "城区代表团", "unit": "", "level": "district",
              "contact": "13900000000", "took_office_on": "2026-09-20", "note": "补选"}
    confirm = post(client, target, values)
    assert confirm.status_code == 200 and "Confirm the by-election: 钟文华" in text_of(confirm)
    clash = post(client, target, {**values, "number": "001", "confirmed": "yes"})
    assert clash.status_code == 400 and "Another deputy of this term has that number." in text_of(clash)
    done = post(client, target, {**values, "confirmed": "yes"})
    assert done.status_code == 302
    page = text_of(client.get(done.headers["Location"]))
    assert "Elected in a by-election" in page and "13900000000" in page


def test_the_deputys_page_shows_attendance_and_never_a_vote(app, client, staff):
    term_id = make_term(app, deputies=2)
    from voting_app.registry.models import TermDeputy
    from voting_app.sessions import service as sessions
    from voting_app.sessions.models import Deputy

    with app.app_context():
        row = db.session.query(Deputy).filter_by(number="001").one()
        sessions.check_in(row, sessions.DESK)
        db.session.commit()
        person_id = db.session.query(TermDeputy.id).filter_by(number="001").scalar()
    page = text_of(client.get(urls(app, "terms.deputy_detail", term_id=term_id, person_id=person_id)))
    assert "第十九届第六次会议" in page and "Checked in" in page and "No supervision visit recorded." in page
    assert "13800000000" in page  # the contact, for staff
    assert not re.search(r"voted|ballot", page.replace("How a deputy voted is secret: no page shows it.", ""), re.I)


def test_a_deputy_is_linked_to_a_grid_and_the_change_is_audited(app, client, staff):
    term_id = make_term(app, deputies=1)
    from voting_app.audit import AuditEntry
    from voting_app.registry.models import Grid, TermDeputy

    with app.app_context():
        centre = Grid(code="C01", name="米公网格中心", level=1)
        db.session.add(centre)
        db.session.commit()
        centre_id = centre.id
        person_id = db.session.query(TermDeputy.id).filter_by(number="001").scalar()
    page = urls(app, "terms.deputy_detail", term_id=term_id, person_id=person_id)
    target = urls(app, "terms.deputy_grid", term_id=term_id, person_id=person_id)
    assert post(client, target, {"grid_id": "999999"}).status_code == 302  # not a grid: refused, nothing stored
    with app.app_context():
        assert db.session.get(TermDeputy, person_id).grid_id is None
    assert post(client, target, {"grid_id": str(centre_id)}).status_code == 302
    assert "Grid saved." in text_of(client.get(page))
    with app.app_context():
        assert db.session.get(TermDeputy, person_id).grid_id == centre_id
        entry = db.session.query(AuditEntry).filter_by(action="registry.deputy_grid").one()
        assert entry.target == f"term_deputy:{person_id}"
    post(client, target, {"grid_id": ""})
    with app.app_context():
        assert db.session.get(TermDeputy, person_id).grid_id is None


def _grids_of(app) -> dict:
    from voting_app.registry.models import TermDeputy

    with app.app_context():
        return {person.number: person.grid.code if person.grid else None for person in db.session.query(TermDeputy)}


def _add_grids(app, *grids: tuple[str, str, int, str]) -> None:
    """Grids as (code, name, level, parent code), stored; the checks need only their codes."""
    from voting_app.registry.models import Grid

    with app.app_context():
        stored = {}
        for code, name, level, parent in grids:
            stored[code] = Grid(code=code, name=name, level=level, parent=stored.get(parent))
            db.session.add(stored[code])
        db.session.commit()


def test_a_grid_column_links_deputies_to_grids_after_a_preview_of_the_changes(app, client, staff):
    term_id = make_term(app, deputies=2)
    _add_grids(app, ("C01", "米公网格中心", 1, ""), ("C01U01", "一单元", 2, "C01"))
    from voting_app.audit import AuditEntry
    from voting_app.registry import service as registry
    from voting_app.registry.models import Grid, TermDeputy

    with app.app_context():
        person = db.session.query(TermDeputy).filter_by(number="002").one()
        registry.set_deputy_grid("test", person, db.session.query(Grid).filter_by(code="C01").one())
        db.session.commit()
    target = urls(app, "terms.term_import", term_id=term_id)
    assert "网格编码 or 网格" in text_of(client.get(target))

    def check(body: str):
        return post(client, target, {"file": (io.BytesIO(body.encode()), "a.csv")}, content_type="multipart/form-data")

    client.set_cookie("lang", "zh_CN")
    refused = check("代表证号,姓名,网格\n001,代表1,C01U01\n002,代表2,C99\n")
    assert refused.status_code == 400 and "没有编码为C99的网格。" in text_of(refused)
    assert 'name="table"' not in refused.get_data(as_text=True)
    client.set_cookie("lang", "en")
    assert _grids_of(app) == {"001": None, "002": "C01"}

    body = "代表证号,姓名,网格编码\n001,代表1,C01U01\n002,代表2,C01U01\n003,新代表,C01\n004,另一新代表,\n"
    preview = check(body)
    page = text_of(preview)
    assert preview.status_code == 200 and "This file will add 2 deputies, update 2 and leave 0 unchanged." in page
    changes = re.search(r'id="grid-changes".*?</table>', page, re.S).group(0)
    assert re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", changes) == [
        ("2", "001", "代表1", "—", "一单元（C01U01）"),
        ("3", "002", "代表2", "米公网格中心（C01）", "一单元（C01U01）"),
        ("4", "003", "新代表", "—", "米公网格中心（C01）"),
    ]
    assert _grids_of(app) == {"001": None, "002": "C01"}  # nothing stored before Import
    token = html.unescape(re.findall(r'<input name="table" type="hidden" value="([^"]+)">', preview.get_data(as_text=True))[0])
    assert post(client, target, {"table": token}).status_code == 302
    assert _grids_of(app) == {"001": "C01U01", "002": "C01U01", "003": "C01", "004": None}
    with app.app_context():
        people = {person.id: person.number for person in db.session.query(TermDeputy)}
        entries = db.session.query(AuditEntry).filter_by(action="registry.deputy_grid").order_by(AuditEntry.id).all()
        assert [(people[int(entry.target.split(":")[1])], entry.details["grid"]) for entry in entries] == [
            ("002", "C01"), ("001", "C01U01"), ("002", "C01U01"), ("003", "C01"),
        ]
    again = text_of(check(body))
    assert "add 0 deputies, update 0 and leave 4 unchanged." in again and 'id="grid-changes"' not in again
    assert "leave 1 unchanged." in text_of(check("代表证号,姓名,网格\n001,代表1,\n"))  # an empty cell keeps the grid
    template = client.get(urls(app, "terms.registry_template", term_id=term_id)).data
    assert "网格编码" in template.decode("utf-8-sig") and check(template.decode("utf-8-sig")).status_code == 200


def test_a_grid_removed_after_the_preview_stops_the_import(app, client, staff):
    term_id = make_term(app, deputies=1)
    _add_grids(app, ("C09", "九号网格中心", 1, ""))
    from voting_app.registry.models import Grid

    target = urls(app, "terms.term_import", term_id=term_id)
    data = "代表证号,姓名,网格\n001,代表1,C09\n002,新代表,\n".encode()
    preview = post(client, target, {"file": (io.BytesIO(data), "a.csv")}, content_type="multipart/form-data")
    assert preview.status_code == 200
    with app.app_context():
        db.session.query(Grid).filter_by(code="C09").delete()
        db.session.commit()
    token = html.unescape(re.findall(r'<input name="table" type="hidden" value="([^"]+)">', preview.get_data(as_text=True))[0])
    refused = post(client, target, {"table": token}, follow_redirects=True)
    assert "This preview is out of date or not this term's. Check the file again." in text_of(refused)
    assert _grids_of(app) == {"001": None}  # not even the new deputy without a grid


def test_contacts_stay_off_the_session_pages(app, client, staff):
    make_term(app, deputies=3)
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        session_id = db.session.query(CongressSession.id).scalar()
    for endpoint in ("sessions.roster", "sessions.checkin_desk", "sessions.credential_list", "sessions.session_detail"):
        assert "1380000" not in client.get(urls(app, endpoint, session_id=session_id)).get_data(as_text=True), endpoint


def test_a_session_chooses_its_term_and_meeting(app, client, staff):
    term_id = make_term(app)
    form = text_of(client.get(urls(app, "sessions.session_new")))
    assert "樊城区第十九届人民代表大会" in form
    response = post(client, urls(app, "sessions.session_new"),
                    {"name": "第七次会议", "term_id": str(term_id), "meeting_number": "7", "starts_on": "2027-01-10"})
    assert response.status_code == 302
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        congress = db.session.query(CongressSession).filter_by(name="第七次会议").one()
        assert (congress.term_id, congress.meeting_number) == (term_id, 7)
        session_id = congress.id
    assert "第十九届第七次会议" in text_of(client.get(urls(app, "sessions.session_detail", session_id=session_id)))
    assert "第十九届第七次会议" in text_of(client.get(urls(app, "sessions.session_list")))
    edited = post(client, urls(app, "sessions.session_edit", session_id=session_id),
                  {"name": "第七次会议", "term_id": str(term_id), "meeting_number": "8", "starts_on": "2027-01-10"})
    assert edited.status_code == 302
    with app.app_context():
        assert db.session.get(CongressSession, session_id).meeting_number == 8


def test_the_session_roster_end_of_term_form_offers_the_kinds(app, client, staff):
    make_term(app, deputies=3)
    from tests.terms.test_office_changes import with_round
    from voting_app.registry.models import TermDeputy
    from voting_app.sessions.models import CongressSession, Deputy

    with app.app_context():
        congress = db.session.query(CongressSession).one()
        with_round(congress, "closed")
        db.session.commit()
        session_id, deputy_id = congress.id, db.session.query(Deputy.id).filter_by(number="003").scalar()
    target = urls(app, "sessions.deputy_term_end", session_id=session_id, deputy_id=deputy_id)
    form = text_of(client.get(target))
    assert all(label in form for label in ("Resigned", "Recalled", "Deceased", "Moved away", "Other"))
    assert "Elected in a by-election" not in form
    done = post(client, target, {"kind": "recalled", "ended_on": "2026-02-01", "reason": "依法罢免"})
    assert done.status_code == 302
    with app.app_context():
        person = db.session.query(TermDeputy).filter_by(number="003").one()
        assert (person.left_reason, person.changes[-1].kind, person.changes[-1].note) == ("recalled", "recalled", "依法罢免")


def test_the_session_roster_end_of_term_form_starts_from_the_registrys_day(app, client, staff):
    """The term's pages recorded that 003 left after the session's day: the session's form starts
    from that day and kind, and refuses another day with a message that says where it is kept."""
    make_term(app, deputies=3)
    from voting_app.registry.models import TermDeputy
    from voting_app.sessions import service as sessions
    from voting_app.sessions.models import CongressSession, Deputy

    with app.app_context():
        congress = db.session.query(CongressSession).one()
        leaver = db.session.query(TermDeputy).filter_by(number="003").one()
        sessions.record_office_change("test", leaver, "moved", date(2026, 2, 1), "调离本区", date(2026, 2, 1))
        db.session.commit()
        session_id, deputy_id = congress.id, db.session.query(Deputy.id).filter_by(number="003").scalar()
    target = urls(app, "sessions.deputy_term_end", session_id=session_id, deputy_id=deputy_id)
    form = client.get(target).get_data(as_text=True)
    assert 'value="2026-02-01"' in form and '<option selected value="moved">' in form and 'value="调离本区"' in form
    assert "The term’s registry records that 代表3 left office on 2026-02-01 (Moved away)" in text_of(client.get(target))
    refused = post(client, target, {"kind": "moved", "ended_on": "2026-01-20", "reason": "调离本区"})
    assert refused.status_code == 400
    assert "The term's registry records that 代表3 left office on 2026-02-01: record that date here." in text_of(refused)
    with app.app_context():
        assert db.session.get(Deputy, deputy_id).is_in_office
    done = post(client, target, {"kind": "other", "ended_on": "2026-02-01", "reason": "调离本区"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Deputy, deputy_id).term_ended_on == date(2026, 2, 1)
        assert [change.kind for change in db.session.query(TermDeputy).filter_by(number="003").one().changes] == ["moved"]


def test_the_grid_select_groups_some_760_grids_under_their_centres(app, client, staff):
    """One select of every grid is long: its options sit under their grid centre (optgroup), the
    grids indented under their unit grid, and choosing one inside a group still saves it."""
    term_id = make_term(app, deputies=1)
    _add_grids(app, ("C01", "米公网格中心", 1, ""), ("C01-U01", "米公一单元", 2, "C01"), ("C01-U01-G01", "米公一网格", 3, "C01-U01"),
               ("C02", "屏襄门网格中心", 1, ""), ("C02-U01", "屏襄门一单元", 2, "C02"))
    from voting_app.registry.models import Grid, TermDeputy

    with app.app_context():
        by_code = {grid.code: grid for grid in db.session.query(Grid)}
        for grid in by_code.values():  # the ancestors an import records (grid_service)
            grid.centre_id = by_code[grid.code[:3]].id if grid.level > 1 else None
        db.session.commit()
        person_id = db.session.query(TermDeputy.id).filter_by(number="001").scalar()
    page = client.get(urls(app, "terms.deputy_detail", term_id=term_id, person_id=person_id)).get_data(as_text=True)
    first = page.index('<optgroup label="米公网格中心（C01）">')
    second = page.index('<optgroup label="屏襄门网格中心（C02）">')
    assert first < page.index("米公一单元（C01-U01）") < page.index("\u3000米公一网格（C01-U01-G01）") < second
    assert second < page.index("屏襄门一单元（C02-U01）")
    with app.app_context():
        grid_id = db.session.query(Grid.id).filter_by(code="C01-U01-G01").scalar()
    post(client, urls(app, "terms.deputy_grid", term_id=term_id, person_id=person_id), {"grid_id": str(grid_id)})
    assert _grids_of(app) == {"001": "C01-U01-G01"}
