"""Importing a roster through the web page, as committee staff do before a session."""

import html
import io
import re

import pytest
from flask import url_for
from openpyxl import Workbook
from sqlalchemy import select

from tests.conftest import make_user, post, sign_in

CSV_TEXT = (
    "代表证号,姓名,代表团,工作单位\r\n"
    "001,张三,城区代表团,樊城区某街道\r\n"
    "002,李䶮,城区代表团,汉江街道\r\n"
    "003,欧阳修,农村代表团,太平店镇\r\n"
)
CSV_ROSTER = [
    ("001", "张三", "城区代表团", "樊城区某街道"),
    ("002", "李䶮", "城区代表团", "汉江街道"),
    ("003", "欧阳修", "农村代表团", "太平店镇"),
]


@pytest.fixture
def congress_id(app):
    """An empty session, made through the service as the 'new session' page does."""
    from voting_app.db import db
    from voting_app.sessions import service

    with app.app_context():
        congress = service.create_session("test", "樊城区第十九届人民代表大会第六次会议", "会堂")
        db.session.commit()
        return congress.id


@pytest.fixture
def staff(app, client):
    with app.app_context():
        from voting_app.db import db

        user = make_user("staff")
        db.session.commit()
        sign_in(client, user)
    client.set_cookie("lang", "en")  # read the messages as written in the code
    return user.id


def import_url(app, session_id):
    with app.app_context():
        return url_for("sessions.roster_import", session_id=session_id, _external=False)


