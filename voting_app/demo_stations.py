"""Demo data for the liaison stations (Fancheng's 25): each with its deputies, reception days on the
15th, a few days moved or cancelled, deputies on duty, and reception-day proposals entered by the
deputies on duty. The first deputy of the sign-in sheet is on duty today, so the entry page shows."""

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from voting_app.db import db
from voting_app.proposals.reception import Row, enter_reception_batch
from voting_app.registry import stations
from voting_app.registry.models import LiaisonStation, TermDeputy
from voting_app.registry.reception import add_months, regular_day

DUTY_PER_DAY = 2
MONTHS_BACK, MONTHS_AHEAD = 3, 4
VISITOR_IDEAS = [
    ("小区路灯不亮", "小区东门到菜市场一段路灯坏了两个月，晚上出行不便。", "路灯所在小区", "roads_transport"),
    ("增设老年助餐点", "附近老人多，子女不在身边，希望社区设助餐点。", "社区服务中心", "elderly_childcare"),
    ("疏通下水道", "雨后小区积水严重，下水道长期堵塞需要疏通。", "小区内道路", "water_power"),
    ("学校门口增设斑马线", "上下学时段车多人多，学生过马路危险。", "小学门口", "education"),
    ("公园增加公厕", "公园里只有一个厕所，周末游客多排长队。", "街心公园", "environment"),
    ("卫生室配备常用药", "村卫生室常用药经常缺货，要跑到镇上去买。", "村卫生室", "health"),
]
# (station index, months from now, days moved, or None: cancelled, reason)
CHANGES = ((1, 0, 3, "与区人代会会期冲突，顺延三天"), (4, 1, None, "防汛值守，本月暂停接待"),
           (9, 2, -2, "遇周末，提前至工作日"), (12, -1, 2, "遇周末，顺延至工作日"))


def _utc(day) -> datetime:
    return datetime.combine(day, time(2, 0))  # 10:00 in Beijing is 02:00 UTC


def seed_stations(rng: random.Random, actor: str, term_deputies: list[TermDeputy], first_deputy: TermDeputy,
                  today) -> None:
    station_list = list(db.session.scalars(select(LiaisonStation).order_by(LiaisonStation.id)))
    people = list(term_deputies)
    rng.shuffle(people)
    for index, person in enumerate(people):
        person.station_id = station_list[index % len(station_list)].id
    db.session.flush()
    for station in station_list:
        db.session.refresh(station)
    this_month = (today.year, today.month)
    for index, month_offset, shift, reason in CHANGES:
        station = station_list[index]
        scheduled = regular_day(*add_months(*this_month, month_offset), station.reception_day)
        stations.change_reception(actor, station, scheduled, None if shift is None else scheduled + timedelta(days=shift),
                                  reason)
    home = first_deputy.station
    scheduled_now = regular_day(*this_month, home.reception_day)
    if scheduled_now != today:  # the demo's first deputy receives voters today
        stations.change_reception(actor, home, scheduled_now, today, "演示：本月接待日调至今天")
    for station in station_list:
        for offset in range(-MONTHS_BACK, MONTHS_AHEAD + 1):
            scheduled = regular_day(*add_months(*this_month, offset), station.reception_day)
            own = stations.duty_choices(station, scheduled)  # a deputy who left office is on no later roster
            start = (offset + MONTHS_BACK) * DUTY_PER_DAY
            on_duty = [own[(start + n) % len(own)].id for n in range(min(DUTY_PER_DAY, len(own)))]
            if station.id == home.id and offset == 0:
                on_duty = sorted({first_deputy.id, *on_duty[:1]})
            stations.set_duty(actor, station, scheduled, on_duty)
    # Past reception days: the deputies on duty entered what their visitors said.
    for station in station_list:
        for offset in range(-MONTHS_BACK, 0):
            reception = stations.station_calendar(station, regular_day(*add_months(*this_month, offset), 1), 1)[0]
            if reception.on is None:
                continue
            duty = stations.duty_of(station, reception.scheduled_on)
            if not duty or rng.random() < 0.35:
                continue
            ideas = rng.sample(VISITOR_IDEAS, rng.randint(1, 3))
            rows = [Row(f"{station.name[:-7]}{title}", text, where, theme) for title, text, where, theme in ideas]
            for proposal in enter_reception_batch(actor, duty[0], rows, reception.on):
                proposal.created_at = proposal.entered_at = _utc(reception.on)
    db.session.flush()
