"""Deputy groups (代表小组): the rules of membership, the staff pages (list, a group's page,
members added by search or by pasted numbers, removal and deletion after a confirmation,
memberships imported from a file), a project's supervision group, and the deputy's
supervision list that opens with their own group's projects."""

import io
import re

import pytest
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.conftest import build_world, fresh_term, make_user, post, sign_in
from tests.helpers import new_client
from voting_app.errors import ConflictError, DomainError
from voting_app.registry.group_rules import (
    PROFESSIONAL,
    REGIONAL,
    read_membership_table,
    read_pasted_numbers,
)

ROWS = [("001", "张三", "米公街道代表团"), ("002", "李四", "米公街道代表团"), ("003", "王五", "牛首镇代表团"),
        ("010", "赵六", "牛首镇代表团"), ("011", "孙七", "城区代表团")]


# Pure rules


def test_pasted_numbers_take_the_first_item_of_each_line_and_keep_line_numbers():
    lines = read_pasted_numbers("001 张三\n\n  ００２\t李四\n003，王五\n")
    assert [(line.line, line.number) for line in lines] == [(1, "001"), (3, "002"), (4, "003")]
    assert read_pasted_numbers("") == [] and read_pasted_numbers(" \n \n") == []


def test_a_membership_table_names_its_columns_and_each_bad_row():
    rows, problems = read_membership_table([["代表证号", "代表小组"], ["001", "米公街道代表小组"], ["", "教育专业代表小组"],
                                            ["002", ""], ["", ""], ["001", "米公街道代表小组"], ["003", "x" * 101]])
    assert [(row.line, row.number, row.group) for row in rows] == [(2, "001", "米公街道代表小组")]
    assert [(p.line, p.code, p.column) for p in problems] == [
        (3, "missing_value", "number"), (4, "missing_value", "group"), (7, "too_long", "group")]
    assert [p.code for p in read_membership_table([["姓名", "代表小组"]])[1]] == ["missing_column"]
    assert [p.code for p in read_membership_table([])[1]] == ["empty_file"]
    assert [p.code for p in read_membership_table([["代表证号", "小组"]])[1]] == ["empty_file"]


# Services


def _term_with_deputies(rows=ROWS):
    from voting_app.registry import service as registry
    from voting_app.registry.roster import RosterParse, RosterRow

    term = fresh_term()
    parsed = RosterParse(tuple(RosterRow(i + 2, number, name, delegation, "") for i, (number, name, delegation) in enumerate(rows)), ())
    registry.import_term_deputies("test", term, parsed)
    return term


def _deputy(term, number):
    return next(deputy for deputy in term.deputies if deputy.number == number)


def test_membership_rules(app):
    from voting_app.audit import AuditEntry
    from voting_app.db import db
    from voting_app.registry import groups

    with app.app_context(), force_locale("en"):
        term, other = _term_with_deputies(), _term_with_deputies()
        place = groups.create_group("test", term, " 米公街道  代表小组 ", REGIONAL)
        assert place.name == "米公街道 代表小组"
        with pytest.raises(groups.GroupError) as refused:
            groups.create_group("test", term, "米公街道 代表小组", PROFESSIONAL)
        assert refused.value.field == "name"
        assert groups.create_group("test", other, "米公街道 代表小组").term_id == other.id  # unique per term only
        with pytest.raises(groups.GroupError):
            groups.create_group("test", term, "名字", "secret")
        teaching = groups.create_group("test", term, "教育专业代表小组", PROFESSIONAL)
        zhang = _deputy(term, "001")
        groups.add_member("test", place, zhang)
        groups.add_member("test", teaching, zhang)  # one by place and one professional
        assert [g.name for g in groups.groups_of_deputy(zhang)] == ["教育专业代表小组", "米公街道 代表小组"]
        with pytest.raises(ConflictError):
            groups.add_member("test", place, zhang)
        with pytest.raises(DomainError, match="not a deputy of this group"):
            groups.add_member("test", place, _deputy(other, "002"))
        # Any level: a municipal deputy meets in the district's group too.
        li = _deputy(term, "002")
        li.level = "municipal"
        groups.add_member("test", place, li)
        # The convener is one of the members; leaving the group ends it.
        with pytest.raises(groups.GroupError, match="convener"):
            groups.update_group("test", place, place.name, REGIONAL, "", _deputy(term, "003"))
        assert groups.update_group("test", place, "米公街道代表小组", REGIONAL, "每月第一周活动", li) == ["convener_id", "name", "note"]
        groups.remove_member("test", place, next(m for m in place.memberships if m.term_deputy_id == li.id))
        assert place.convener_id is None and [d.number for d in place.members_in_roster_order] == ["001"]
        assert groups.update_group("test", teaching, "教育专业代表小组", REGIONAL, "", None) == ["kind"]
        db.session.commit()
        actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("group.%"))))
        assert actions.count("group.create") == 3 and "group.update" in actions and "group.member_remove" in actions


