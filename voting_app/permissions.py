"""The one table of who may do what.

Every endpoint is listed in ENDPOINTS with the permission it needs; an endpoint missing
from the table is refused to everyone (fail closed), and a test walks every route with
every role against this table.
"""

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

STAFF = "staff"
PRESIDING = "presiding"
SCRUTINEER = "scrutineer"
GRID_WORKER = "grid_worker"
DEPARTMENT_OFFICER = "department_officer"
DEPUTY = "deputy"
ANONYMOUS = "anonymous"

ACCOUNT_ROLES = (STAFF, PRESIDING, SCRUTINEER, GRID_WORKER, DEPARTMENT_OFFICER)
ROLES = (*ACCOUNT_ROLES, DEPUTY)

PUBLIC = "public"
SIGNED_IN = "signed_in"

PERMISSIONS: dict[str, frozenset[str]] = {
    # Sessions, rosters and presence
    "session.view": frozenset({STAFF, PRESIDING, SCRUTINEER}),
    "session.manage": frozenset({STAFF}),
    "checkin.desk": frozenset({STAFF}),
    "checkin.screen": frozenset({STAFF, PRESIDING}),
    "checkin.self": frozenset({DEPUTY}),
    "credential.manage": frozenset({STAFF}),
    # Rounds
    "round.view": frozenset({STAFF, PRESIDING, SCRUTINEER}),
    "round.manage": frozenset({STAFF}),
    "round.conduct": frozenset({STAFF, PRESIDING}),
    "round.confirm": frozenset({SCRUTINEER}),
    "round.announce": frozenset({PRESIDING}),
    # Declaring a round void: the presiding officer asks with a reason, a scrutineer confirms.
    "round.void_request": frozenset({PRESIDING}),
    "round.void_answer": frozenset({SCRUTINEER}),
    "round.turnout": frozenset({STAFF}),
    # Recording that the presidium (or the plenary) adopted a round's 票决办法.
    "round.adopt": frozenset({STAFF}),
    # Photos of the signed 计票报告单: taken at the scrutineers' table or by the staff.
    "count_report.upload": frozenset({STAFF, SCRUTINEER}),
    # The voting system fails in the hall: the presiding officer continues the round on paper.
    "round.paper_switch": frozenset({PRESIDING}),
    "paper.enter": frozenset({SCRUTINEER}),
    # The session's sealing key: made and checked at the desk with the scrutineers, whose
    # shares, not the account, are what opens the ballots.
    "key.view": frozenset({STAFF, PRESIDING, SCRUTINEER}),
    "key.hold": frozenset({STAFF, SCRUTINEER}),
    "ballot.cast": frozenset({DEPUTY}),
    # Projects
    "project.manage": frozenset({STAFF}),
    "project.dashboard": frozenset({STAFF, PRESIDING}),
    # Department officers: the object rule owns_project() narrows these to their own projects.
    "project.report": frozenset({DEPARTMENT_OFFICER}),
    # Change control (projects.changes): staff or the project's department ask (requests_change()
    # narrows officers to their own projects); only staff record the standing committee's decision.
    "change.request": frozenset({STAFF, DEPARTMENT_OFFICER}),
    "change.decide": frozenset({STAFF}),
    # answers_issue() narrows answering to the issues of the officer's own department.
    "supervision.answer": frozenset({DEPARTMENT_OFFICER}),
    # Deputies: judging is narrowed by recorded_supervision() to the deputy who recorded it.
    "supervision.record": frozenset({DEPUTY}),
    "supervision.judge": frozenset({DEPUTY}),
    # The supervision ledger (问题、责任、整改台账) and the reminder letters (提醒函) to departments;
    # reads_letter() narrows an officer to the letters addressed to its department.
    "ledger.view": frozenset({STAFF, PRESIDING}),
    "reminder.issue": frozenset({STAFF}),
    "reminder.view": frozenset({STAFF, DEPARTMENT_OFFICER}),
    # Proposals from the liaison stations
    "proposal.screen": frozenset({STAFF}),
    # Liaison stations and the grid hierarchy: where proposals come from and answers are split by.
    "station.manage": frozenset({STAFF}),
    # Deputy groups (代表小组) and their members
    "group.manage": frozenset({STAFF}),
    # The deputy on duty at a station's reception day; the view narrows it to that deputy and day.
    "reception.enter": frozenset({DEPUTY}),
    # Resident surveys
    "survey.manage": frozenset({STAFF}),
    "survey.results": frozenset({STAFF, PRESIDING}),
    "survey.list": frozenset({STAFF, PRESIDING, GRID_WORKER}),
    "survey.assist": frozenset({STAFF, GRID_WORKER}),
    # The venue screen
    "screen.show": frozenset({STAFF, PRESIDING}),
    "screen.drive": frozenset({STAFF, PRESIDING}),
    # Reports
    "report.view": frozenset({STAFF, PRESIDING}),
    # The supervision cycle: staff set the checkpoints' days and read every pack; a deputy reads
    # the packs of the projects his or her group supervises (reads_supervision_pack()).
    "checkpoint.manage": frozenset({STAFF}),
    "checkpoint.pack": frozenset({STAFF, DEPUTY}),
    "archive.download": frozenset({STAFF}),
    # Duty records (履职档案) of the term's deputies, and their export for duty evaluation
    "duty.view": frozenset({STAFF}),
    # Administration
    "audit.view": frozenset({STAFF}),
    "account.manage": frozenset({STAFF}),
    "account.own": frozenset(ACCOUNT_ROLES),
    # Congresses, terms and the standing registry (contacts included): the committee's staff.
    "registry.manage": frozenset({STAFF}),
    # A congress's 票决办法 (rule profile): edited, exported and imported by the committee's staff.
    "rules.manage": frozenset({STAFF}),
}

