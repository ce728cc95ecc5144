"""Demo data for the project loop: 25 liaison stations with residents' proposals in every
state, department officers, and projects at every stage with dates, milestones, progress
notes, supervision records and overdue items. Dates are counted back from today, so the
overdue items stay overdue whenever the demo is loaded."""

import io
import random
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import select

from voting_app.auth.service import create_user
from voting_app.ballots import keys
from voting_app.ballots import service as ballots
from voting_app.db import db
from voting_app.documents import service as documents
from voting_app.images import CleanImage, clean_image
from voting_app.permissions import DEPARTMENT_OFFICER
from voting_app.projects import changes, delivery, letters, planning, supervision
from voting_app.projects import service as projects
from voting_app.projects.models import Project
from voting_app.projects.schedule import beijing_today
from voting_app.proposals import reasons as decline_reasons
from voting_app.proposals import service as proposals
from voting_app.proposals.models import (COURTYARD, FROM_DEPARTMENT, FROM_DEPUTY, ONLINE, RECEPTION_DAY, STATION_QR,
                                         LiaisonStation)

STATION_AREAS = [
    "屏襄门街道", "米公街道", "定中门街道", "汉江街道", "清河口街道", "王寨街道", "中原街道", "柿铺街道",
    "紫贞街道", "太平店镇", "牛首镇", "高新区团山镇", "米庄镇", "东风社区", "前进社区", "人民路社区",
    "春园路社区", "长虹路社区", "大庆西路社区", "胜利街社区", "磁器街社区", "解放路社区", "朝阳社区",
    "新华社区", "七里河社区",
]
PROPOSAL_IDEAS = [
    ("小区门口加装路灯", "小区门口道路晚上没有照明，老人孩子出行不安全。", "roads_transport"),
    ("修缮村道坑洼路面", "村道多处坑洼，雨天积水，电动车容易摔倒。", "roads_transport"),
    ("增设公交站台雨棚", "公交站没有雨棚，下雨天等车很不方便。", "roads_transport"),
    ("老旧小区加装电梯", "楼里老人多，上下楼困难，希望加装电梯。", "community"),
    ("社区食堂助餐服务", "独居老人吃饭难，希望社区开办老年食堂。", "elderly_childcare"),
    ("建设社区托育点", "双职工家庭孩子没人带，希望建普惠托育点。", "elderly_childcare"),
    ("更换老化供水管网", "自来水经常发黄，管网老化需要更换。", "water_power"),
    ("学校门口交通护栏", "放学时段车辆多，需要隔离护栏和减速带。", "education"),
    ("增加社区健身器材", "广场健身器材太少，很多已经损坏。", "culture_sports"),
    ("整治河道垃圾", "河道两岸垃圾多，夏天气味大。", "environment"),
    ("社区卫生站延长开放时间", "卫生站下午五点就关门，上班族看不上病。", "health"),
    ("农贸市场排水改造", "市场地面常年湿滑，排水沟堵塞。", "community"),
    ("建设口袋公园", "附近没有休闲场所，希望利用空地建小公园。", "environment"),
    ("增设电动车充电桩", "楼道充电有火灾隐患，希望建集中充电棚。", "community"),
    ("乡镇文化广场改造", "文化广场地面破损，晚上跳舞的人多，照明也不够。", "culture_sports"),
]
DECLINE_REASONS = [
    "该事项属于小区物业维修范围，已转交街道督促物业办理。",
    "该路段已列入市政府2027年道路改造计划，不再重复立项。",
    "所需投资超出区级民生实事项目规模，已转为代表建议办理。",
    "",  # the explanation is optional: the chosen reasons may say enough
]
# How the demo's proposals reached the committee, as weights: most by the stations' QR codes and
# reception days, fewer from courtyard meetings, deputies, departments and the online form.
CHANNEL_WEIGHTS = {STATION_QR: 34, RECEPTION_DAY: 18, COURTYARD: 14, FROM_DEPUTY: 12, FROM_DEPARTMENT: 8, ONLINE: 14}
# The managed list of responsible departments (承办单位). Officers serve five of them; the
# others have projects but no officer yet, which the delivery dashboard warns about.
DEPARTMENTS = [
    "区交通运输局", "区城市管理执法局", "区住房和城乡建设局", "区卫生健康局", "米公街道办事处", "区教育局",
    "区民政局", "区水利和湖泊局", "区市场监督管理局", "区文化和旅游局", "区人力资源和社会保障局",
]
OFFICERS = [
    ("dept-transport", "区交通运输局 张伟", "区交通运输局"),
    ("dept-urban", "区城市管理执法局 黄磊", "区城市管理执法局"),
    ("dept-housing", "区住房和城乡建设局 刘芳", "区住房和城乡建设局"),
    ("dept-health", "区卫生健康局 赵静", "区卫生健康局"),
    ("dept-migong", "米公街道办事处 吴敏", "米公街道办事处"),
]
# A programme split into sub-items under several departments (issue 16): the education bureau
# leads it and has no officer; the departments that build report their own figures. Funds in
# whole yuan; dates are days from today; actuals are the totals the departments reported.
SCHOOLS_2026 = ("义务教育学校新建扩建工程（2026）", "新建、扩建中小学校7所，新增学位7,000个，同步改造学校周边道路和校门口交通安全设施。",
                "区教育局", "城区及太平店镇、牛首镇")
