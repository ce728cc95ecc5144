"""Demo data: a district congress session as Fancheng would run it, with its finished rounds, and a
town congress's priority ballot (`demo_town`): one 票决办法 of each style.

Every staff action goes through the services, so the audit log and the board are the
real thing; only the deputies' ballots are written straight to their tables, for speed.
"""

import random
import secrets
from datetime import date, timedelta
from decimal import Decimal

from surveys import service as surveys
from voting_app import demo_delivery, demo_duty, demo_frames, demo_grids, demo_groups, demo_stations, demo_terms, demo_town
from voting_app.clock import beijing_today
from voting_app.auth.service import create_user
from voting_app.ballots import keys, sealing
from voting_app.ballots import service as ballots
from voting_app.ballots.credentials import issue_missing_cards
from voting_app.ballots.models import BallotMarker, SealedBallot
from voting_app.ballots.counting import RATE_DISSATISFIED, RATE_MOSTLY, RATE_SATISFIED, SATISFACTION
from voting_app.db import db, utcnow
from voting_app.documents import service as documents
from voting_app.permissions import GRID_WORKER, PRESIDING, SCRUTINEER, STAFF
from voting_app.projects import service as projects
from voting_app.projects.models import ACCEPTED, OPERATING, Project
from voting_app.sessions import service as sessions
from voting_app.registry.roster import RosterParse, RosterRow
from voting_app.registry.terms import MUNICIPAL, PROVINCIAL, TOWN

DEMO_LOGINS_FILE = "demo-logins.txt"
# The saved sign-ins name the server as SERVER_MARK; `flask demo-logins --server URL` (what
# `make run` prints) puts in the address actually served, whatever the host and port.
SERVER_MARK = "{server}"
TRIAL_ROUND_NAME = "演示：社区服务项目表决（可试投）"
# Who adopts each round's 票决办法 before it opens.
PRESIDIUM = "大会主席团"
SERVER_NOTE = f"({SERVER_MARK} below is the address the app is served at, e.g. http://127.0.0.1:5000; `make run` prints these with it filled in)"

