"""The demo's two styles of 票决办法: the district grades its satisfaction assessment in three
grades on the roster (as 镇海区 does), and a town congress numbers its candidates by priority
(轻重缓急, as 黎乡 town in 宁海县 does: 20 candidates for 10 places).

The town's deputies are the registry's town-level deputies of 太平店镇 (the T-numbered ones,
`demo.OTHER_LEVELS`), entered in the town congress's own register under the same numbers.
Everything after the ballots goes through the services, as staff would do it; the ballots are
drawn from a generator of their own, so the district's demo stays as it was."""

import random
from datetime import date
from decimal import Decimal

from voting_app.ballots import keys, profiles
from voting_app.ballots import service as ballots
from voting_app.ballots.counting import BASE_ROSTER, CHOOSE_UP_TO, FOR_AGAINST, GRADING_TIERS, RANK, SATISFACTION
from voting_app.ballots.models import Round
from voting_app.ballots.profile_rules import RuleProfile
from voting_app.clock import beijing_today
from voting_app.db import db
from voting_app.documents import service as documents
from voting_app.registry import service as registry
from voting_app.registry.models import Congress
from voting_app.registry.roster import RosterParse, RosterRow
from voting_app.registry.terms import TOWN
from voting_app.sessions import service as sessions

TOWN_NAME = "太平店镇"
TOWN_CONGRESS = f"{TOWN_NAME}人民代表大会"
TOWN_TERM = 21
TOWN_SESSION = f"{TOWN_NAME}第二十一届人民代表大会第四次会议"
TOWN_ROUND = "2027年度太平店镇民生实事项目票决（按轻重缓急排序）"
TOWN_PLACES = 10

# The district: three grades on the whole roster, no bar; the methods its sessions use.
DISTRICT_PROFILE = RuleProfile(
    pass_base=BASE_ROSTER, methods=(CHOOSE_UP_TO, FOR_AGAINST, SATISFACTION), grading=GRADING_TIERS, satisfaction_bar=None
)
DISTRICT_NOTE = "区人大常委会通过的票决办法：满意度测评按全体代表分满意、基本满意、不满意三档（参照镇海区做法）"
# The town: a priority ballot besides the usual one; otherwise the defaults.
TOWN_PROFILE = RuleProfile(methods=(CHOOSE_UP_TO, RANK))
# Who adopts the town round's 票决办法 before it opens.
TOWN_PRESIDIUM = "镇人民代表大会主席团"
TOWN_NOTE = "镇人大主席团通过的票决办法：代表按轻重缓急对候选项目排序（参照宁海县黎乡镇做法）"

# (name, rationale, investment in 万元, responsible unit, planned completion, popularity)
TOWN_CANDIDATES = [
    ("镇区污水管网改造", "改造镇区老旧污水管网6.5公里，解决雨污混流和路面返水。", "680", "镇建设办", "2027-10-31", 0.95),
    ("村级卫生室标准化建设", "为12个村卫生室配齐诊疗设备，方便群众就近看病。", "240", "镇卫生院", "2027-08-31", 0.93),
    ("农村饮水管网延伸", "向4个偏远村民小组延伸自来水管网18公里。", "520", "镇水利站", "2027-09-30", 0.91),
    ("镇中心小学食堂改造", "改造食堂后厨和就餐区，增加200个就餐位。", "310", "镇中心小学", "2027-08-15", 0.88),
    ("村组道路硬化", "硬化村组道路22公里，通达全部自然湾。", "900", "镇交通管理站", "2027-11-30", 0.86),
    ("农贸市场提档升级", "改造镇农贸市场摊位、排水和消防设施。", "260", "镇市场监管所", "2027-07-31", 0.8),
    ("居家养老服务站建设", "在镇区和3个中心村建设居家养老服务站，提供助餐服务。", "180", "镇民政办", "2027-09-30", 0.78),
    ("汉江堤防险段整治", "整治汉江堤防险段1.2公里，加固护坡。", "750", "镇水利站", "2027-05-31", 0.74),
    ("镇区路灯补装", "补装镇区主次干道路灯420盏。", "130", "镇建设办", "2027-06-30", 0.7),
    ("农田灌溉泵站维修", "维修更换7座灌溉泵站的机组和渠系。", "210", "镇农业服务中心", "2027-04-30", 0.66),
    ("村级文化广场建设", "新建5个村级文化广场，配套健身器材。", "150", "镇文化站", "2027-09-30", 0.5),
    ("镇区停车场建设", "利用闲置地块建设停车场，新增车位160个。", "220", "镇建设办", "2027-10-31", 0.36),
    ("垃圾转运站改造", "改造镇垃圾转运站，新增压缩设备。", "190", "镇环卫所", "2027-08-31", 0.4),
    ("幼儿园户外场地改造", "改造镇中心幼儿园户外活动场地和围墙。", "95", "镇中心幼儿园", "2027-08-15", 0.34),
    ("农村电网改造配套", "配合供电部门改造3个村的低压线路。", "160", "镇经济发展办", "2027-12-31", 0.28),
    ("集镇公共厕所改造", "新建、改造集镇公共厕所6座。", "85", "镇环卫所", "2027-07-31", 0.3),
    ("便民服务中心改造", "改造镇便民服务中心大厅，增设自助服务区。", "120", "镇党政办", "2027-06-30", 0.22),
    ("河道清淤疏浚", "清淤疏浚镇内河道9公里。", "260", "镇水利站", "2027-04-30", 0.26),
    ("防汛物资仓库建设", "新建防汛物资仓库一座，储备抢险物资。", "70", "镇应急办", "2027-05-31", 0.18),
    ("村级公交候车亭建设", "沿镇村公交线路建设候车亭20座。", "60", "镇交通管理站", "2027-09-30", 0.24),
]