SCHOOL_SUB_ITEMS = [
    ("新建扩建校舍", "区住房和城乡建设局", 456_000_000, 273_600_000,
     [("新建扩建学校", "7", "所", 60, ["2", "4"]), ("新增学位", "7000", "个", 60, ["2100", "4050"])],
     [("主体结构封顶", -120, -115), ("竣工验收", 55, None)]),
    ("学校周边道路改造", "区交通运输局", 18_500_000, 11_200_000,
     [("道路改造", "3.2", "公里", 30, ["2.1"])], [("完成施工招标", -150, -148)]),
    ("校门口交通安全设施", "区城市管理执法局", 3_200_000, 2_950_000,
     [("隔离护栏", "14", "处", -10, ["14"]), ("护学岗亭", "14", "个", -12, ["9"])], []),
    ("学校卫生室标准化", "区卫生健康局", 2_800_000, 900_000, [("标准化卫生室", "7", "间", 45, ["3"])], []),
]
# The coming year's street lighting, planned by road section; nothing reported yet.
LIGHTING_SUB_ITEMS = [
    ("太平店镇段", "区城市管理执法局", 8_400_000, [("新装路灯", "260", "盏"), ("供电线路", "17", "公里")]),
    ("牛首镇段", "区城市管理执法局", 5_100_000, [("新装路灯", "160", "盏"), ("供电线路", "11", "公里")]),
]
UNDER_WAY_2026 = [
    ("城区易涝点整治（一期）", "整治清河口、王寨片区易涝点4处，改造雨水管网3.2公里。", "860", "区住房和城乡建设局", "清河口街道、王寨街道", 62),
    ("背街小巷改造（2026批）", "整治屏襄门、定中门片区背街小巷15条。", "420", "区城市管理执法局", "屏襄门街道、定中门街道", 45),
]


