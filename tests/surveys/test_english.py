"""Survey questions in two languages: the template's questions come with an English text,
staff write or change it in the survey editor, residents whose interface is English read it
(and the Chinese where none was written), and the editor's markup keeps its forms out of
phrasing content."""

from html.parser import HTMLParser

import pytest

from surveys.models import Question
from tests.conftest import post
from tests.surveys.helpers import build_survey, error_flash, resident, text_of, user_client


@pytest.fixture
def staff(app):
    return user_client(app, "staff")


def in_chinese(client):
    client.set_cookie("lang", "zh_CN")
    return client


def questions(app, survey_id: int) -> list[Question]:
    from sqlalchemy import select

    from voting_app.db import db

    with app.app_context():
        found = db.session.scalars(select(Question).where(Question.survey_id == survey_id).order_by(Question.position)).all()
        db.session.expunge_all()
        return found


def test_the_template_questions_have_an_english_text_with_english_options(app):
    built = build_survey(app)
    template = questions(app, built.survey_id)
    assert [q.prompt_en for q in template] == [
        "Overall, are you satisfied with this project?",
        "What has the project changed in your daily life?",
        "Rate how safe and orderly the works or the operation are (1 lowest, 5 highest)",
        "Any other comments or suggestions?",
    ]
    effect = template[1]
    assert list(effect.option_labels_in("en").values()) == ["Clearly better", "Somewhat better", "No change", "Worse"]
    assert list(effect.option_labels_in("zh_CN").values()) == ["明显改善", "有所改善", "没有变化", "变差了"]
    assert effect.prompt_in("zh_Hans_CN") == "项目给您的生活带来了哪些变化？"


def test_a_resident_reads_the_questions_in_the_interface_language(app):
    built = build_survey(app)
    english = text_of(resident(app).get(f"/s/{built.short_code}"))  # the test client's interface is English
    assert "1. Overall, are you satisfied with this project?" in english
    assert "Clearly better" in english and "明显改善" not in english
    assert "您对这个项目总体满意吗" not in english
    chinese = text_of(in_chinese(resident(app)).get(f"/s/{built.short_code}"))
    assert "1. 您对这个项目总体满意吗？" in chinese and "明显改善" in chinese
    assert "Overall, are you satisfied" not in chinese and "Clearly better" not in chinese


def test_a_question_without_english_falls_back_to_chinese(app, staff):
    built = build_survey(app)
    response = post(staff, f"/surveys/{built.survey_id}/questions",
                    {"kind": "multiple", "prompt": "您常在什么时间经过这里？", "is_required": "", "options": "早上\n晚上"})
    assert response.status_code == 302
    page = text_of(resident(app).get(f"/s/{built.short_code}"))
    assert "5. 您常在什么时间经过这里？" in page and "早上" in page and "晚上" in page
    editor = text_of(staff.get(f"/surveys/{built.survey_id}"))
    assert "No English text yet: English readers see the Chinese." in editor


def test_staff_add_a_question_with_its_english_text_and_options(app, staff):
    built = build_survey(app)
    response = post(staff, f"/surveys/{built.survey_id}/questions", {
        "kind": "single", "prompt": "夜间照明够亮吗？", "prompt_en": "Is the street lighting bright enough at night?",
        "is_required": "y", "options": "够亮\n不够亮", "options_en": "Bright enough\nNot bright enough",
    })
    assert response.status_code == 302
    added = questions(app, built.survey_id)[-1]
    assert added.prompt_en == "Is the street lighting bright enough at night?"
    assert list(added.option_labels_in("en").values()) == ["Bright enough", "Not bright enough"]
    page = text_of(resident(app).get(f"/s/{built.short_code}"))
    assert "Is the street lighting bright enough at night?" in page and "Not bright enough" in page


def test_english_options_must_match_the_chinese_ones_one_for_one(app, staff):
    built = build_survey(app)
    response = post(staff, f"/surveys/{built.survey_id}/questions", {
        "kind": "single", "prompt": "夜间照明够亮吗？", "is_required": "y",
        "options": "够亮\n不够亮", "options_en": "Bright enough",
    }, follow_redirects=True)
    assert error_flash(text_of(response)) == ["Give one English option per option, in the same order (2 lines), or none."]
    assert len(questions(app, built.survey_id)) == 4  # nothing half-stored