ENDPOINTS: dict[str, str] = {
    "static": PUBLIC,
    "main.index": PUBLIC,
    "main.language": PUBLIC,
    "main.text_size": PUBLIC,
    "main.favicon": PUBLIC,
    "auth.login": PUBLIC,
    "auth.login_code": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.card": PUBLIC,
    "auth.card_pin": PUBLIC,
    "sessions.session_list": "session.view",
    "sessions.session_new": "session.manage",
    "sessions.session_detail": "session.view",
    "sessions.session_edit": "session.manage",
    "sessions.session_delete": "session.manage",
    "sessions.deputy_remove": "session.manage",
    "sessions.deputy_term_end": "session.manage",
    "sessions.roster": "session.view",
    "sessions.roster_import": "session.manage",
    "sessions.roster_template": "session.manage",
    "sessions.presence_json": "session.view",
    "sessions.checkin_desk": "checkin.desk",
    "sessions.checkin_deputy": "checkin.desk",
    "sessions.checkin_card": "checkin.desk",
    "sessions.checkin_undo": "checkin.desk",
    "sessions.checkin_screen": "checkin.screen",
    "sessions.checkin_screen_json": "checkin.screen",
    "sessions.checkin_self": "checkin.self",
    "sessions.credential_list": "credential.manage",
    "sessions.credential_issue_all": "credential.manage",
    "sessions.credential_reissue": "credential.manage",
    "sessions.credential_revoke": "credential.manage",
    "sessions.credential_unlock": "credential.manage",
    "ballots.round_new": "round.manage",
    "ballots.round_detail": "round.view",
    "ballots.round_edit": "round.manage",
    "ballots.candidate_add": "round.manage",
    "ballots.candidate_delete": "round.manage",
    "ballots.candidate_add_project": "round.manage",
    "ballots.round_open": "round.conduct",
    "ballots.round_close": "round.conduct",
    "ballots.round_confirm": "round.confirm",
    "ballots.round_announce": "round.announce",
    "ballots.round_followup": "round.manage",
    "ballots.round_cancel": "round.conduct",
    "ballots.round_void": "round.void_request",
    "ballots.round_void_answer": "round.void_answer",
    "ballots.round_turnout": "round.turnout",
    "ballots.round_paper_switch": "round.paper_switch",
    "ballots.paper_desk": "round.turnout",
    "ballots.round_status_json": "round.view",
    "ballots.key_detail": "key.view",
    "ballots.key_ceremony": "key.hold",
    "ballots.key_check": "key.hold",
    "ballots.round_unseal": "key.hold",
    "ballots.paper_entry": "paper.enter",
    "ballots.paper_entry_add": "paper.enter",
    "ballots.paper_entry_remove": "paper.enter",
    "ballots.paper_entry_submit": "paper.enter",
    "ballots.deputy_home": "ballot.cast",
    "ballots.ballot_form": "ballot.cast",
    "ballots.ballot_confirm": "ballot.cast",
    "ballots.ballot_cast": "ballot.cast",
    "ballots.ballot_receipt": "ballot.cast",
    "ballots.board": PUBLIC,
    "ballots.board_json": PUBLIC,
    "ballots.results": PUBLIC,
    "documents.measures_draft": "round.view",
    "documents.adoption_record": "round.adopt",
    "documents.count_report": "round.view",
    "documents.count_report_photos": "count_report.upload",
    "documents.notice": PUBLIC,
    "projects.project_list": PUBLIC,
    "projects.project_detail": PUBLIC,
    "projects.project_history": PUBLIC,
    "projects.project_new": "project.manage",
    "projects.department_list": "project.manage",
    "projects.project_edit": "project.manage",
    "projects.project_supervisors": "project.manage",
    "projects.project_from_candidate": "project.manage",
    "projects.project_schedule": "project.manage",
    "projects.milestone_add": "project.manage",
    "projects.milestone_remove": "project.manage",
    "projects.milestone_done": "project.report",
    "projects.project_plan": "project.manage",
    "projects.sub_item_edit": "project.manage",
    "projects.sub_item_remove": "project.manage",
    "projects.target_add": "project.manage",
    "projects.target_edit": "project.manage",
    "projects.target_remove": "project.manage",
    "projects.dashboard": "project.dashboard",
    "projects.plan_publish": "project.manage",
    "projects.change_new": "change.request",
    "projects.change_detail": "change.request",
    "projects.change_withdraw": "change.request",
    "projects.change_decide": "change.decide",
    "projects.my_projects": "project.report",
    "projects.note_new": "project.report",
    "projects.supervision_list": "supervision.record",
    "projects.supervision_new": "supervision.record",
    "projects.supervision_answer": "supervision.answer",
    "projects.supervision_judge": "supervision.judge",
    "projects.supervision_issue_add": "supervision.record",
    "ledger.issue_list": "ledger.view",
    "ledger.issue_export": "ledger.view",
    "ledger.department_issues": "project.report",
    "ledger.letter_list": "reminder.issue",
    "ledger.letter_generate": "reminder.issue",
    "ledger.letter_detail": "reminder.view",
    "projects.photo": PUBLIC,
    "projects.photo_thumbnail": PUBLIC,
    "proposals.propose": PUBLIC,
    "proposals.propose_submit": PUBLIC,
    "proposals.propose_online": PUBLIC,
    "proposals.propose_online_submit": PUBLIC,
    "proposals.track": PUBLIC,
    "proposals.summary": PUBLIC,
    "proposals.summary_csv": PUBLIC,
    "proposals.proposal_enter": "proposal.screen",
    "proposals.reason_list": "proposal.screen",
    "proposals.reason_edit": "proposal.screen",
    "proposals.reason_retire": "proposal.screen",
    "proposals.reason_move": "proposal.screen",
    "proposals.reason_delete_confirm": "proposal.screen",
    "proposals.reason_delete": "proposal.screen",
    "proposals.proposal_list": "proposal.screen",
    "proposals.proposal_detail": "proposal.screen",
    "proposals.proposal_accept": "proposal.screen",
    "proposals.proposal_merge_confirm": "proposal.screen",
    "proposals.proposal_merge": "proposal.screen",
    "proposals.proposal_unmerge": "proposal.screen",
    "proposals.proposal_decline": "proposal.screen",
    "proposals.proposal_reserve": "proposal.screen",
    "proposals.window_list": "proposal.screen",
    "proposals.proposal_counts": "proposal.screen",
    "proposals.station_list": "station.manage",
    "proposals.station_poster": "station.manage",
    "proposals.proposal_grid": "proposal.screen",
    "proposals.proposal_grid_counts": "proposal.screen",
    "grids.grid_list": "station.manage",
    "grids.grid_import": "station.manage",
    "grids.grid_boundaries": "station.manage",
    "grids.grid_template": "station.manage",
    "stations.station_index": "station.manage",
    "stations.station_detail": "station.manage",
    "stations.station_reception_day": "station.manage",
    "stations.station_deputy_add": "station.manage",
    "stations.station_deputy_remove": "station.manage",
    "stations.reception_day": "station.manage",
    "stations.reception_change": "station.manage",
    "stations.reception_duty": "station.manage",
    "stations.reception_count_table": "station.manage",
    "stations.reception_entry": "reception.enter",
    "households.household_list": "station.manage",
    "households.household_import": "station.manage",
    "households.household_template": "station.manage",
    "surveys.survey_list": "survey.list",
    "surveys.survey_new": "survey.manage",
    "surveys.survey_edit": "survey.manage",
    "surveys.survey_detail": "survey.manage",
    "surveys.question_add": "survey.manage",
    "surveys.question_move": "survey.manage",
    "surveys.question_delete": "survey.manage",
    "surveys.question_english": "survey.manage",
    "surveys.placement_add": "survey.manage",
    "surveys.placement_grid": "survey.manage",
    "surveys.qr_png": "survey.manage",
    "surveys.qr_svg_download": "survey.manage",
    "surveys.poster": "survey.manage",
    "surveys.codes_issue": "survey.manage",
    "surveys.frame_list": "survey.manage",
    "surveys.frame_detail": "survey.manage",
    "surveys.frame_verify": "survey.manage",
    "surveys.frame_redraw": "survey.manage",
    "surveys.frame_print": "survey.manage",
    "surveys.results": "survey.results",
    "surveys.results_json": "survey.results",
    "surveys.grid_map": "survey.results",
    "surveys.export_csv": "survey.results",
    "surveys.export_xlsx": "survey.results",
    "surveys.comments": "survey.manage",
    "surveys.comment_hide": "survey.manage",
    "surveys.flagged": "survey.manage",
    "surveys.response_flag": "survey.manage",
    "surveys.held": "survey.manage",
    "surveys.held_settle": "survey.manage",
    "surveys.assisted_entry": "survey.assist",
    "surveys.respond": PUBLIC,
    "surveys.respond_submit": PUBLIC,
    "surveys.thanks": PUBLIC,
    "screen.show": "screen.show",
    "screen.slide_fragment": "screen.show",
    "screen.go": "screen.drive",
    "screen.remote": "screen.drive",
    "assets.vendor": PUBLIC,
    "reports.session_report": "report.view",
    "reports.session_report_xlsx": "report.view",
    "reports.year_report": "report.view",
    "reports.year_report_xlsx": "report.view",
    "reports.project_report": "report.view",
    "reports.checkpoint_list": "checkpoint.manage",
    "reports.checkpoint_days": "checkpoint.manage",
    "reports.checkpoint_packs_xlsx": "checkpoint.manage",
    "reports.checkpoint_pack": "checkpoint.pack",
    "reports.checkpoint_pack_xlsx": "checkpoint.pack",
    "archive.session_archive": "archive.download",
    "archive.year_archive": "archive.download",
    "duty.term_list": "duty.view",
    "duty.duty_table": "duty.view",
    "duty.deputy_duty": "duty.view",
    "duty.duty_export": "duty.view",
    "audit.audit_log": "audit.view",
    "auth.account_list": "account.manage",
    "auth.account_new": "account.manage",
    "auth.account_unlock": "account.manage",
    "auth.account_security": "account.own",
    "groups.group_list": "group.manage",
    "groups.group_new": "group.manage",
    "groups.group_detail": "group.manage",
    "groups.group_edit": "group.manage",
    "groups.group_delete": "group.manage",
    "groups.member_add": "group.manage",
    "groups.member_bulk": "group.manage",
    "groups.member_remove": "group.manage",
    "groups.membership_import": "group.manage",
    "groups.membership_template": "group.manage",
    "terms.term_list": "registry.manage",
    "terms.congress_new": "registry.manage",
    "terms.term_new": "registry.manage",
    "terms.term_detail": "registry.manage",
    "terms.term_import": "registry.manage",
    "terms.registry_template": "registry.manage",
    "terms.deputy_detail": "registry.manage",
    "terms.office_change": "registry.manage",
    "terms.deputy_grid": "registry.manage",
    "terms.deputy_elected": "registry.manage",
    "terms.rule_profile": "rules.manage",
    "terms.rule_profile_edit": "rules.manage",
    "terms.rule_profile_export": "rules.manage",
    "terms.rule_profile_import": "rules.manage",
}