def _photo(rng: random.Random, label_colour: tuple[int, int, int]) -> CleanImage:
    """A simple site picture: sky, ground and a structure, drawn so the demo needs no files,
    and cleaned as an uploaded one is."""
    image = Image.new("RGB", (960, 640), (170, 205, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 420, 960, 640), fill=(120, 120, 110))
    x = rng.randint(80, 400)
    draw.rectangle((x, 220, x + 420, 420), fill=label_colour)
    for pole in range(6):
        draw.rectangle((40 + pole * 160, 300, 52 + pole * 160, 440), fill=(60, 60, 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return clean_image(buffer.getvalue())


def seed_proposals(rng: random.Random, actor: str, actor_name: str, main_round, candidates) -> None:
    """Stations and proposals; the first candidates of the main round come in as residents' proposals."""
    stations = [proposals.add_station(actor, f"{area}人大代表联络站", f"樊城区{area}") for area in STATION_AREAS]
    for index, (name, summary, investment, department, due) in enumerate(candidates):
        proposal = proposals.submit_proposal(stations[index * 3], name, summary, "", "roads_transport" if index < 2 else "culture_sports", "", [])
        proposals.accept_proposal(actor, actor_name, proposal, main_round, department, Decimal(investment), date.fromisoformat(due))
    channels = list(CHANNEL_WEIGHTS)
    for number in range(70):
        title, description, theme = rng.choice(PROPOSAL_IDEAS)
        station = rng.choice(stations)
        channel = rng.choices(channels, weights=list(CHANNEL_WEIGHTS.values()))[0]
        named_station = channel in (STATION_QR, RECEPTION_DAY) or (channel != ONLINE and rng.random() < 0.5)
        proposals.submit_proposal(station if named_station else None, f"{station.name[:-7]}{title}", description,
                                  station.address, theme, f"1380000{rng.randint(1000, 9999)}" if rng.random() < 0.6 else "",
                                  [], channel=channel, entered_by=None if channel in (STATION_QR, ONLINE) else actor)
    decline_reasons.add_common_reasons(actor)
    offered = decline_reasons.reason_list(active_only=True)
    open_ones = proposals.proposal_list(status="received")
    rng.shuffle(open_ones)
    for proposal in open_ones[:12]:
        chosen = rng.sample(offered, 2 if rng.random() < 0.25 else 1)
        proposals.decline_proposal(actor, actor_name, proposal, [reason.id for reason in chosen], rng.choice(DECLINE_REASONS))
    for duplicate, original in zip(open_ones[12:24:2], open_ones[13:25:2]):
        proposals.merge_proposal(actor, actor_name, duplicate, original)
    # Last year's reserve (储备库): received and kept then, screened again this year.
    kept_on = datetime(beijing_today().year - 1, 10, 20, 2, 0)  # UTC: 10:00 in Beijing, last October
    for proposal in open_ones[25:28]:
        proposals.reserve_proposal(actor, actor_name, proposal, "方案可行，今年资金已排满，明年优先考虑。")
        proposal.created_at, proposal.reserved_at = kept_on - timedelta(days=40), kept_on
    db.session.flush()


def seed_next_session_candidates(actor: str, actor_name: str, congress_session) -> None:
    """The coming session's candidate list is being drawn up from proposals."""
    draft = ballots.create_round(actor, congress_session, "2028年度民生实事候选项目（征集中）", "choose_up_to", 10, "roster", "electronic")
    for proposal in [*proposals.proposal_list(status="reserved")[:1], *proposals.proposal_list(status="received")[:4]]:
        proposals.accept_proposal(actor, actor_name, proposal, draft)


def seed_departments(actor: str) -> dict[str, object]:
    """The departments staff choose from on the project form, by name."""
    return {name: projects.chosen_department(actor, None, name) for name in DEPARTMENTS}


def seed_officers(passwords: dict) -> dict[str, object]:
    officers = {}
    for username, name, department in OFFICERS:
        passwords[username] = "demo-" + secrets.token_hex(4)
        officers[department] = create_user(username, name, DEPARTMENT_OFFICER, passwords[username],
                                           department=projects.department_named(department))
    return officers


def _plan(actor, name, project, stage, today, **days):
    """Stage dates given as days before (+) today."""
    delivery.set_stage_plan(actor, name, project, stage, today=today,
                            **{field: today - timedelta(days=offset) for field, offset in days.items()})


def seed_delivery(rng: random.Random, actor: str, actor_name: str, delivered: list[Project], elected: list[Project],
                  departments: dict, officers: dict, deputies: list) -> None:
    today = beijing_today()
    for project in delivered:
        _plan(actor, actor_name, project, "approved", today, planned_start=330, planned_end=300, actual_start=330, actual_end=305)
        _plan(actor, actor_name, project, "in_progress", today, planned_start=300, planned_end=120, actual_start=298, actual_end=110)
        _plan(actor, actor_name, project, "operating", today, planned_start=110, actual_start=105)
        if project.stage == "accepted":
            _plan(actor, actor_name, project, "accepted", today, planned_start=40, planned_end=20, actual_start=35, actual_end=21)
        for offset, label in ((250, "完成施工招标"), (180, "主体工程完工"), (115, "竣工验收")):
            milestone = delivery.add_milestone(actor, actor_name, project, label, today - timedelta(days=offset))
            delivery.complete_milestone(actor, actor_name, project, milestone, today - timedelta(days=offset - rng.randint(-6, 4)), today=today)

    under_way = []
    for name, summary, budget, department, location, progress in UNDER_WAY_2026:
        project = projects.create_project(actor, actor_name, name=name, summary=summary, budget=Decimal(budget),
                                          department=departments[department], year=today.year, location=location)
        _plan(actor, actor_name, project, "approved", today, planned_start=240, planned_end=200, actual_start=240, actual_end=195)
        _plan(actor, actor_name, project, "in_progress", today, planned_start=195, planned_end=20, actual_start=190)
        done = delivery.add_milestone(actor, actor_name, project, "完成施工招标", today - timedelta(days=170))
        delivery.complete_milestone(actor, actor_name, project, done, today - timedelta(days=166), today=today)
        delivery.add_milestone(actor, actor_name, project, "管网铺设完成" if "易涝" in name else "路面铺装完成", today - timedelta(days=35))
        delivery.add_milestone(actor, actor_name, project, "竣工验收", today + timedelta(days=40))
        projects.update_project(actor, actor_name, project, spent=Decimal(budget) * Decimal(progress) / 100)
        under_way.append((project, progress))

    for project, progress in under_way:
        officer = officers[project.department_name]
        delivery.add_progress_note(officer.get_id(), officer, project, "完成施工招标，施工单位进场。", progress - 30, [])
        delivery.add_progress_note(officer.get_id(), officer, project, "主体施工过半；雨季影响工期，正组织加班追赶。", progress,
                                   [_photo(rng, (200, 160, 90)), _photo(rng, (150, 150, 160))])
    for project in delivered[:2]:
        officer = officers.get(project.department_name)
        if officer is not None:
            delivery.add_progress_note(officer.get_id(), officer, project, "项目已投入使用，运营维护由属地负责。", 100, [_photo(rng, (110, 140, 200))])

    supervisors = rng.sample(deputies, 6)
    bridge, lighting, corridor = delivered[0], delivered[1], delivered[2]
    flood, alleys = under_way[0][0], under_way[1][0]

    def visit(deputy, project, days_ago, findings, rectification="", due_in=None, photo=False):
        return delivery.record_supervision(
            "demo", deputy, project, today - timedelta(days=days_ago), findings, rectification,
            (today - timedelta(days=days_ago) + timedelta(days=due_in)) if due_in else None,
            [_photo(rng, (180, 180, 180))] if photo else [], today=today,
        )

    settled = visit(supervisors[0], bridge, 90, "桥梁已通车，但北端引道护栏未安装完毕。", "补齐北端引道护栏。", 20, photo=True)
    delivery.answer_issue(officers["区交通运输局"].get_id(), officers["区交通运输局"], settled.issues[0], "北端引道护栏已全部安装，并增设警示标志。")
    delivery.judge_issue("demo", settled.issues[0], True)
    visit(supervisors[1], lighting, 60, "一号公路太平店段有12盏路灯不亮。", "一个月内完成维修并建立巡查制度。", 30, photo=True)
    not_settled = visit(supervisors[2], corridor, 75, "长廊照明不足，座椅数量偏少。", "增加照明灯具，补充座椅。", 30)
    officer = officers["米公街道办事处"]
    delivery.answer_issue(officer.get_id(), officer, not_settled.issues[0], "已增设座椅8张，照明改造正在采购。")
    delivery.judge_issue("demo", not_settled.issues[0], False)
    behind = visit(supervisors[3], flood, 25, "清河口片区管网施工进度滞后于计划。", "制定赶工计划，年底前完成管网铺设。", 15)
    # A second issue of the same visit, for the department that keeps the streets (the ledger's 责任).
    delivery.add_issue("demo", behind, "管网施工围挡占用人行道，行人绕行机动车道。", "调整围挡，留出不小于1.5米的人行通道。",
                       today - timedelta(days=18), departments["区城市管理执法局"])
    visit(supervisors[4], alleys, 10, "施工现场围挡规范，文明施工情况良好。")
    seed_plans(actor, actor_name, departments, officers, elected, today)
    for project in elected[:3]:
        for offset, label in ((-60, "完成项目立项批复"), (-150, "完成施工招标"), (-330, "主体工程完工")):
            delivery.add_milestone(actor, actor_name, project, label, today - timedelta(days=offset))
        delivery.set_stage_plan(actor, actor_name, project, "approved", today=today,
                                planned_start=today + timedelta(days=45), planned_end=today + timedelta(days=90))
    db.session.flush()


def seed_letters(actor_name: str) -> None:
    """The morning's reminder run, once everything else is in: a letter (提醒函) for every overdue
    rectification, milestone and target; not the deferred school programme's guard posts, due by
    its new deadline."""
    letters.issue_letters("demo", actor_name, letters.settings_of(current_app.config), beijing_today())


def seed_plans(actor: str, actor_name: str, departments: dict, officers: dict, elected: list[Project], today: date) -> None:
    """The school programme under way with its sub-items and the figures reported so far, and the
    coming year's 420 street lights planned by section."""
    name, summary, department, location = SCHOOLS_2026
    budget = sum(item[2] for item in SCHOOL_SUB_ITEMS)
    project = projects.create_project(actor, actor_name, name=name, summary=summary, budget=Decimal(budget) / 10_000,
                                      department=departments[department], year=today.year, location=location)
    _plan(actor, actor_name, project, "approved", today, planned_start=300, planned_end=270, actual_start=300, actual_end=268)
    _plan(actor, actor_name, project, "in_progress", today, planned_start=268, planned_end=-60, actual_start=260)
    reports: list[tuple] = []
    for item_name, item_department, item_budget, item_spent, targets, milestones in SCHOOL_SUB_ITEMS:
        item = planning.add_sub_item(actor, actor_name, project, item_name, departments[item_department], item_budget, item_spent)
        for target_name, planned, unit, due_in, actuals in targets:
            target = planning.add_target(actor, actor_name, item, target_name, Decimal(planned), unit, today + timedelta(days=due_in))
            reports += [(len(actuals) - index, item_department, target, Decimal(actual)) for index, actual in enumerate(actuals)]
        for milestone_name, planned_in, done_in in milestones:
            milestone = delivery.add_milestone(actor, actor_name, project, milestone_name, today + timedelta(days=planned_in), item)
            if done_in is not None:
                delivery.complete_milestone(actor, actor_name, project, milestone, today + timedelta(days=done_in), today=today)
    projects.update_project(actor, actor_name, project, spent=Decimal(sum(item[3] for item in SCHOOL_SUB_ITEMS)) / 10_000)
    # Earlier reports first: each department's notes, in the order it sent them.
    for round_ in sorted({report[0] for report in reports}, reverse=True):
        for item_department in dict.fromkeys(report[1] for report in reports if report[0] == round_):
            figures = {target.id: actual for when, dept, target, actual in reports if when == round_ and dept == item_department}
            words = "、".join(f"{target.name}{actual.normalize():f}{target.unit}" for when, dept, target, actual in reports
                             if when == round_ and dept == item_department)
            officer = officers[item_department]
            delivery.add_progress_note(officer.get_id(), officer, project, f"截至本期累计完成：{words}。", None, [], figures,
                                       today=today - timedelta(days=30 * (round_ - 1)))
    seed_changes(actor, project, today)
    lighting = next(p for p in elected if "亮化" in p.name)
    for item_name, item_department, item_budget, targets in LIGHTING_SUB_ITEMS:
        item = planning.add_sub_item(actor, actor_name, lighting, item_name, departments[item_department], item_budget)
        for target_name, planned, unit in targets:
            planning.add_target(actor, actor_name, item, target_name, Decimal(planned), unit, date(lighting.year, 9, 30))


def seed_changes(actor: str, programme: Project, today: date) -> None:
    """Change control on the school programme: its plan published in spring; a deferral the
    standing committee approved after the flood season, and a cut of the new school places it
    refused. Both are in the project's history and in the next session's report."""
    from sqlalchemy import select

    from voting_app.auth.models import User

    staff = db.session.scalar(select(User).where(User.username == "staff"))
    changes.publish_plan(actor, staff.display_name, programme, today - timedelta(days=250))
    deferral = changes.submit_change(
        actor, staff, programme, "defer",
        "受汛期强降雨影响，牛首镇、太平店镇两所新建学校主体工程停工约两个月，区教育局申请将项目完成时限顺延三个月。",
        deadline=programme.plan_for("in_progress").planned_end + timedelta(days=90))
    changes.decide_change(actor, staff, deferral, True, "樊城区第十九届人大常委会第二十三次会议", today - timedelta(days=20),
                          "樊人常决〔2026〕12号", today)
    places = next(target for target in programme.targets if target.name == "新增学位")
    cut = changes.submit_change(actor, staff, programme, "edit",
                                "部分片区适龄儿童数量低于预测，申请将新增学位由7,000个调减为6,000个。",
                                {f"target.{places.id}.planned": Decimal(6000)})
    changes.decide_change(actor, staff, cut, False, "樊城区第十九届人大常委会第二十四次会议", today - timedelta(days=8),
                          "樊人常决〔2026〕15号", today)


# The supervision cycle of the delivery year: the committee holds its checkpoints on the last
# Friday of March, July and November (the default days are the month's last day).
CHECKPOINT_MONTHS = {"plan": 3, "progress": 7, "effect": 11}


def last_friday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 4) % 7)


