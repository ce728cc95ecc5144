"""Demo data for the duty records (履职档案): the term's fifth session, held a year before the
demo's sixth, with its check-ins (at the desk and by the venue code, at the session's morning);
two changes in office between them (a resignation and a by-election), so a deputy is neither
counted absent for a session held after leaving office nor for one held before taking it; and
supervision visits made with the fifth session's cards, counted with the later ones."""

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select

from voting_app.clock import beijing_today
from voting_app.db import db
from voting_app.projects import delivery
from voting_app.projects.models import Project, SupervisionRecord
from voting_app.registry import service as registry
from voting_app.registry.roster import RosterRow
from voting_app.registry.terms import RESIGNED
from voting_app.sessions import service as sessions
from voting_app.sessions.models import CongressSession, Deputy

FIFTH_SESSION = "樊城区第十九届人民代表大会第五次会议"
FIFTH_DAY = date(2026, 1, 8)
RESIGNED_ON = date(2026, 6, 30)
ELECTED_ON = date(2026, 9, 15)
ABSENT_AT_FIFTH = 11
EARLIER_VISITS = [
    ("桥梁施工围挡不规范，夜间警示灯缺失。", "补设夜间警示灯，规范围挡。", 21),
    ("路灯基础施工完成过半，施工质量良好。", "", None),
    ("长廊地面铺装存在空鼓，需返工。", "返工处理空鼓地面。", 30),
    ("卫生服务站设备已到位，部分未调试。", "", None),
]


def seed_term_history(actor: str, sixth: CongressSession) -> CongressSession:
    """Before the sixth session's check-in: the fifth session with its check-ins, then a deputy
    who resigned and one elected in a by-election, each recorded on the day it took effect, before
    the sixth session's day, so the sixth session's roster follows whatever day the demo is built."""
    rng = random.Random(19)
    fifth = sessions.create_session(actor, FIFTH_SESSION, "樊城区人民会堂", FIFTH_DAY, term=sixth.term, meeting_number=5)
    roster = list(fifth.roster)
    absent = set(rng.sample(range(len(roster)), ABSENT_AT_FIFTH))
    morning = datetime(FIFTH_DAY.year, FIFTH_DAY.month, FIFTH_DAY.day, 0, 20)  # 08:20 in Beijing, stored as UTC
    for index, deputy in enumerate(roster):
        if index in absent:
            continue
        sessions.check_in(deputy, sessions.VENUE_CODE if rng.random() < 0.35 else sessions.DESK)
        deputy.checked_in_at = morning + timedelta(seconds=rng.randrange(50 * 60))
    db.session.flush()

    leaver = roster[rng.choice(sorted(set(range(10, len(roster))) - absent))].person  # attended the fifth, then resigned
    sessions.record_office_change(actor, leaver, RESIGNED, RESIGNED_ON, "工作调动，辞去代表职务", RESIGNED_ON)
    registry.add_elected_deputy(
        actor, sixth.term, RosterRow(0, f"{len(roster) + 1:03d}", "欧阳晓东", "城区代表团", "城区社区居委会"),
        ELECTED_ON, ELECTED_ON, note=f"补选（接替{leaver.name}）",
    )
    sessions.sync_term_sessions(sixth.term, since=ELECTED_ON, today=ELECTED_ON)
    return fifth


def seed_earlier_visits(fifth: CongressSession) -> None:
    """Supervision visits made with the fifth session's cards by deputies who also visited later,
    and by one who did not: a deputy's visits count across the sessions of the term."""
    rng = random.Random(20)
    later = db.session.scalars(
        select(Deputy).join(SupervisionRecord, SupervisionRecord.deputy_id == Deputy.id).order_by(SupervisionRecord.id)
    ).all()
    rows = {row.term_deputy_id: row for row in fifth.deputies}
    visitors = [rows[deputy.term_deputy_id] for deputy in later if deputy.term_deputy_id in rows][:3]
    visitors.append(rng.choice([row for row in fifth.deputies if row.checked_in_at is not None and row not in visitors]))
    projects = db.session.scalars(select(Project).where(Project.year == 2026).order_by(Project.id)).all()
    today = beijing_today()
    for visitor, project, (findings, rectification, due_in) in zip(visitors, projects, EARLIER_VISITS):
        visited = today - timedelta(days=rng.randint(200, 260))
        delivery.record_supervision("demo", visitor, project, visited, findings, rectification,
                                    visited + timedelta(days=due_in) if due_in else None, [], today=today)
