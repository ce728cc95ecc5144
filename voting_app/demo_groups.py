"""The demo's deputy groups (代表小组): Fancheng has 48, most by place, some professional.
Each delegation's deputies meet in five groups by place; eight professional groups draw
members from every delegation; every demo project gets a supervision group, so the deputies
on the sign-in sheet (001-005) find their group's projects at the top of their supervision list."""

import random

from sqlalchemy import select

from voting_app.db import db
from voting_app.projects import supervision
from voting_app.projects.models import Project
from voting_app.registry import groups
from voting_app.registry.group_rules import PROFESSIONAL, MembershipRow
from voting_app.registry.models import Term
from voting_app.registry.roster import in_roster_order

ORDINALS = "一二三四五"
PROFESSIONAL_GROUPS = [
    ("教育专业代表小组", "中心小学", "教育、“双减”和校园安全"),
    ("心理健康专业代表小组", "人民医院", "青少年和老年人心理健康服务"),
    ("医疗卫生专业代表小组", "人民医院", "基层医疗和公共卫生"),
    ("乡村振兴专业代表小组", "村民委员会", "农村道路、饮水和产业"),
    ("民营经济专业代表小组", "制造有限公司", "营商环境和就业"),
    ("城市建设管理专业代表小组", "街道办事处", "老旧小区、背街小巷和市容"),
    ("社会保障专业代表小组", "社区居委会", "养老、助残和困难群众救助"),
    ("生态环境专业代表小组", "农业合作社", "水环境和人居环境"),
]
# Words in a project's name or place that point to a professional group rather than a place.
PROFESSIONAL_TOPICS = {"学校": "教育专业代表小组", "护学": "教育专业代表小组", "卫生": "医疗卫生专业代表小组",
                       "养老": "社会保障专业代表小组", "就业": "民营经济专业代表小组", "饮水": "乡村振兴专业代表小组"}
GROUPS_PER_DELEGATION = 5


def seed_groups(actor: str, term: Term, rng_seed: int = 14) -> None:
    """40 groups by place and 8 professional ones for the term, with members and projects."""
    rng = random.Random(rng_seed)
    # Members: the congress's own deputies in office (the other levels keep to stations and grids).
    deputies = in_roster_order(person for person in term.deputies
                               if person.left_office_on is None and person.level == term.congress.level)
    rows: list[MembershipRow] = []
    delegations: dict[str, list] = {}
    for deputy in deputies:
        delegations.setdefault(deputy.delegation, []).append(deputy)
    regional: list[str] = []
    for delegation, members in delegations.items():
        area = delegation.removesuffix("代表团")
        names = [f"{area}第{ORDINALS[i]}代表小组" for i in range(GROUPS_PER_DELEGATION)]
        regional += names
        for position, deputy in enumerate(members):
            rows.append(MembershipRow(0, deputy.number, names[position % GROUPS_PER_DELEGATION]))
    for name, unit_word, note in PROFESSIONAL_GROUPS:
        groups.create_group(actor, term, name, PROFESSIONAL, note)
        fitting = [deputy for deputy in deputies if unit_word in deputy.unit]
        others = [deputy for deputy in deputies if unit_word not in deputy.unit]
        members = fitting[:8] + rng.sample(others, 4)
        rows += [MembershipRow(0, deputy.number, name) for deputy in members]
    # The sign-in sheet's first card is also in the education group: two groups, two kinds.
    rows.append(MembershipRow(0, deputies[0].number, "教育专业代表小组"))
    groups.import_memberships(actor, term, rows)
    by_name = {group.name: group for group in groups.term_groups(term)}
    for group in by_name.values():
        members = group.members_in_roster_order
        if members:
            group.convener_id = members[0].id
    projects = db.session.scalars(select(Project).order_by(Project.year.desc(), Project.id)).all()
    areas = [name.removesuffix("代表团") for name in delegations]
    turns: dict[str, int] = {}
    for index, project in enumerate(projects):
        topic = next((group for word, group in PROFESSIONAL_TOPICS.items() if word in project.name), None)
        area = next((area for area in areas if area in project.location), None)
        if topic is None and area is not None:
            turn = turns[area] = turns.get(area, -1) + 1
            topic = f"{area}第{ORDINALS[turn % GROUPS_PER_DELEGATION]}代表小组"
        project.supervision_group_id = by_name[topic or regional[index % len(regional)]].id
    db.session.flush()


# An ad-hoc supervision group (临时督办小组) for the street-lighting project: deputies from its
# towns and the sign-in sheet's first card, so that deputy reads the project's checkpoint packs.
AD_HOC_PROJECT_WORD = "亮化"
AD_HOC_GROUP = "“一号公路”亮化工程督办小组"


def seed_ad_hoc_group(actor: str, actor_name: str, term: Term) -> None:
    project = db.session.scalar(select(Project).where(Project.year == 2026, Project.name.contains(AD_HOC_PROJECT_WORD))
                                .order_by(Project.id))
    deputies = in_roster_order(person for person in term.deputies
                               if person.left_office_on is None and person.level == term.congress.level)
    members = [deputies[0], *deputies[20:25]]
    supervision.form_ad_hoc_group(actor, actor_name, project, term, AD_HOC_GROUP,
                                  "\n".join(deputy.number for deputy in members), members[1].number)