def test_a_group_supervising_a_project_is_not_deleted(app):
    from voting_app.db import db
    from voting_app.projects import service as projects
    from voting_app.registry import groups
    from voting_app.registry.models import DeputyGroup, GroupMembership

    with app.app_context(), force_locale("en"):
        term = _term_with_deputies()
        group = groups.create_group("test", term, "牛首镇代表小组")
        groups.add_member("test", group, _deputy(term, "003"))
        project = projects.create_project("test", "staff", name="农村饮水", year=2027, supervision_group=group)
        with pytest.raises(ConflictError, match="农村饮水"):
            groups.delete_group("test", group, projects.supervised_names(group))
        projects.update_project("test", "staff", project, supervision_group=None)
        assert [(c.old_value, c.new_value) for c in project.changes if c.field == "supervision_group"] == [("牛首镇代表小组", "")]
        groups.delete_group("test", group, projects.supervised_names(group))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(DeputyGroup)) == 0
        assert db.session.scalar(select(func.count()).select_from(GroupMembership)) == 0


def test_bulk_add_names_each_bad_line_and_stores_nothing(app):
    from voting_app.db import db
    from voting_app.registry import groups

    with app.app_context(), force_locale("en"):
        term = _term_with_deputies()
        group = groups.create_group("test", term, "米公街道代表小组")
        groups.add_member("test", group, _deputy(term, "002"))
        from datetime import date

        _deputy(term, "011").left_office_on = date(2026, 3, 1)
        db.session.commit()
        with pytest.raises(groups.BulkAddError) as refused:
            groups.add_members_by_numbers("test", group, "001 张三\n999\n\n011\n003")
        assert [(p.line, p.text) for p in refused.value.problems] == [(2, "999"), (4, "011")]
        assert "No deputy of this term" in refused.value.problems[0].problem
        assert "left office" in refused.value.problems[1].problem
        db.session.rollback()
        group = db.session.get(type(group), group.id)
        assert [d.number for d in group.members_in_roster_order] == ["002"]
        result = groups.add_members_by_numbers("test", group, "1\n002\n003\n003\n10")
        assert [d.number for d in result.added] == ["001", "003", "010"] and [d.number for d in result.already] == ["002"]
        assert [d.number for d in group.members_in_roster_order] == ["001", "002", "003", "010"]
        with pytest.raises(groups.GroupError):
            groups.add_members_by_numbers("test", group, "\n \n")


# Staff pages


@pytest.fixture
def staff(app):
    from voting_app.db import db

    client = new_client(app)
    with app.app_context():
        user = make_user("staff")
        db.session.commit()
        sign_in(client, user)
    return client


@pytest.fixture
def term_id(app):
    from voting_app.db import db
    from voting_app.registry import groups

    with app.app_context():
        term = _term_with_deputies()
        groups.create_group("test", term, "米公街道代表小组")
        groups.create_group("test", term, "心理健康专业代表小组", PROFESSIONAL)
        db.session.commit()
        return term.id