def role_of(user) -> str:
    if not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    return user.role


def can(user, permission: str) -> bool:
    """True when the user's role holds the permission; PUBLIC and SIGNED_IN are pseudo-permissions."""
    if permission == PUBLIC:
        return True
    role = role_of(user)
    if permission == SIGNED_IN:
        return role != ANONYMOUS
    return role in PERMISSIONS.get(permission, frozenset())


def allowed_roles(endpoint: str) -> frozenset[str]:
    """Roles that may reach an endpoint (the route-by-role test reads this)."""
    permission = ENDPOINTS.get(endpoint)
    if permission is None:
        return frozenset()
    if permission == PUBLIC:
        return frozenset({ANONYMOUS, *ROLES})
    if permission == SIGNED_IN:
        return frozenset(ROLES)
    return PERMISSIONS[permission]


def owns_project(user, project) -> bool:
    """A department officer acts only on the projects of the department the account is bound to."""
    if role_of(user) != DEPARTMENT_OFFICER:
        return False
    return user.department_id is not None and user.department_id == project.department_id


def reports_on_project(user, project) -> bool:
    """A department officer reports progress on the projects its department leads and on those
    with a sub-item of its own; on a sub-item's targets only its own (planning.own_targets)."""
    if role_of(user) != DEPARTMENT_OFFICER or user.department_id is None:
        return False
    return owns_project(user, project) or any(item.department_id == user.department_id for item in project.sub_items)