def seed_checkpoints(actor: str, year: int) -> None:
    """The checkpoints of the year the demo's projects are delivered in."""
    supervision.set_checkpoint_days(actor, year, {kind: last_friday(year, month) for kind, month in CHECKPOINT_MONTHS.items()})


# Where last year's delivered projects came from: each accepted proposal (station, channel, days
# before the fifth session) with the residents' proposals staff merged into it; one came from a
# department. Two more candidates stood and were not elected.
DELIVERED_ORIGINS = [
    ("牛首镇人大代表联络站", STATION_QR, 118, [("太平店镇人大代表联络站", RECEPTION_DAY, 110), (None, ONLINE, 104)]),
    ("太平店镇人大代表联络站", RECEPTION_DAY, 112, [("屏襄门街道人大代表联络站", STATION_QR, 101)]),
    ("米公街道人大代表联络站", COURTYARD, 96, [("米公街道人大代表联络站", STATION_QR, 95), ("东风社区人大代表联络站", STATION_QR, 90)]),
    (None, FROM_DEPARTMENT, 88, []),
]
NOT_ELECTED_2026 = [
    ("城区停车位增设（试点）", "利用边角地新增公共停车位300个。", "260", "区城市管理执法局", "2026-10-31"),
    ("农贸市场标准化改造（试点）", "对2个农贸市场进行标准化改造。", "240", "区市场监督管理局", "2026-08-31"),
]
ROUND_2026 = "2026年度樊城区民生实事项目票决"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall-clock time on `day`, stored as UTC like every timestamp."""
    return datetime(day.year, day.month, day.day, hour, minute) - timedelta(hours=8)


def seed_vote_2026(rng: random.Random, actor: str, staff, presiding, scrutineer, fifth, delivered_rows, cast, presidium: str):
    """The fifth session's vote on the 2026 projects, from the residents' proposals (backdated to
    the autumn collection) to the announced result: what last year's delivered projects grew from.
    Returns the elected candidates in the order of `delivered_rows`."""
    stations = {station.name: station for station in db.session.scalars(select(LiaisonStation))}
    round_ = ballots.create_round(actor, fifth, ROUND_2026, "choose_up_to", len(delivered_rows), "roster", "electronic")
    day = fifth.starts_on
    candidates, screened = [], []
    for (name, summary, budget, department, _stage, location), (station_name, channel, days, merged) in zip(delivered_rows, DELIVERED_ORIGINS):
        proposal = proposals.submit_proposal(stations.get(station_name), name, summary, location, "community", "", [],
                                             channel=channel, entered_by=None if channel in (STATION_QR, ONLINE) else actor)
        proposal.created_at = _at(day - timedelta(days=days), 10, 30)
        for other_station, other_channel, other_days in merged:
            duplicate = proposals.submit_proposal(stations.get(other_station) if other_station else None, name, summary, location,
                                                  "community", f"1390000{rng.randint(1000, 9999)}", [], channel=other_channel,
                                                  entered_by=None if other_channel in (STATION_QR, ONLINE) else actor)
            duplicate.created_at = _at(day - timedelta(days=other_days), 15)
            proposals.merge_proposal(actor, staff.display_name, duplicate, proposal)
            screened.append(duplicate)
        candidates.append(proposals.accept_proposal(actor, staff.display_name, proposal, round_, department, Decimal(budget),
                                                    date(2026, 10, 31)))
        screened.append(proposal)
    for name, summary, investment, department, due in NOT_ELECTED_2026:
        ballots.add_candidate(actor, round_, name, summary, Decimal(investment), department, date.fromisoformat(due))
    _key, ceremony = keys.hold_ceremony(actor, fifth, 2, 3, ["总监票人 陈静", "监票人 刘洋", "监票人 赵磊"])
    documents.record_adoption(staff, round_, day, presidium)
    ballots.open_round(presiding.get_id(), round_)
    present = [deputy for deputy in fifth.deputies if deputy.is_present]
    popular = {candidate.id for candidate in candidates}
    for deputy in rng.sample(present, len(present) - 2):
        chosen = [c.id for c in round_.candidates if rng.random() < (0.9 if c.id in popular else 0.3)]
        cast(round_, deputy, sorted(chosen, key=lambda cid: (cid not in popular, rng.random()))[:len(delivered_rows)])
    db.session.flush()
    ballots.close_round(presiding, round_)
    ballots.unseal_round(scrutineer, round_, list(ceremony.shares[:2]))
    ballots.confirm_round(scrutineer, round_)
    ballots.announce_round(presiding, round_)
    round_.created_at, round_.opened_at = _at(day, 8), _at(day, 10)
    round_.closed_at, round_.confirmed_at, round_.announced_at = _at(day, 10, 20), _at(day, 10, 40), _at(day, 10, 45)
    for proposal in screened:
        proposal.screened_at = _at(day - timedelta(days=30), 9)
    elected = set(ballots.count_round(round_).elected)
    return [candidate for candidate in candidates if candidate.id in elected]


def date_the_story_2026(delivered: list[Project]) -> None:
    """Last year's projects were seeded today; give their history, reports and answers the days
    they stand for, so each project's timeline reads from the vote through the year: the plan
    days after the session, each date's line on its day, answers and verdicts after the visit."""
    plan_day = date(2026, 1, 13)
    for project in delivered:
        issues = [issue for record in project.supervisions for issue in record.issues]
        for issue in issues:
            issue.answered_at = _at(issue.record.visited_on + timedelta(days=8), 15) if issue.answered_at else None
            issue.judged_at = _at(issue.record.visited_on + timedelta(days=15), 10) if issue.judged_at else None
        operating = project.plan_for("operating")
        finished = operating.actual_start if operating and operating.actual_start else plan_day
        for note in project.notes:
            note.created_at = _at(finished + timedelta(days=10), 16)
        visits = sorted(project.supervisions, key=lambda record: record.id)
        recorded = iter(visits)
        for change in sorted(project.changes, key=lambda change: change.id):
            moment = (_at(next(recorded).visited_on, 16) if change.field == "supervision.recorded"
                      else _issue_moment(change, issues))
            change.at = moment or _story_time(change, plan_day, finished) or change.at
    db.session.flush()