def _group_id(app, name):
    from voting_app.db import db
    from voting_app.registry.models import DeputyGroup

    with app.app_context():
        return db.session.scalar(select(DeputyGroup.id).where(DeputyGroup.name == name))


def _members(app, group_id):
    from voting_app.db import db
    from voting_app.registry.models import DeputyGroup

    with app.app_context():
        return [d.number for d in db.session.get(DeputyGroup, group_id).members_in_roster_order]


def test_the_groups_page_lists_the_terms_groups_by_kind(app, staff, term_id):
    page = staff.get(f"/groups/?term={term_id}").get_data(as_text=True)
    assert "米公街道代表小组" in page and "心理健康专业代表小组" in page
    professional = staff.get(f"/groups/?term={term_id}&kind=professional").get_data(as_text=True)
    assert "心理健康专业代表小组" in professional and "米公街道代表小组" not in professional
    response = post(staff, f"/groups/new?term={term_id}", {"name": "米公街道代表小组", "kind": "regional"})
    assert response.status_code == 400 and "already has a group named" in response.get_data(as_text=True)
    response = post(staff, f"/groups/new?term={term_id}", {"name": "牛首镇代表小组", "kind": "regional"})
    assert response.status_code == 302 and _group_id(app, "牛首镇代表小组") is not None


