"""Survey exports read as the pages do: Beijing time with the zone in the header (an answer
falls on the same day as on the pages), headers in the reader's language, yes/no in words,
ratings as numbers, real Excel dates, and every rate with its 95% interval, never a bare ±."""

import csv
import io
from datetime import datetime

import openpyxl

from tests.surveys.helpers import SATISFIED, build_survey, user_client
from voting_app.db import db

# 16:30 UTC on 2 March is 00:30 on 3 March in Beijing: the day the pages show.
LATE_EVENING_UTC = datetime(2026, 3, 2, 16, 30)
AFTERNOON_UTC = datetime(2026, 3, 2, 15, 59)  # 23:59 on 2 March in Beijing


def one_answer_each(app):
    """Two answers either side of Beijing's midnight, the second keyed in from paper."""
    from surveys import service
    from surveys.models import Survey

    built = build_survey(app, places=())
    with app.app_context():
        survey = db.session.get(Survey, built.survey_id)
        answers = {built.questions["satisfaction"]: [SATISFIED], built.questions["rating"]: ["4"]}
        service.submit_response(survey, None, answers, filled_at=AFTERNOON_UTC)
        service.submit_response(survey, None, answers, filled_at=LATE_EVENING_UTC, entered_by_id=make_worker())
        db.session.commit()
    return built


def make_worker() -> int:
    from tests.conftest import make_user

    user = make_user("grid_worker")
    db.session.flush()
    return user.id


def chinese(client):
    client.set_cookie("lang", "zh_CN")
    return client


def test_the_excel_export_is_in_beijing_time_with_typed_cells_in_chinese_and_english(app):
    built = one_answer_each(app)
    staff = user_client(app, "staff")
    english = openpyxl.load_workbook(io.BytesIO(staff.get(f"/surveys/{built.survey_id}/export.xlsx").data))
    responses = english["Responses"]
    head = [cell.value for cell in responses[1]]
    assert head[:6] == ["Response number", "Submitted at (Beijing time)", "Placement", "Keyed in from paper", "Suspected repeat",
                        "Held for review"]
    before, after = responses[2], responses[3]
    assert before[1].value == datetime(2026, 3, 2, 23, 59) and after[1].value == datetime(2026, 3, 3, 0, 30)
    assert after[1].is_date and after[1].number_format == "yyyy-mm-dd hh:mm:ss"
    assert before[0].data_type == "n" and isinstance(before[0].value, int)
    assert [cell.value for cell in before[3:6]] == ["No", "No", "No"] and after[3].value == "Yes"
    rating = head.index("Rate how safe and orderly the works or the operation are (1 lowest, 5 highest)")
    assert after[rating].value == 4 and after[rating].data_type == "n"
    assert after[head.index("Overall, are you satisfied with this project?")].value == "Satisfied"

    overview = english["Overview"]
    assert [cell.value for cell in overview[3]][:6] == ["Where", "Satisfaction rate", "Interval, lower end (95%)",
                                                    "Interval, upper end (95%)", "Valid answers", "Note"]
    row = overview[4]
    assert [cell.number_format for cell in row[1:4]] == ["0.0%"] * 3
    # 2 of 2: 100.0%, 95% interval 34.2%-100.0%, and only two answers
    assert [row[0].value, row[1].value, row[2].value, row[3].value, row[4].value] == ["All answers", 1.0, 0.342, 1.0, 2]
    assert row[5].value == "Fewer than 30 answers: for reference only"

    zh = openpyxl.load_workbook(io.BytesIO(chinese(user_client(app, "staff")).get(f"/surveys/{built.survey_id}/export.xlsx").data))
    assert zh.sheetnames == ["概况", "回收答卷"]
    head = [cell.value for cell in zh["回收答卷"][1]]
    assert head[:6] == ["答卷编号", "提交时间（北京时间）", "张贴点位", "纸质代录", "疑似重复", "待审核答卷"]
    assert [cell.value for cell in zh["回收答卷"][3]][1:6] == [datetime(2026, 3, 3, 0, 30), None, "是", "否", "否"]
    assert zh["回收答卷"][3][head.index("您对这个项目总体满意吗？")].value == "满意"
    assert zh["回收答卷"][3][head.index("请为施工或运营期间的安全和文明程度打分（1分最低，5分最高）")].value == 4
    assert [cell.value for cell in zh["概况"][3]][2:4] == ["95%区间下限", "95%区间上限"]
    assert zh["概况"]["F4"].value == "样本少于30，仅供参考"


def test_the_csv_export_is_in_beijing_time_with_words_for_yes_and_no(app):
    built = one_answer_each(app)
    raw = chinese(user_client(app, "staff")).get(f"/surveys/{built.survey_id}/export.csv").data.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(raw)))
    assert table[0][:6] == ["答卷编号", "提交时间（北京时间）", "张贴点位", "纸质代录", "疑似重复", "待审核答卷"]
    assert [row[1] for row in table[1:]] == ["2026-03-02 23:59:00", "2026-03-03 00:30:00"]
    assert [row[3] for row in table[1:]] == ["否", "是"]
    assert table[1][table[0].index("您对这个项目总体满意吗？")] == "满意"


def test_one_answer_shows_its_interval_as_a_range_and_a_small_sample_warning(app):
    from surveys import service
    from surveys.models import Survey

    built = build_survey(app, places=())
    with app.app_context():
        service.submit_response(db.session.get(Survey, built.survey_id), None, {built.questions["satisfaction"]: [SATISFIED]})
        db.session.commit()
    staff = user_client(app, "staff")
    page = staff.get(f"/surveys/{built.survey_id}/results").get_data(as_text=True)
    assert "100.0% <small class=\"moe\">(95% interval 20.6%–100.0%, n=1)</small>" in page
    assert "Fewer than 30 answers: for reference only" in page and "±" not in page
    zh = chinese(user_client(app, "staff")).get(f"/surveys/{built.survey_id}/results").get_data(as_text=True)
    assert "95% 区间 20.6%–100.0%, n=1" in zh and "样本少于30，仅供参考" in zh
    data = staff.get(f"/surveys/{built.survey_id}/results.json").get_json()["satisfaction"]
    assert data["interval_text"] == ["20.6", "100.0"] and data["is_small_sample"] is True and "margin_percent" not in data