def requests_change(user, project) -> bool:
    """Staff ask for a change of any project; a department officer only of a project its
    department leads (a sub-item's department asks through the lead department)."""
    return role_of(user) == STAFF or owns_project(user, project)


def withdraws_change(user, change) -> bool:
    """Only the asking side withdraws a request: staff any; an officer only one an officer of its
    own department made on a project it still leads, never one staff filed."""
    if role_of(user) == STAFF:
        return True
    requester = change.requested_by
    return owns_project(user, change.project) and requester is not None \
        and requester.role == DEPARTMENT_OFFICER and requester.department_id == user.department_id


def marks_milestone(user, milestone) -> bool:
    """A sub-item's milestone is marked reached by the sub-item's department; any other by the
    project's department."""
    if milestone.sub_item is not None:
        return role_of(user) == DEPARTMENT_OFFICER and user.department_id is not None \
            and milestone.sub_item.department_id == user.department_id
    return owns_project(user, milestone.project)


def answers_issue(user, issue) -> bool:
    """A supervision issue is answered by the officers of the department responsible for it."""
    return role_of(user) == DEPARTMENT_OFFICER and user.department_id is not None \
        and user.department_id == issue.department_id


def reads_letter(user, letter) -> bool:
    """Staff read every reminder letter; an officer those addressed to the account's department."""
    if role_of(user) == STAFF:
        return True
    return role_of(user) == DEPARTMENT_OFFICER and user.department_id is not None \
        and user.department_id == letter.department_id