def _issue_moment(change, issues: list) -> datetime | None:
    """When the answer or the verdict a history line tells was given (None: not such a line)."""
    if change.field == "supervision.answered":
        said = change.new_value.rstrip("…")
        return next((i.answered_at for i in issues if i.answered_by_name == change.actor_name and i.answer.startswith(said)), None)
    if change.field in ("supervision.settled", "supervision.not_settled"):
        settled = change.field == "supervision.settled"
        return next((i.judged_at for i in issues if i.record.deputy_name == change.actor_name and i.settled is settled), None)
    if change.field == "supervision.issue_added":
        said = change.new_value.rstrip("…")
        return next((_at(i.record.visited_on, 16, 30) for i in issues if i.problem.startswith(said)), None)
    return None


def _story_time(change, plan_day: date, finished: date) -> datetime | None:
    """When a seeded history line of a 2026 project happened; None keeps its time."""
    field, new = change.field, change.new_value
    if field == "created":
        return _at(plan_day - timedelta(days=4), 9)
    if field in ("stage", "progress_percent", "spent"):
        return _at(finished, 17)
    if field.endswith((".planned_start", ".planned_end")) or field == "milestone.added":
        return _at(plan_day, 10)
    if field.endswith((".actual_start", ".actual_end")) or field == "milestone.done":
        return _at(date.fromisoformat(new[-11:-1] if field == "milestone.done" else new), 17, 30)
    return None