def test_members_are_added_by_search_and_by_pasted_numbers(app, staff, term_id):
    group_id = _group_id(app, "米公街道代表小组")
    found = staff.get(f"/groups/{group_id}?q=张").get_data(as_text=True)
    deputy_id = re.search(r'name="deputy" value="(\d+)"', found).group(1)
    assert post(staff, f"/groups/{group_id}/members", {"deputy": deputy_id}).status_code == 302
    assert _members(app, group_id) == ["001"]
    refused = post(staff, f"/groups/{group_id}/members/bulk", {"numbers": "002\n404\n003\nabc"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Nothing was added: 2 line(s) to correct." in page
    assert re.search(r"<td>2</td><td>404</td>", page) and re.search(r"<td>4</td><td>abc</td>", page)
    assert _members(app, group_id) == ["001"]
    assert post(staff, f"/groups/{group_id}/members/bulk", {"numbers": "001\n002\n003"}).status_code == 302
    assert _members(app, group_id) == ["001", "002", "003"]
    assert "2 added to the group. 1 already in it." in staff.get(f"/groups/{group_id}").get_data(as_text=True)


def test_a_members_level_reads_in_the_registrys_words(app, staff, term_id):
    from voting_app.db import db
    from voting_app.registry.models import Term
    from voting_app.registry.terms import TOWN

    group_id = _group_id(app, "米公街道代表小组")
    with app.app_context():
        _deputy(db.session.get(Term, term_id), "003").level = TOWN
        db.session.commit()
    post(staff, f"/groups/{group_id}/members/bulk", {"numbers": "003"})
    page = staff.get(f"/groups/{group_id}").get_data(as_text=True)
    assert '<td data-label="Level">Township</td>' in page
    staff.set_cookie("lang", "zh_CN")
    assert '<td data-label="层级">乡镇</td>' in staff.get(f"/groups/{group_id}").get_data(as_text=True)


def test_a_member_is_removed_after_a_confirmation(app, staff, term_id):
    from voting_app.db import db
    from voting_app.registry.models import DeputyGroup

    group_id = _group_id(app, "米公街道代表小组")
    post(staff, f"/groups/{group_id}/members/bulk", {"numbers": "001\n002"})
    with app.app_context():
        membership_id = db.session.get(DeputyGroup, group_id).memberships[0].id
    url = f"/groups/{group_id}/members/{membership_id}/remove"
    confirm = staff.get(url)
    assert confirm.status_code == 200 and "What will happen" in confirm.get_data(as_text=True)
    assert _members(app, group_id) == ["001", "002"]  # GET never writes
    assert post(staff, url).status_code == 302
    assert _members(app, group_id) == ["002"]
    other = _group_id(app, "心理健康专业代表小组")
    assert staff.get(f"/groups/{other}/members/{membership_id}/remove").status_code == 404


def test_deleting_a_group_that_supervises_a_project_is_refused(app, staff, term_id):
    from voting_app.db import db
    from voting_app.projects import service as projects
    from voting_app.registry.models import DeputyGroup

    group_id = _group_id(app, "米公街道代表小组")
    with app.app_context():
        projects.create_project("test", "staff", name="文化长廊改造", year=2027,
                                supervision_group=db.session.get(DeputyGroup, group_id))
        db.session.commit()
    page = staff.get(f"/groups/{group_id}/delete").get_data(as_text=True)
    assert "cannot be deleted" in page and "文化长廊改造" in page
    response = post(staff, f"/groups/{group_id}/delete", follow_redirects=True)
    assert "supervises 文化长廊改造" in response.get_data(as_text=True)
    assert _group_id(app, "米公街道代表小组") == group_id
    spare = _group_id(app, "心理健康专业代表小组")
    assert post(staff, f"/groups/{spare}/delete").status_code == 302
    assert _group_id(app, "心理健康专业代表小组") is None


def _upload(client, term_id, filename, data: bytes):
    return post(client, f"/groups/import?term={term_id}", {"file": (io.BytesIO(data), filename)},
                content_type="multipart/form-data")


def _confirm(client, term_id, preview_page: str):
    table = re.search(r'name="table" type="hidden" value="([^"]+)"', preview_page).group(1)
    return post(client, f"/groups/import?term={term_id}", {"table": table})


def test_memberships_import_from_csv_with_a_preview_and_twice_changes_nothing(app, staff, term_id):
    from voting_app.db import db
    from voting_app.registry.models import DeputyGroup, GroupMembership

    body = "代表证号,代表小组\n001,米公街道代表小组\n1,心理健康专业代表小组\n003,牛首镇代表小组\n".encode("gb18030")
    preview = _upload(staff, term_id, "members.csv", body)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "add 3 membership(s)" in page and "牛首镇代表小组" in page
    assert _group_id(app, "牛首镇代表小组") is None  # nothing stored by the preview
    assert _confirm(staff, term_id, page).status_code == 302
    assert _members(app, _group_id(app, "牛首镇代表小组")) == ["003"]
    assert _members(app, _group_id(app, "心理健康专业代表小组")) == ["001"]
    again = _upload(staff, term_id, "members.csv", body).get_data(as_text=True)
    assert "add 0 membership(s) and leave 3 already there" in again
    _confirm(staff, term_id, again)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GroupMembership)) == 3
        assert db.session.scalar(select(func.count()).select_from(DeputyGroup)) == 3


def test_a_membership_file_with_a_bad_row_stores_nothing(app, staff, term_id):
    book = Workbook()
    sheet = book.active
    for row in (["代表证号", "代表小组"], ["001", "米公街道代表小组"], ["777", "米公街道代表小组"], ["002", "新小组"]):
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    response = _upload(staff, term_id, "members.xlsx", data.getvalue())
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was imported: 1 problem(s) found." in page
    assert re.search(r"<td>3</td><td>777</td><td>米公街道代表小组</td><td>No deputy of this term has this number.</td>", page)
    assert 'name="table"' not in page
    assert _members(app, _group_id(app, "米公街道代表小组")) == [] and _group_id(app, "新小组") is None
    missing = _upload(staff, term_id, "members.csv", "代表证号,姓名\n001,张三\n".encode())
    assert missing.status_code == 400 and "The header has no “group” column." in missing.get_data(as_text=True)
    tampered = post(staff, f"/groups/import?term={term_id}", {"table": "not-a-sealed-table"}, follow_redirects=True)
    assert "out of date" in tampered.get_data(as_text=True)