def recorded_supervision(principal, record) -> bool:
    """Only the deputy who recorded a supervision visit judges whether it was put right: the same
    person of the term's registry, also when holding a card of a later session of the term (a
    deputy of another congress with the same number and name is someone else)."""
    if role_of(principal) != DEPUTY:
        return False
    return principal.deputy_id == record.deputy_id or same_deputy(principal.deputy, record.deputy)


def reads_supervision_pack(principal, project) -> bool:
    """Staff read every project's checkpoint packs; a deputy those of a project supervised by a
    group he or she is a member of (the same person of the term's registry)."""
    role = role_of(principal)
    if role == STAFF:
        return True
    group, deputy = project.supervision_group, getattr(principal, "deputy", None)
    if role != DEPUTY or group is None or deputy is None:
        return False
    return any(membership.term_deputy_id == deputy.term_deputy_id for membership in group.memberships)


def same_deputy(one, other) -> bool:
    return one is not None and other is not None and one.term_deputy_id == other.term_deputy_id


def may_see_photo(user, photo) -> bool:
    """Progress and supervision photos are public; a resident's proposal photo is for screening
    staff; a photo of a signed count report is for those who see the round."""
    if photo.count_report_round_id is not None:
        return can(user, "round.view")
    return photo.is_public or can(user, "proposal.screen")


def card_checked_where_written(view):
    """Mark a deputy's view whose one write decides, in the same statement, whether the card is
    still in force and the cookie still signed in (the cast, the hall's busiest request): the
    signed-in card is not loaded for it (`auth.service.CastingCard`). Before any refusal the
    view answers `card_out_of_force(card)` when that gives a page."""
    view.card_checked_where_written = True
    return view


def checks_card_where_written() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "card_checked_where_written", False)


def card_needed():
    """What a deputy's page answers a visitor without a card in force: sign in with one."""
    return render_template("auth/card_needed.html"), 401


def card_out_of_force(card):
    """For a `card_checked_where_written` view about to refuse: the card it did not load is
    loaded now. A revoked card or an ended sign-in is signed out and asked for its card, as
    `guard_request` answers it on every other page, and learns nothing of what it asked for;
    None for a card in force, whose worker copy is put right (`auth.service.remember_card`)."""
    from voting_app.auth.service import forget_card, load_principal, remember_card

    principal = load_principal(card.get_id(), card.session_epoch)
    if principal is None:
        forget_card(card.id)
        logout_user()
        return card_needed()
    remember_card(principal)
    return None


def guard_request():
    """Before every request: anonymous visitors go to the sign-in page, others get 403."""
    endpoint = request.endpoint
    if endpoint is None:
        return None
    permission = ENDPOINTS.get(endpoint)
    if permission is not None and can(current_user, permission):
        return None
    if not current_user.is_authenticated and permission is not None:
        if allowed_roles(endpoint) == {DEPUTY}:
            return card_needed()
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(403)