def seed_district_profile(actor: str, congress: Congress) -> None:
    """The district's 票决办法, saved before its rounds are made so that they copy it."""
    profiles.save_profile(actor, congress, DISTRICT_PROFILE, DISTRICT_NOTE)


def town_rows(other_level_rows: list[RosterRow]) -> list[RosterRow]:
    """The town's own deputies: the registry's town-level deputies of 太平店镇, in the town
    register under their numbers, their units kept (a town congress has no delegations)."""
    rows = [row for row in other_level_rows if row.level == TOWN and row.delegation == TOWN_NAME]
    return [RosterRow(line, row.number, row.name, "", row.unit, level=TOWN) for line, row in enumerate(rows, start=2)]


def seed_town(actor: str, staff, presiding, scrutineer, other_level_rows: list[RosterRow], cast) -> Round:
    """The town congress with its profile, its session and roster, and an announced priority
    round: its deputies present number up to 10 of 20 candidates, one hands in a blank ballot.
    `cast` stores one deputy's ballot (`demo._cast`)."""
    rng = random.Random(2027_4)
    congress = registry.create_congress(actor, TOWN_CONGRESS, TOWN)
    profiles.save_profile(actor, congress, TOWN_PROFILE, TOWN_NOTE)
    term = registry.create_term(actor, congress, TOWN_TERM)
    session = sessions.create_session(actor, TOWN_SESSION, "太平店镇人民政府会议室", date(2027, 1, 8), term=term, meeting_number=4)
    sessions.import_roster(actor, session, RosterParse(tuple(town_rows(other_level_rows)), ()))
    deputies = list(session.deputies)
    absent = set(rng.sample(range(len(deputies)), 2))
    for index, deputy in enumerate(deputies):
        if index not in absent:
            sessions.check_in(deputy, sessions.DESK)
    _key, ceremony = keys.hold_ceremony(actor, session, 2, 3, ["总监票人 陈静", "监票人 刘洋", "监票人 赵磊"])
    round_ = ballots.create_round(actor, session, TOWN_ROUND, RANK, TOWN_PLACES, None, "electronic")
    for name, rationale, investment, unit, due, _ in TOWN_CANDIDATES:
        ballots.add_candidate(actor, round_, name, rationale, Decimal(investment), unit, date.fromisoformat(due))
    documents.record_adoption(staff, round_, beijing_today(), TOWN_PRESIDIUM)
    ballots.open_round(presiding.get_id(), round_)
    liked = {candidate.id: popularity for candidate, (*_, popularity) in zip(round_.candidates, TOWN_CANDIDATES)}
    present = [deputy for deputy in deputies if deputy.is_present]
    for position, deputy in enumerate(rng.sample(present, len(present) - 1)):
        chosen = [cid for cid, chance in liked.items() if rng.random() < chance]
        order = sorted(chosen, key=lambda cid: rng.random() - liked[cid])[: rng.choice((10, 10, 10, 9, 8))]
        cast(round_, deputy, [] if position == 0 else order)
    db.session.flush()
    ballots.close_round(presiding, round_)
    ballots.unseal_round(scrutineer, round_, list(ceremony.shares[:2]))
    ballots.confirm_round(scrutineer, round_)
    ballots.announce_round(presiding, round_)
    return round_