def test_staff_change_the_english_text_in_the_editor_and_it_is_audited(app, staff):
    from sqlalchemy import select

    from voting_app.audit import AuditEntry
    from voting_app.db import db

    built = build_survey(app)
    effect = questions(app, built.survey_id)[1]
    address = f"/surveys/{built.survey_id}/questions/{effect.id}/english"
    form = text_of(staff.get(address))
    assert "项目给您的生活带来了哪些变化？" in form and "What has the project changed in your daily life?" in form
    assert "Clearly better\nSomewhat better\nNo change\nWorse" in form
    bad = post(staff, address, {"prompt_en": "What changed?", "options_en": "Better\nWorse"})
    assert bad.status_code == 200 and "(4 lines)" in text_of(bad)
    assert questions(app, built.survey_id)[1].prompt_en == "What has the project changed in your daily life?"
    response = post(staff, address, {"prompt_en": "What changed for you?", "options_en": "Much better\nA little better\nThe same\nWorse"})
    assert response.status_code == 302
    changed = questions(app, built.survey_id)[1]
    assert changed.prompt_en == "What changed for you?"
    assert [option["key"] for option in changed.options] == [option["key"] for option in effect.options]  # answers keep their meaning
    assert changed.prompt == effect.prompt and [o["label"] for o in changed.options] == ["明显改善", "有所改善", "没有变化", "变差了"]
    page = text_of(resident(app).get(f"/s/{built.short_code}"))
    assert "What changed for you?" in page and "A little better" in page
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.question_translate"))
        assert entry is not None and entry.target == f"survey:{built.survey_id}"
    # Clearing the English text shows the Chinese again.
    assert post(staff, address, {"prompt_en": "", "options_en": ""}).status_code == 302
    page = text_of(resident(app).get(f"/s/{built.short_code}"))
    assert "项目给您的生活带来了哪些变化？" in page and "明显改善" in page


def test_the_english_editor_of_another_surveys_question_is_not_found(app, staff):
    first, second = build_survey(app), build_survey(app, title="第二份")
    other = questions(app, second.survey_id)[0]
    assert staff.get(f"/surveys/{first.survey_id}/questions/{other.id}/english").status_code == 404


def test_the_results_page_names_questions_in_the_interface_language(app, staff):
    built = build_survey(app)
    english = text_of(staff.get(f"/surveys/{built.survey_id}/results"))
    assert "What has the project changed in your daily life?" in english
    chinese = text_of(in_chinese(staff).get(f"/surveys/{built.survey_id}/results"))
    assert "项目给您的生活带来了哪些变化？" in chinese


class FormNesting(HTMLParser):
    """Every <form> opened inside phrasing content or a form-hostile element."""

    PHRASING = {"span", "p", "a", "label", "small", "strong", "em", "b", "i", "button"}

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.misplaced: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"input", "meta", "link", "br", "img", "hr", "source"}:
            return
        if tag == "form" and (inside := [name for name in self.open if name in self.PHRASING]):
            self.misplaced.append(f"form in {'/'.join(inside)}: {dict(attrs).get('action')}")
        self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open.pop() != tag:
                pass


def misplaced_forms(html: str) -> list[str]:
    parser = FormNesting()
    parser.feed(html)
    return parser.misplaced


def test_the_survey_editor_has_no_form_inside_phrasing_content(app, staff):
    built = build_survey(app)
    effect = questions(app, built.survey_id)[1]
    for address in (f"/surveys/{built.survey_id}", f"/surveys/{built.survey_id}/edit", "/surveys/new",
                    f"/surveys/{built.survey_id}/questions/{effect.id}/english"):
        page = text_of(staff.get(address))
        assert "<form" in page
        assert misplaced_forms(page) == [], address
    assert misplaced_forms('<p><span><form action="/x"></form></span></p>') == ["form in p/span: /x"]


def test_the_upgrade_gives_existing_template_questions_their_english_text(migration_db):
    """Surveys made from the template before questions had an English text get it on upgrade;
    a question staff wrote themselves keeps an empty English text (the Chinese shows)."""
    import json

    from sqlalchemy import text

    before = "d4f6b8c0e2a4"
    migration_db.upgrade(before)
    options = [{"key": "a1", "label": "明显改善"}, {"key": "a2", "label": "有所改善"}, {"key": "a3", "label": "没有变化"},
               {"key": "a4", "label": "变差了"}]
    with migration_db.sql() as connection:
        connection.execute(text("INSERT INTO surveys (id, title, intro, mode, short_code, threshold_percent, hold_after, created_at) "
                                "VALUES (1, '桥梁满意度', '', 'open', 'ABC123', 60, 5, CURRENT_TIMESTAMP)"))
        for position, (kind, prompt, choices) in enumerate((
            ("satisfaction", "您对这个项目总体满意吗？", []),
            ("single", "项目给您的生活带来了哪些变化？", options),
            ("text", "您对夜间照明有什么建议？", []),
        ), start=1):
            connection.execute(text("INSERT INTO survey_questions (survey_id, position, kind, prompt, is_required, options) "
                                    "VALUES (1, :position, :kind, :prompt, :yes, :options)"),
                               {"position": position, "kind": kind, "prompt": prompt, "options": json.dumps(choices), "yes": True})
    migration_db.upgrade()
    with migration_db.sql() as connection:
        rows = connection.execute(text("SELECT prompt_en, CAST(options AS TEXT) FROM survey_questions ORDER BY position")).all()
    assert [row[0] for row in rows] == ["Overall, are you satisfied with this project?",
                                        "What has the project changed in your daily life?", ""]
    assert [option["label_en"] for option in json.loads(rows[1][1])] == ["Clearly better", "Somewhat better", "No change", "Worse"]
    assert [option["key"] for option in json.loads(rows[1][1])] == ["a1", "a2", "a3", "a4"]
    migration_db.downgrade(before)
