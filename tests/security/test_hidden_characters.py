"""The attacker types characters that reorder or hide text (Trojan Source, CVE-2021-42574):
a resident's comment or proposal that reads as something else on a staff page or in the
spreadsheet staff open. Expected: stored exactly as typed; every page, chart and export
shows each such character as a visible code ([U+202E]) and never raw; Uyghur, Chinese and
emoji text is shown unchanged."""

import re

from openpyxl import load_workbook
from sqlalchemy import select

from surveys.models import Answer
from tests.ballots.helpers import as_role
from tests.conftest import post
from tests.security.test_injection import csv_rows, page_of, staff_client, xlsx_cells
from tests.surveys.conftest import db_url, pg_delete_order  # noqa: F401  (PostgreSQL: DELETE is faster than TRUNCATE)
from tests.surveys.helpers import build_survey, full_answer, resident, text_of
from voting_app.db import db
from voting_app.proposals import service as proposals
from voting_app.proposals.models import Proposal
from voting_app.text import HIDDEN

# Reads on screen as "payment received 100 yuan", while the characters say "... 001".
REVERSED = "payment received \u202e001\u202c yuan"
ISOLATED = "\u2066good\u2069 \u200bproject\ufeff \u200fend\u061c\u2028next line"
UYGHUR = "ياخشى ئىش، رەھمەت 👨\u200d👩\u200d👧 好评"


def raw_free(text: str) -> None:
    assert not HIDDEN.search(text), f"a raw reordering character reached the output: {HIDDEN.search(text).group()!r}"


def test_a_reordering_comment_shows_its_codes_on_staff_pages_and_in_csv_and_excel(app):
    built = build_survey(app)
    for index, comment in enumerate((REVERSED, ISOLATED)):
        sent = post(resident(app, f"198.51.100.{30 + index}"), f"/s/{built.short_code}", full_answer(built, comment=comment))
        assert sent.status_code == 302
    with app.app_context():
        stored = set(db.session.scalars(select(Answer.text).where(Answer.text.is_not(None))))
    assert stored == {REVERSED, ISOLATED}, "the stored text must stay what was typed"
    staff = staff_client(app)
    comments = page_of(staff, f"/surveys/{built.survey_id}/comments")
    raw_free(comments)
    assert "payment received [U+202E]001[U+202C] yuan" in comments
    assert "[U+2066]good[U+2069] [U+200B]project[U+FEFF] [U+200F]end[U+061C]\nnext line" in comments
    raw_free(page_of(staff, f"/surveys/{built.survey_id}/results"))
    exported = staff.get(f"/surveys/{built.survey_id}/export.csv").get_data(as_text=True)
    raw_free(exported.lstrip("\ufeff"))
    cells = [cell for row in csv_rows(staff.get(f"/surveys/{built.survey_id}/export.csv")) for cell in row]
    assert "payment received [U+202E]001[U+202C] yuan" in cells
    workbook = staff.get(f"/surveys/{built.survey_id}/export.xlsx").data
    values = [value for _, value in xlsx_cells(workbook)]
    assert "payment received [U+202E]001[U+202C] yuan" in values
    for value in values:
        raw_free(value)


def test_a_proposal_with_hidden_characters_is_shown_with_their_codes_to_staff_and_the_proposer(app, world):
    with app.app_context():
        station = proposals.add_station("test", "米公街道代表联络站", "米公街道")
        db.session.commit()
        code = station.code
    form = {"title": REVERSED, "description": ISOLATED, "location": "\u202e路口", "theme": "roads_transport",
            "contact": "138\u200b0000\u202e1234"}
    sent = post(app.test_client(), f"/p/{code}", form, content_type="multipart/form-data")
    assert sent.status_code == 302, text_of(sent)
    with app.app_context():
        proposal = db.session.scalars(select(Proposal)).one()
        assert (proposal.title, proposal.description) == (REVERSED, ISOLATED)
        proposal_id, tracking = proposal.id, proposal.tracking_code
    staff = as_role(app, world, "staff")
    for page in (page_of(staff, "/proposals/"), page_of(staff, f"/proposals/{proposal_id}"),
                 page_of(app.test_client(), f"/p/track?code={tracking}")):
        raw_free(page)
        assert "payment received [U+202E]001[U+202C] yuan" in page
    assert "138[U+200B]0000[U+202E]1234" in page_of(staff, f"/proposals/{proposal_id}")


def test_uyghur_chinese_and_emoji_comments_read_as_typed(app):
    """Neutralising must not break right-to-left writing: the joiners it needs stay."""
    built = build_survey(app)
    assert post(resident(app), f"/s/{built.short_code}", full_answer(built, comment=UYGHUR)).status_code == 302
    staff = staff_client(app)
    assert UYGHUR in page_of(staff, f"/surveys/{built.survey_id}/comments")
    assert UYGHUR in [cell for row in csv_rows(staff.get(f"/surveys/{built.survey_id}/export.csv")) for cell in row]
    assert UYGHUR in [value for _, value in xlsx_cells(staff.get(f"/surveys/{built.survey_id}/export.xlsx").data)]


def test_each_paragraph_of_a_staff_page_takes_its_direction_from_its_own_text(app):
    """A right-to-left comment in a left-to-right page reads in its own order (CSS
    unicode-bidi: plaintext), without a character of its own to ask for it."""
    css = re.sub(r"/\*.*?\*/", "", app.test_client().get("/static/css/app.css").get_data(as_text=True), flags=re.S)
    rule = re.search(r"([^{}]*)\{[^}]*unicode-bidi:\s*plaintext", css)
    assert rule and {"p", "td", "li", "dd"} <= {part.strip() for part in rule.group(1).split(",")}