def check(client, app, session_id, filename, data: bytes):
    """Send a file: the answer is the preview (200) or the list of problems (400)."""
    return post(
        client,
        import_url(app, session_id),
        {"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def sealed_table(page: str) -> str:
    found = re.findall(r'<input name="table" type="hidden" value="([^"]+)">', page)
    assert len(found) == 1, page
    return html.unescape(found[0])


def confirm(client, app, session_id, page: str):
    """Press Import on a preview page."""
    return post(client, import_url(app, session_id), {"table": sealed_table(page)})


def upload(client, app, session_id, filename, data: bytes):
    """Send a file and, when it passes the check, press Import on the preview."""
    response = check(client, app, session_id, filename, data)
    if response.status_code != 200:
        return response
    return confirm(client, app, session_id, response.get_data(as_text=True))


def roster(app, session_id):
    """(id, number, name, delegation, unit, checked in) for each deputy, by number."""
    from voting_app.db import db
    from voting_app.sessions.models import Deputy

    with app.app_context():
        deputies = db.session.scalars(select(Deputy).where(Deputy.session_id == session_id).order_by(Deputy.number))
        return [(d.id, d.number, d.name, d.delegation, d.unit, d.checked_in_at) for d in deputies]


def rows(app, session_id):
    return [row[1:5] for row in roster(app, session_id)]


def audit_entries(app, action):
    from voting_app.audit import AuditEntry
    from voting_app.db import db

    with app.app_context():
        return [(e.actor, e.target, e.details) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )]


def imported(client, response) -> str:
    """Follow the redirect after a successful import and return the summary message."""
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    summaries = re.findall(r"Roster imported: \d+ added, \d+ updated, \d+ unchanged\.", page)
    assert len(summaries) == 1, page
    return summaries[0]


def xlsx(table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for line in table:
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_utf8_csv_with_bom_as_excel_saves_it(app, client, staff, congress_id):
    response = upload(client, app, congress_id, "名单.csv", ("\ufeff" + CSV_TEXT).encode("utf-8"))
    assert imported(client, response) == "Roster imported: 3 added, 0 updated, 0 unchanged."
    assert response.headers["Location"].endswith(f"/sessions/{congress_id}/roster")
    assert rows(app, congress_id) == CSV_ROSTER


def test_gb18030_csv_as_excel_saves_it_in_china(app, client, staff, congress_id):
    data = CSV_TEXT.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the file really is not UTF-8
    response = upload(client, app, congress_id, "ROSTER.CSV", data)
    assert imported(client, response) == "Roster imported: 3 added, 0 updated, 0 unchanged."
    assert rows(app, congress_id) == CSV_ROSTER


def test_xlsx_with_numbers_typed_as_numbers(app, client, staff, congress_id):
    data = xlsx([["代表编号", "代表姓名", "所属代表团"], [1, "张三", "城区代表团"], [2.0, "李四", None], ["010", "  王  五 ", "农村代表团"]])
    response = upload(client, app, congress_id, "roster.xlsx", data)
    assert imported(client, response) == "Roster imported: 3 added, 0 updated, 0 unchanged."
    assert rows(app, congress_id) == [
        ("010", "王  五", "农村代表团", ""),
        ("1", "张三", "城区代表团", ""),
        ("2", "李四", "", ""),
    ]


def test_a_bad_file_reports_every_bad_line_and_imports_nothing(app, client, staff, congress_id):
    upload(client, app, congress_id, "first.csv", CSV_TEXT.encode("utf-8"))
    before = roster(app, congress_id)
    entries_before = audit_entries(app, "roster.import")
    bad = (
        "代表证号,姓名,代表团\n"
        "001,张三改名,城区代表团\n"
        "004,,城区代表团\n"
        "005,赵六,城区代表团\n"
        "005,钱七,农村代表团\n"
        "006,孙八,农村代表团\n"
    )
    response = upload(client, app, congress_id, "bad.csv", bad.encode("utf-8"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported: 2 problem(s) found." in page
    report = re.findall(r"<tr><td>(\d*)</td><td>\s*(.*?)\s*</td></tr>", page, re.DOTALL)
    assert report == [
        ("3", "The name is empty."),
        ("5", "Deputy number 005 appears more than once in the file."),
    ]
    assert roster(app, congress_id) == before  # not even the good rows, nor 张三's new name
    assert audit_entries(app, "roster.import") == entries_before


def test_importing_the_same_file_twice_changes_nothing(app, client, staff, congress_id):
    data = CSV_TEXT.encode("utf-8")
    assert imported(client, upload(client, app, congress_id, "a.csv", data)) == "Roster imported: 3 added, 0 updated, 0 unchanged."
    first = roster(app, congress_id)
    assert imported(client, upload(client, app, congress_id, "a.csv", data)) == "Roster imported: 0 added, 0 updated, 3 unchanged."
    assert roster(app, congress_id) == first
    assert len(audit_entries(app, "registry.import")) == 1  # an import that changed nothing leaves no entry


def test_a_changed_row_updates_that_deputy_and_keeps_their_identity(app, client, staff, congress_id):
    imported(client, upload(client, app, congress_id, "a.csv", CSV_TEXT.encode("utf-8")))
    first = roster(app, congress_id)
    changed = CSV_TEXT.replace("003,欧阳修,农村代表团,太平店镇", "003,欧阳修,城区代表团,清河口街道") + "004,司马光,农村代表团,\r\n"
    assert imported(client, upload(client, app, congress_id, "b.csv", changed.encode("utf-8"))) == (
        "Roster imported: 1 added, 1 updated, 2 unchanged."
    )
    after = roster(app, congress_id)
    assert after[:2] == first[:2]
    assert after[2] == (first[2][0], "003", "欧阳修", "城区代表团", "清河口街道", None)
    assert after[3][1:5] == ("004", "司马光", "农村代表团", "")
    assert len(after) == 4


def test_an_import_that_changed_something_is_audited_with_who_and_how_much(app, client, staff, congress_id):
    upload(client, app, congress_id, "a.csv", CSV_TEXT.encode("utf-8"))
    upload(client, app, congress_id, "b.csv", CSV_TEXT.replace("张三", "张三丰").encode("utf-8"))
    term = f"term:{term_of(app, congress_id)}"  # the import updates the term's registry
    assert audit_entries(app, "registry.import") == [
        (f"user:{staff}", term, {"added": 3, "updated": 0}),
        (f"user:{staff}", term, {"added": 0, "updated": 1}),
    ]


def term_of(app, congress_id: int) -> int:
    from voting_app.db import db
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        return db.session.get(CongressSession, congress_id).term_id


@pytest.mark.parametrize("filename", ["roster.pdf", "roster.xls", "roster"])
def test_an_unknown_file_type_is_refused_with_a_clear_message(app, client, staff, congress_id, filename):
    response = upload(client, app, congress_id, filename, CSV_TEXT.encode("utf-8"))
    assert response.status_code == 400
    assert "Only CSV or Excel (.xlsx) files can be imported." in response.get_data(as_text=True)
    assert rows(app, congress_id) == []


@pytest.mark.parametrize("data", [b"this is not a spreadsheet", xlsx([["编号", "姓名"], ["1", "甲"]])[:300]])
def test_a_corrupt_xlsx_is_refused_with_a_clear_message(app, client, staff, congress_id, data):
    response = upload(client, app, congress_id, "roster.xlsx", data)
    assert response.status_code == 400
    assert "This Excel file cannot be read. Save it again as .xlsx." in response.get_data(as_text=True)
    assert rows(app, congress_id) == []


def test_an_empty_file_is_refused(app, client, staff, congress_id):
    response = upload(client, app, congress_id, "empty.csv", "\ufeff".encode("utf-8"))
    assert response.status_code == 400
    assert "The file has no deputies." in response.get_data(as_text=True)


def test_only_staff_may_import(app, client, congress_id):
    with app.app_context():
        from voting_app.db import db

        presiding = make_user("presiding")
        db.session.commit()
        sign_in(client, presiding)
    client.set_cookie("lang", "en")
    response = upload(client, app, congress_id, "a.csv", CSV_TEXT.encode("utf-8"))
    assert response.status_code == 403
    assert rows(app, congress_id) == []


def test_the_downloaded_template_imports_as_is(app, client, staff, congress_id):
    with app.app_context():
        template_url = url_for("sessions.roster_template", session_id=congress_id)
    template = client.get(template_url)
    assert template.status_code == 200
    response = upload(client, app, congress_id, "roster-template.csv", template.data)
    assert imported(client, response) == "Roster imported: 1 added, 0 updated, 0 unchanged."
    assert rows(app, congress_id) == [("001", "张三", "城区代表团", "樊城区某街道")]


def test_a_file_without_the_optional_columns_keeps_what_the_roster_has(app, client, staff, congress_id):
    imported(client, upload(client, app, congress_id, "a.csv", CSV_TEXT.encode("utf-8")))
    names_only = "樊城区人大代表名单\r\n代表证号,姓名\r\n001,张三\r\n002,李䶮\r\n003,欧阳锋\r\n"
    assert imported(client, upload(client, app, congress_id, "b.csv", names_only.encode("utf-8"))) == (
        "Roster imported: 0 added, 1 updated, 2 unchanged."
    )
    assert rows(app, congress_id) == [CSV_ROSTER[0], CSV_ROSTER[1], ("003", "欧阳锋", "农村代表团", "太平店镇")]


# ---- issue 13: the roster as the sheet shows it, checked before it is stored ---------


def formatted_xlsx(header, table, number_format="000") -> bytes:
    """A sheet as an office keeps it: deputy numbers typed as numbers, shown zero-padded."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for line in table:
        sheet.append(line)
        sheet.cell(row=sheet.max_row, column=1).number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


THIRTY = [(f"{n:03d}", f"代表{n}", "城区代表团" if n <= 15 else "农村代表团") for n in range(1, 31)]


def presence_figures(app, session_id):
    from voting_app.sessions import service

    with app.app_context():
        figures = service.presence(session_id)
        return figures.roster, figures.quorum


def test_an_excel_number_formatted_000_keeps_its_zeros_so_the_csv_of_the_same_people_adds_nobody(app, client, staff, congress_id):
    data = formatted_xlsx(["代表证号", "姓名", "代表团"], [[int(n), name, group] for n, name, group in THIRTY])
    assert imported(client, upload(client, app, congress_id, "名单.xlsx", data)) == "Roster imported: 30 added, 0 updated, 0 unchanged."
    assert [row[0] for row in rows(app, congress_id)][:3] == ["001", "002", "003"]
    csv_text = "代表证号,姓名,代表团\r\n" + "".join(f"{n},{name},{group}\r\n" for n, name, group in THIRTY)
    assert imported(client, upload(client, app, congress_id, "名单.csv", csv_text.encode("utf-8"))) == (
        "Roster imported: 0 added, 0 updated, 30 unchanged."
    )
    assert presence_figures(app, congress_id) == (30, 16)


@pytest.mark.parametrize(
    ("value", "number_format", "stored"),
    [(7, "000", "007"), (7.0, "000", "007"), (7, "General", "7"), (7.0, "General", "7"), (7, '"D"0000', "D0007"), ("007", "@", "007")],
)
def test_an_excel_number_is_stored_as_the_sheet_shows_it(app, client, staff, congress_id, value, number_format, stored):
    data = formatted_xlsx(["代表证号", "姓名"], [[value, "张三"]], number_format)
    imported(client, upload(client, app, congress_id, "a.xlsx", data))
    assert rows(app, congress_id) == [(stored, "张三", "", "")]


def test_the_preview_shows_what_will_change_and_stores_nothing_until_import(app, client, staff, congress_id):
    imported(client, upload(client, app, congress_id, "a.csv", CSV_TEXT.encode("utf-8")))
    before = roster(app, congress_id)
    sheet = formatted_xlsx(
        ["序号", "代表证号", "姓  名", "代表组", "手机号码", "工作单位及职务", "爱好"],
        [
            [1, 1, "张三", "城区代表团", "13800000000", "樊城区某街道", "书法"],
            [2, 2, "李䶮", "城区代表团", "", "汉江街道", ""],
            [3, 4, "司马光", "农村代表团", "", "", ""],
            ["制表：王五", None, None, None, "审核：赵六"],
            [None, None, None, None, None, None, "2026年1月5日"],
        ],
        "General",
    )
    response = check(client, app, congress_id, "名单.xlsx", sheet)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "This file will add 3 deputies, update 0 and leave 0 unchanged." in page
    ignored = re.findall(r"<li><strong>(.*?)</strong>:\s*(.*?)\s*</li>", page, re.DOTALL)
    # 手机号码 is kept now, as the deputy's contact for the committee's staff.
    assert ignored == [
        ("序号", "the roster does not keep this."),
        ("爱好", "not a roster column."),
    ]
    skipped = page[page.index('id="skipped-rows"') :]
    assert re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", skipped) == [("5", "制表：王五 审核：赵六"), ("6", "2026年1月5日")]
    clashes = page[page.index('id="number-clashes"') : page.index("</table>", page.index('id="number-clashes"'))]
    assert re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>\s*<td>(.*?)</td></tr>", clashes) == [
        ("2", "1", "张三", "城区代表团", "number 001 on the roster"),
        ("3", "2", "李䶮", "城区代表团", "number 002 on the roster"),
    ]
    assert roster(app, congress_id) == before
    assert imported(client, confirm(client, app, congress_id, response.get_data(as_text=True))) == (
        "Roster imported: 3 added, 0 updated, 0 unchanged."
    )
    assert rows(app, congress_id)[-3:] == [("1", "张三", "城区代表团", "樊城区某街道"), ("2", "李䶮", "城区代表团", "汉江街道"), ("4", "司马光", "农村代表团", "")]


def test_a_missing_number_column_under_a_title_names_only_the_number(app, client, staff, congress_id):
    data = "樊城区人大代表名册\r\n姓名,代表团\r\n张三,城区代表团\r\n".encode("utf-8")
    response = check(client, app, congress_id, "a.csv", data)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert re.findall(r"<tr><td>(\d*)</td><td>\s*(.*?)\s*</td></tr>", page, re.DOTALL) == [
        ("2", "The header has no “deputy number” column.")
    ]


def test_a_full_width_space_in_a_name_is_stored_as_typed(app, client, staff, congress_id):
    data = formatted_xlsx(["代表证号", "姓名"], [[1, "唐\u3000军"], [2, "\u3000欧阳\u00a0修 "]])
    imported(client, upload(client, app, congress_id, "a.xlsx", data))
    assert rows(app, congress_id) == [("001", "唐\u3000军", "", ""), ("002", "欧阳\u00a0修", "", "")]


def refused_preview(client, response) -> None:
    assert response.status_code == 302 and response.headers["Location"].endswith("/roster/import")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This preview is out of date or not this session&#39;s. Check the file again." in page


def test_an_altered_foreign_or_stale_preview_imports_nothing(app, client, staff, congress_id, monkeypatch):
    from voting_app.sessions import service as sessions

    page = check(client, app, congress_id, "a.csv", CSV_TEXT.encode("utf-8")).get_data(as_text=True)
    token = sealed_table(page)
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused_preview(client, post(client, import_url(app, congress_id), {"table": altered}))
    with app.app_context():
        from voting_app.db import db

        other = sessions.create_session("test", "另一次会议").id
        db.session.commit()
    refused_preview(client, post(client, import_url(app, other), {"table": token}))
    from voting_app import table_files

    monkeypatch.setattr(table_files, "PREVIEW_SECONDS", -1)
    refused_preview(client, confirm(client, app, congress_id, page))
    assert rows(app, congress_id) == [] and rows(app, other) == []
    monkeypatch.undo()
    imported(client, confirm(client, app, congress_id, page))
    assert rows(app, congress_id) == CSV_ROSTER


def test_importing_needs_the_csrf_token(app, client, staff, congress_id):
    page = check(client, app, congress_id, "a.csv", CSV_TEXT.encode("utf-8")).get_data(as_text=True)
    assert client.post(import_url(app, congress_id), data={"table": sealed_table(page)}).status_code == 400
    assert rows(app, congress_id) == []


def test_the_roster_page_lists_numbers_as_numbers(app, client, staff, congress_id):
    data = "代表证号,姓名\r\n" + "".join(f"{n},代表{n}\r\n" for n in ("101", "11", "A3", "10", "2", "001"))
    imported(client, upload(client, app, congress_id, "a.csv", data.encode("utf-8")))
    with app.app_context():
        roster_url = url_for("sessions.roster", session_id=congress_id)
        cards_url = url_for("sessions.credential_list", session_id=congress_id)
    for address in (roster_url, cards_url, roster_url + "?q=代表"):
        page = client.get(address).get_data(as_text=True)
        assert re.findall(r"<tr><td>([^<]+)</td><td>代表", page) == ["001", "2", "10", "11", "101", "A3"], address