DELEGATIONS = [
    ("城区代表团", 38),
    ("屏襄门街道代表团", 30),
    ("米公街道代表团", 30),
    ("太平店镇代表团", 32),
    ("牛首镇代表团", 30),
    ("柿铺街道代表团", 28),
    ("王寨街道代表团", 26),
    ("高新区代表团", 26),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建国志文斌海波宁军燕鹏辉俊峰丹晨颖琳浩宇"
UNITS = ["社区居委会", "农业合作社", "中心小学", "人民医院", "街道办事处", "村民委员会", "制造有限公司", "商贸公司"]

CANDIDATES = [
    ("农村公路桥梁新改建", "新建、改建农村公路危旧桥梁12座，消除群众出行安全隐患。", "2860", "区交通运输局", "2027-11-30"),
    ("“一号公路”亮化工程", "为“一号公路”沿线28公里安装路灯，解决夜间出行照明问题。", "1350", "区城市管理执法局", "2027-09-30"),
    ("市百货站小区文化长廊改造", "改造小区文化长廊和休闲广场，增设健身器材和宣传栏。", "180", "米公街道办事处", "2027-06-30"),
    ("老旧小区改造提升", "改造老旧小区23个，涉及管网、屋面防水、加装电梯。", "4200", "区住房和城乡建设局", "2027-12-31"),
    ("城区学校“护学岗”与交通安全设施", "为城区18所中小学校门口完善交通标志、隔离护栏。", "320", "区教育局", "2027-08-31"),
    ("社区嵌入式养老服务中心建设", "新建社区嵌入式养老服务中心6处，提供助餐、日间照料。", "960", "区民政局", "2027-10-31"),
    ("农村饮水安全巩固提升", "改造农村供水管网56公里，提升农村自来水普及率。", "1580", "区水利和湖泊局", "2027-11-30"),
    ("背街小巷改造", "整治背街小巷41条，改善路面、排水和照明。", "1100", "区城市管理执法局", "2027-10-31"),
    ("社区卫生服务中心能力提升", "为8家社区卫生服务中心配置设备，开设家庭医生签约服务。", "740", "区卫生健康局", "2027-09-30"),
    ("城区停车位增设", "利用边角地新增公共停车位1200个。", "850", "区城市管理执法局", "2027-12-31"),
    ("农贸市场标准化改造", "对5个农贸市场进行标准化改造，改善购物环境。", "620", "区市场监督管理局", "2027-08-31"),
    ("公共厕所新建和改造", "新建、改造城区公共厕所30座。", "450", "区城市管理执法局", "2027-07-31"),
    ("全民健身设施补短板", "新建社区健身广场10处、口袋公园5处。", "530", "区文化和旅游局", "2027-09-30"),
    ("困难群众就业援助", "开发公益性岗位300个，开展技能培训2000人次。", "400", "区人力资源和社会保障局", "2027-12-31"),
    ("城区易涝点整治", "整治城区易涝点9处，改造雨水管网。", "1900", "区住房和城乡建设局", "2027-06-30"),
]
# Popularity of each candidate among deputies (chance to be chosen on a ballot).
POPULARITY = [0.95, 0.93, 0.88, 0.9, 0.8, 0.84, 0.82, 0.74, 0.7, 0.66, 0.3, 0.35, 0.4, 0.25, 0.33]


def _names(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    names = []
    while len(names) < count:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def roster_rows(rng: random.Random) -> list[RosterRow]:
    total = sum(size for _, size in DELEGATIONS)
    names = iter(_names(rng, total))
    rows, number = [], 0
    for delegation, size in DELEGATIONS:
        for _ in range(size):
            number += 1
            area = delegation.replace("代表团", "")
            rows.append(
                RosterRow(
                    number + 1, f"{number:03d}", next(names), delegation, area + rng.choice(UNITS),
                    contact=demo_terms.demo_contact(number),
                )
            )
    return rows


# Deputies of the other levels who live and work in the district (樊城区: 721 deputies of four
# levels, about 240 of them the district congress's own): they keep to the stations and grids,
# never to the district sessions' rosters. (level, number prefix, how many)
OTHER_LEVELS = [(PROVINCIAL, "S", 9), (MUNICIPAL, "M", 58), (TOWN, "T", 412)]


def other_level_rows(first_line: int) -> list[RosterRow]:
    """The other levels' deputies, drawn from a generator of their own so the district roster
    and everything seeded after it stay as they were."""
    rng = random.Random(721)
    names = iter(_names(rng, sum(size for _, _, size in OTHER_LEVELS)))
    areas = [delegation.removesuffix("代表团") for delegation, _ in DELEGATIONS]
    rows = []
    for level, prefix, size in OTHER_LEVELS:
        for index in range(1, size + 1):
            area = rng.choice(areas)
            rows.append(RosterRow(first_line + len(rows), f"{prefix}{index:03d}", next(names), area,
                                  area + rng.choice(UNITS), level=level))
    return rows


DELIVERED_2026 = [
    ("农村公路桥梁新改建（第一批）", "新建、改建牛首镇、太平店镇危旧桥梁8座。", "1960", "区交通运输局", OPERATING, "牛首镇、太平店镇"),
    ("“一号公路”亮化工程（一期）", "一号公路城区段至太平店镇安装路灯1100盏。", "980", "区城市管理执法局", OPERATING, "一号公路沿线"),
    ("市百货站小区文化长廊改造", "改造文化长廊120米，增设座椅、宣传栏和健身器材。", "150", "米公街道办事处", OPERATING, "米公街道市百货站小区"),
    ("社区卫生服务站标准化建设", "12个社区卫生服务站完成标准化改造。", "620", "区卫生健康局", ACCEPTED, "城区各社区"),
]
# Chance of 满意, 基本满意 per project (the rest 不满意): the corridor falls below the bar.
SATISFACTION_MIX = [(0.62, 0.27), (0.48, 0.28), (0.22, 0.3), (0.55, 0.3)]
# The same for the deputies' assessment, graded in tiers on the roster of 240: the bridges and the
# health stations 满意, the lighting 基本满意, the corridor 不满意 (to rectification).
ASSESSMENT_MIX = [(0.72, 0.27), (0.48, 0.4), (0.2, 0.28), (0.65, 0.3)]
SURVEY_PLACES = [
    ("桥北端", "桥南端", "村委会公告栏"),
    ("一号公路起点", "太平店镇便民服务中心"),
    ("小区北门", "社区公告栏"),
]
COMMENTS = [
    "桥修好了，孩子上学方便多了。",
    "晚上路灯很亮，走夜路安心。",
    "希望增加一些座椅。",
    "施工期间噪音有点大，希望以后注意。",
    "长廊的照明不够，晚上看不清。",
    "感谢人大代表为我们办实事！",
    "部分路灯已经不亮了，请尽快维修。",
    "桥面有积水，排水需要改进。",
]


def _delivered_projects(actor: str, staff, presiding, scrutineer, fifth) -> list[Project]:
    """Last year's projects, elected at the fifth session from the residents' proposals."""
    elected = demo_delivery.seed_vote_2026(random.Random(2026), actor, staff, presiding, scrutineer, fifth, DELIVERED_2026,
                                           _cast, PRESIDIUM)
    assert len(elected) == len(DELIVERED_2026), "the demo's 2026 vote elects every delivered project"
    delivered = []
    for candidate, (_name, _summary, budget, _department, stage, _location) in zip(elected, DELIVERED_2026):
        project = projects.project_from_candidate(actor, staff.display_name, candidate, 2026)
        projects.update_project(actor, staff.display_name, project, stage=stage, progress_percent=100,
                                spent=Decimal(budget) * Decimal("0.96"))
        delivered.append(project)
    return delivered


def _pick_rating(rng: random.Random, mix: tuple[float, float]) -> str:
    roll = rng.random()
    if roll < mix[0]:
        return RATE_SATISFIED
    return RATE_MOSTLY if roll < mix[0] + mix[1] else RATE_DISSATISFIED


def _demo_surveys(rng: random.Random, projects: list[Project], grid_worker, grid_ids: list[int]) -> None:
    """Resident surveys with a few hundred answers each, over six weeks and several placements,
    each placement in a grid."""
    opened = utcnow() - timedelta(weeks=7)
    placed = 0
    for project, places, mix in zip(projects, SURVEY_PLACES, SATISFACTION_MIX):
        survey = surveys.create_from_template(
            "demo", f"{project.name}群众满意度调查", project.id, OPERATING, opens_at=opened
        )
        for place in places:
            surveys.add_placement("demo", survey, place, demo_grids.grid_for(grid_ids, placed))
            placed += 1
        placements = survey.placements[1:]
        satisfaction, effect, rating, comment = survey.questions
        effects = [option["key"] for option in effect.options]
        for _ in range(rng.randint(240, 360)):
            rated = _pick_rating(rng, mix)
            answers = {satisfaction.id: [rated], effect.id: [], rating.id: [], comment.id: []}
            if rng.random() < 0.8:
                answers[effect.id] = [effects[{RATE_SATISFIED: 0, RATE_MOSTLY: 1}.get(rated, rng.choice((2, 3)))]]
            if rng.random() < 0.7:
                answers[rating.id] = [str({RATE_SATISFIED: rng.choice((4, 5)), RATE_MOSTLY: rng.choice((3, 4))}.get(rated, rng.choice((1, 2, 3))))]
            if rng.random() < 0.12:
                answers[comment.id] = [rng.choice(COMMENTS)]
            assisted = rng.random() < 0.1
            surveys.submit_response(
                survey,
                rng.choice(placements),
                answers,
                entered_by_id=grid_worker.id if assisted else None,
                filled_at=opened + timedelta(minutes=rng.randrange(6 * 7 * 24 * 60)),
            )


def _first_corridor_survey(corridor: Project) -> None:
    """The corridor's first survey, in the summer, before the deputy's visit: under the bar, so
    the corridor went to rectification; the survey running now is its reassessment."""
    rng = random.Random(2026_3)
    opened, closed = utcnow() - timedelta(weeks=14), utcnow() - timedelta(weeks=11)
    survey = surveys.create_from_template("demo", f"{corridor.name}群众满意度调查（首次）", corridor.id, OPERATING,
                                          opens_at=opened, closes_at=closed)
    placements = [surveys.add_placement("demo", survey, place) for place in SURVEY_PLACES[2]]
    satisfaction, *others = survey.questions
    for _ in range(rng.randint(110, 140)):
        answers = {satisfaction.id: [_pick_rating(rng, (0.15, 0.25))]} | {question.id: [] for question in others}
        surveys.submit_response(survey, rng.choice(placements), answers,
                                filled_at=opened + timedelta(minutes=rng.randrange(20 * 24 * 60)))


def _cast(round_, deputy, choices) -> None:
    """What casting stores, without the web request: the marker and the sealed ballot."""
    db.session.add(BallotMarker(round_id=round_.id, deputy_id=deputy.id, ticket_check=secrets.token_hex(32)))
    sealed = sealing.seal(round_.seal_key, round_.id, ballots.new_receipt(), choices, ballots.seal_block(round_))
    db.session.add(SealedBallot(round_id=round_.id, id=secrets.token_bytes(16), sealed=sealed))


def _demo_assessment(rng, actor, staff, congress, presiding, scrutineer, projects, present, shares) -> None:
    """The deputies' secret-ballot satisfaction assessment of last year's delivered projects,
    graded in three grades on the roster as the district's 票决办法 says."""
    assessment = ballots.create_round(actor, congress, "2026年度民生实事项目满意度测评", SATISFACTION, 1, "roster", "electronic")
    for project in projects:
        ballots.add_candidate(
            actor, assessment, project.name, project.summary, project.budget, project.department_name, project_id=project.id
        )
    documents.record_adoption(staff, assessment, beijing_today(), PRESIDIUM)
    ballots.open_round(presiding.get_id(), assessment)
    for deputy in rng.sample(present, len(present) - 5):
        choices = {
            str(candidate.id): _pick_rating(rng, mix)
            for candidate, mix in zip(assessment.candidates, ASSESSMENT_MIX)
            if rng.random() < 0.97
        }
        _cast(assessment, deputy, choices)
    db.session.flush()
    ballots.close_round(presiding, assessment)
    ballots.unseal_round(scrutineer, assessment, list(shares[:2]))
    ballots.confirm_round(scrutineer, assessment)
    ballots.announce_round(presiding, assessment)


def seed(rng_seed: int = 2027) -> str:
    """Create the demo session and return the sign-in sheet (written to instance/)."""
    rng = random.Random(rng_seed)
    passwords = {role: "demo-" + secrets.token_hex(4) for role in ("staff", "presiding", "scrutineer1", "scrutineer2")}
    staff = create_user("staff", "人大常委会办公室 李敏", STAFF, passwords["staff"])
    presiding = create_user("presiding", "大会主持人 王建国", PRESIDING, passwords["presiding"])
    scrutineer = create_user("scrutineer1", "总监票人 陈静", SCRUTINEER, passwords["scrutineer1"])
    create_user("scrutineer2", "监票人 刘洋", SCRUTINEER, passwords["scrutineer2"])
    actor = staff.get_id()

    congress = sessions.create_session(actor, "樊城区第十九届人民代表大会第六次会议", "樊城区人民会堂", date(2027, 1, 12))
    demo_terms.date_the_term(congress.term)
    demo_town.seed_district_profile(actor, congress.term.congress)
    district_rows = roster_rows(rng)
    other_rows = other_level_rows(len(district_rows) + 2)
    rows = district_rows + other_rows
    sessions.import_roster(actor, congress, RosterParse(tuple(rows), ()))
    fifth = demo_duty.seed_term_history(actor, congress)
    db.session.refresh(congress)
    deputies = list(congress.deputies)
    cards = {card.deputy.id: card for card in issue_missing_cards(actor, congress)}

    absent = set(rng.sample(range(len(deputies)), 14))
    for index, deputy in enumerate(deputies):
        if index not in absent:
            sessions.check_in(deputy, sessions.DESK)

    _key, ceremony = keys.hold_ceremony(actor, congress, 2, 3, ["总监票人 陈静", "监票人 刘洋", "监票人 赵磊"])
    shares = ceremony.shares
    main_round = ballots.create_round(
        actor, congress, "2027年度樊城区民生实事项目票决", "choose_up_to", 10, "roster", "electronic"
    )
    departments = demo_delivery.seed_departments(actor)
    officers = demo_delivery.seed_officers(passwords)
    # The first candidates came in as residents' proposals at the liaison stations.
    demo_delivery.seed_proposals(rng, actor, staff.display_name, main_round, CANDIDATES[:3])
    grid_ids = demo_grids.seed_grids(actor)
    demo_grids.place_proposals(grid_ids)
    demo_grids.link_deputies(congress.term, grid_ids)
    for name, summary, investment, department, due in CANDIDATES[3:]:
        ballots.add_candidate(actor, main_round, name, summary, Decimal(investment), department, date.fromisoformat(due))
    documents.record_adoption(staff, main_round, beijing_today(), PRESIDIUM)
    ballots.open_round(presiding.get_id(), main_round)
    candidate_ids = [c.id for c in main_round.candidates]
    present = [d for d in deputies if d.is_present]
    voters = rng.sample(present, len(present) - 3)
    for position, deputy in enumerate(voters):
        if position == 0:
            choices = []
        else:
            liked = [cid for cid, chance in zip(candidate_ids, POPULARITY) if rng.random() < chance]
            choices = sorted(liked, key=lambda cid: rng.random() - POPULARITY[candidate_ids.index(cid)])[:10]
        _cast(main_round, deputy, choices)
    db.session.flush()
    ballots.close_round(presiding, main_round)
    ballots.unseal_round(scrutineer, main_round, list(shares[1:]))
    ballots.confirm_round(scrutineer, main_round)
    ballots.announce_round(presiding, main_round)

    elected = ballots.count_round(main_round).elected
    elected_projects = [
        projects.project_from_candidate(actor, staff.display_name, candidate, projects.project_year(main_round))
        for candidate in main_round.candidates
        if candidate.id in elected
    ]
    delivered = _delivered_projects(actor, staff, presiding, scrutineer, fifth)
    present_deputies = [d for d in deputies if d.is_present]
    demo_delivery.seed_delivery(rng, actor, staff.display_name, delivered, elected_projects, departments, officers,
                                present_deputies)
    demo_duty.seed_earlier_visits(fifth)
    demo_stations.seed_stations(rng, actor, list(congress.term.deputies), deputies[0].person, beijing_today())
    grid_worker = create_user("grid1", "樊城区网格员 周红", GRID_WORKER, passwords.setdefault("grid1", "demo-" + secrets.token_hex(4)))
    _first_corridor_survey(delivered[2])
    _demo_surveys(rng, delivered, grid_worker, grid_ids)
    demo_grids.seed_grid_survey(actor, None)
    demo_frames.seed_households()
    demo_frames.seed_frame(actor, delivered[0])
    _demo_assessment(rng, actor, staff, congress, presiding, scrutineer, delivered, present_deputies, shares)
    demo_delivery.date_the_story_2026(delivered)
    town_round = demo_town.seed_town(actor, staff, presiding, scrutineer, other_rows, _cast)

    trial = ballots.create_round(actor, congress, TRIAL_ROUND_NAME, "for_against", 2, "roster", "electronic")
    for name, summary, investment, department, due in CANDIDATES[10:14]:
        ballots.add_candidate(actor, trial, name, summary, Decimal(investment), department, date.fromisoformat(due))
    documents.record_adoption(staff, trial, beijing_today(), PRESIDIUM)
    demo_terms.seed_office_changes(actor, congress.term)
    next_session = sessions.create_session(actor, "樊城区第十九届人民代表大会第七次会议", "樊城区人民会堂", date(2028, 1, 10))
    demo_delivery.seed_next_session_candidates(actor, staff.display_name, next_session)
    demo_groups.seed_groups(actor, congress.term)
    demo_groups.seed_ad_hoc_group(actor, staff.display_name, congress.term)
    demo_delivery.seed_checkpoints(actor, beijing_today().year)  # the year its projects are delivered in
    demo_delivery.seed_letters(staff.display_name)

    lines = [
        SERVER_NOTE,
        "Demo sign-ins (demo data only; change them before real use)",
        "(grid1 is a community grid worker who keys in residents' paper answers;",
        " dept-* are department officers who report on their own department's projects)",
        "",
        f"Sign in at {SERVER_MARK}/login",
        *(f"  {role:<14} password {password}" for role, password in passwords.items()),
        "",
        "Deputy voting cards: open the link on a phone (or a second browser), then type the PIN:",
    ]
    for deputy in deputies[:5]:
        card = cards[deputy.id]
        state = "checked in" if deputy.is_present else "not checked in"
        lines.append(f"  {deputy.number} {deputy.name} ({state}): {SERVER_MARK}/c/{card.token}  PIN {card.pin}")
    lines += [
        "",
        f"{deputies[0].number} {deputies[0].name} is on duty at {deputies[0].person.station.name} today (reception day):",
        "  with that card, the menu's 接待日录入 (reception-day entry) enters visitors' proposals.",
    ]
    lines += [
        "",
        f"To try voting: sign in as presiding, open the session {congress.name},",
        f"open the round {TRIAL_ROUND_NAME} (it waits as a draft), then vote with a",
        "checked-in deputy's card above. Close it as presiding; two shares below open the count.",
    ]
    lines += [
        "",
        "Two styles of 票决办法 (each congress's rule profile):",
        f"  {congress.term.congress.name} grades its satisfaction assessment 满意/基本满意/不满意 on the roster:",
        f"    {SERVER_MARK}/terms/congresses/{congress.term.congress_id}/rules",
        f"  {demo_town.TOWN_CONGRESS} numbers 20 candidates by priority for 10 places:",
        f"    {SERVER_MARK}/terms/congresses/{town_round.session.term.congress_id}/rules",
        f"    the announced priority ballot: {SERVER_MARK}/ballots/rounds/{town_round.id}/results",
    ]
    lines += [
        "",
        f"The scrutineers' key shares of {congress.name} (any 2 of 3 open a round's ballots).",
        "Demo only: real shares are printed once at the key ceremony and never stored.",
        *(f"  share {number}: {share}" for number, share in enumerate(shares, start=1)),
    ]
    return "\n".join(lines) + "\n"


def logins_for_server(saved: str, server: str) -> str:
    """The saved sign-ins with the address the app is actually served at."""
    return saved.replace(SERVER_NOTE + "\n", "").replace(SERVER_MARK, server.rstrip("/"))