# Projects and the deputy's supervision list


def test_staff_assign_a_supervision_group_and_the_project_shows_its_members(app, staff, term_id):
    from voting_app.db import db
    from voting_app.projects import service as projects

    group_id = _group_id(app, "米公街道代表小组")
    post(staff, f"/groups/{group_id}/members/bulk", {"numbers": "001\n002"})
    with app.app_context():
        project = projects.create_project("test", "staff", name="文化长廊改造", year=2027)
        other = projects.create_project("test", "staff", name="路灯", year=2027)
        db.session.commit()
        project_id, other_id = project.id, other.id
    form = staff.get(f"/projects/{project_id}/edit").get_data(as_text=True)
    assert f'<option value="{group_id}">米公街道代表小组</option>' in form
    response = post(staff, f"/projects/{project_id}/edit", {"name": "文化长廊改造", "year": "2027", "stage": "approved",
                                                             "supervision_group_id": str(group_id), "department_id": ""})
    assert response.status_code == 302
    page = new_client(app).get(f"/projects/{project_id}").get_data(as_text=True)
    assert "Supervision group" in page and "米公街道代表小组" in page and "张三、李四" in page
    listed = staff.get(f"/projects/?year=all&group={group_id}").get_data(as_text=True)
    assert "文化长廊改造" in listed and f"/projects/{other_id}\"" not in listed
    bad = post(staff, f"/projects/{project_id}/edit", {"name": "文化长廊改造", "year": "2027", "stage": "approved",
                                                        "supervision_group_id": "99999", "department_id": ""})
    assert bad.status_code == 400


def test_a_deputy_sees_their_groups_projects_first_and_another_groups_deputy_does_not(app):
    from tests.ballots.helpers import as_deputy
    from voting_app.db import db
    from voting_app.projects import service as projects
    from voting_app.projects.schedule import beijing_today
    from voting_app.registry import groups
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        world = build_world()
        term = db.session.get(CongressSession, world.session_id).term
        ours, theirs = groups.create_group("test", term, "第一代表小组"), groups.create_group("test", term, "第二代表小组")
        groups.add_members_by_numbers("test", ours, "001\n002")
        groups.add_members_by_numbers("test", theirs, "003")
        year = beijing_today().year
        projects.create_project("test", "staff", name="甲项目", year=year)
        projects.create_project("test", "staff", name="乙项目", year=year, supervision_group=ours)
        projects.create_project("test", "staff", name="往年丙项目", year=year - 1, supervision_group=ours)
        projects.create_project("test", "staff", name="丁项目", year=year, supervision_group=theirs)
        db.session.commit()
    member = as_deputy(app, world, 0).get("/projects/supervision").get_data(as_text=True)
    mine, rest = member.split("Other projects this year")
    assert "乙项目" in mine and "往年丙项目" in mine and "甲项目" not in mine
    assert "甲项目" in rest and "丁项目" in rest and "乙项目" not in rest and "丁项目" not in mine
    assert mine.index("My group’s projects") < mine.index("乙项目")
    stranger = as_deputy(app, world, 2).get("/projects/supervision").get_data(as_text=True)
    mine, rest = stranger.split("Other projects this year")
    assert "丁项目" in mine and "乙项目" not in mine and "往年丙项目" not in mine and "乙项目" in rest
    loner = as_deputy(app, world, 5).get("/projects/supervision").get_data(as_text=True)
    assert "No project is assigned to a group of yours yet." in loner and "乙项目" in loner


def test_the_group_pages_are_for_staff_only(app, term_id):
    from tests.helpers import signed_in

    group_id = _group_id(app, "米公街道代表小组")
    for role in ("presiding", "scrutineer", "grid_worker", "department_officer"):
        client = signed_in(app, role)
        assert client.get("/groups/").status_code == 403
        assert client.get(f"/groups/{group_id}").status_code == 403
    anonymous = new_client(app).get("/groups/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
