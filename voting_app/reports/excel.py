"""The session report and the year report as Excel workbooks, from the same report objects
as the printed pages. Labels come translated from the view, an assessment's verdict from
`labels.assessment_verdict`, in the request's language. A rate is the figure the pages show
(`percent_cell`, the overall rate included: counting's `overall()`), a time is Beijing time as
an Excel date."""

import io

from openpyxl import Workbook

from voting_app.ballots.counting import GRADING_TIERS, RANK, SATISFACTION, votes_needed
from voting_app.labels import assessment_verdict
from voting_app.projects import plans
from voting_app.projects.checkpoints import Pack
from voting_app.reports.data import SessionReport, YearReport
from voting_app.spreadsheets import bar_cell, percent_cell, safe_row
from voting_app.web import local_time


def _outcome(line, result, labels) -> str:
    if result.method == SATISFACTION:
        grade = result.grades.get(line.candidate_id)
        return str(assessment_verdict(grade, line.candidate_id in result.below_bar(), line.rated > 0 or grade is not None, line.rated))
    if line.is_elected:
        return labels["elected"]
    if line.is_in_runoff:
        return labels["runoff"]
    if line.is_tied_unfilled:
        return labels["tied"]
    return labels["passed_no_seat"] if line.is_passed else labels["not_passed"]


def _needed(sheet, item):
    """What a round is decided against: the votes needed to pass, the bar of an assessment, or
    under tiers the votes that are more than half of the grading base."""
    result = item.result
    if result.method != SATISFACTION:
        return result.needed if result.base else None
    if result.grading != GRADING_TIERS:
        return bar_cell(sheet, item.round.satisfaction_bar)
    return votes_needed(result.base) if result.base is not None else None


def session_workbook(report: SessionReport, labels: dict) -> bytes:
    workbook = Workbook(write_only=True)
    rounds = workbook.create_sheet(labels["rounds"])
    rounds.append(safe_row(rounds, [report.congress.name]))
    rounds.append([labels["round"], labels["state"], labels["roster"], labels["present"], labels["issued"], labels["returned"],
                   labels["valid"], labels["void"], labels["needed"], labels["announced_at"], labels["digest"], labels["overall"],
                   labels["overall_rated"]])
    for item in report.rounds:
        round_, result = item.round, item.result
        overall = result.overall()
        rounds.append(safe_row(rounds, [round_.title, labels["states"][round_.state], round_.roster_count, round_.present_count,
                                        round_.issued_count, result.returned, result.valid, result.void, _needed(rounds, item),
                                        local_time(round_.announced_at), item.digest,
                                        percent_cell(rounds, overall.rate_text) if overall else None,
                                        overall.rated if overall else None]))
    votes = workbook.create_sheet(labels["votes"])
    votes.append([labels["round"], labels["rank"], labels["candidate"], labels["votes_column"], labels["rated"], labels["rate"],
                  labels["outcome"], labels["points"], labels["priority"]])
    for item in report.rounds:
        if item.result.void_round:
            continue
        result = item.result
        for line in result.ranking():
            is_rate, ranked = result.method == SATISFACTION, result.method == RANK
            cid = line.candidate_id
            votes.append(safe_row(votes, [item.round.title, line.rank, item.names[cid], line.votes,
                                          line.rated if is_rate else None, percent_cell(votes, line.rate_text),
                                          _outcome(line, result, labels),
                                          result.points[cid] if ranked else None,
                                          result.priority.index(cid) + 1 if ranked and cid in result.priority else None]))
    if report.voided:
        voided = workbook.create_sheet(labels["void_sheet"])
        voided.append([labels["round"], labels["voided_at"], labels["void_requested_by"], labels["voided_by"], labels["void_reason"],
                       labels["not_counted"]])
        for item in report.voided:
            voided.append(safe_row(voided, [item.round.title, local_time(item.round.voided_at), item.requested_by, item.voided_by,
                                            item.round.void_reason, item.returned]))
    elected = workbook.create_sheet(labels["elected_sheet"])
    elected.append([labels["rank"], labels["candidate"], labels["votes_column"], labels["department"], labels["investment"],
                    labels["round"]])
    for item in report.elected:
        investment = float(item.candidate.investment) if item.candidate.investment is not None else None
        elected.append(safe_row(elected, [item.rank, item.candidate.name, item.votes, item.candidate.department, investment,
                                          item.round.title]))
    if report.changes:
        decided = workbook.create_sheet(labels["changes_sheet"])
        decided.append([labels["project"], labels["request"], labels["decision"], labels["decision_number"], labels["meeting"],
                        labels["decided_on"], labels["void_reason"], labels["values"]])
        for item in report.changes:
            request = item.request
            decided.append(safe_row(decided, [request.project.name, labels["kinds"][request.kind], labels["decisions"][request.state],
                                              request.decision_number, request.meeting, request.decided_on, request.reason,
                                              "; ".join(f"{what}: {old or '—'} → {new or '—'}" for what, old, new in item.values)]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _residents_cells(sheet, rating, labels) -> list:
    """Rate, its 95% interval, n and the small-sample note: a sample is never shown bare."""
    if rating is None:
        return [None] * 5
    low, high = rating.interval or (None, None)
    note = labels["small_sample"] if rating.is_small_sample else None
    return [percent_cell(sheet, rating.rate_text), percent_cell(sheet, low), percent_cell(sheet, high), rating.rated, note]


def year_workbook(report: YearReport, labels: dict) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(labels["projects"])
    sheet.append([labels["project"], labels["year"], labels["department"], labels["stage"], labels["progress"], labels["budget"],
                  labels["spent"], labels["spent_share"], labels["milestones_done"], labels["milestones_overdue"],
                  labels["supervisions"], labels["rectifications_asked"], labels["rectifications_settled"],
                  labels["rectifications_overdue"], labels["residents"], labels["residents_low"], labels["residents_high"],
                  labels["residents_valid"], labels["residents_note"], labels["deputies"], labels["deputies_rated"],
                  labels["residents_held"], labels["deputies_verdict"]])
    for item in report.projects:
        project = item.project
        residents, deputies = item.rating("residents"), item.rating("deputies")
        sheet.append(safe_row(sheet, [
            project.name, project.year, project.department_name, labels["stages"][project.stage], project.progress_percent,
            float(project.budget) if project.budget is not None else None,
            float(project.spent) if project.spent is not None else None,
            round(item.spent_share, 1) if item.spent_share is not None else None,
            item.milestones_done, item.milestones_overdue, item.supervisions, item.rectifications_asked,
            item.rectifications_settled, item.rectifications_overdue,
            *_residents_cells(sheet, residents, labels),
            percent_cell(sheet, deputies.rate_text) if deputies else None,
            deputies.rated if deputies else None,
            residents.held if residents else None,
            str(assessment_verdict(deputies.grade, deputies.is_below_bar, deputies.is_assessed, deputies.rated)) if deputies else None,
        ]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _wan(yuan: int | None) -> float | None:
    return float(plans.wan(yuan)) if yuan is not None else None


def pack_workbook(packs: list[Pack], labels: dict) -> bytes:
    """Report packs at one checkpoint, one project's or every project's of the year, in the
    sheets of the printed pack: the summary, plan and targets, milestones, spending, supervision
    findings, open rectifications and satisfaction; each row names its project."""
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet(labels["summary"])
    summary.append([labels["project"], labels["checkpoint"], labels["checkpoint_day"], labels["as_of"], labels["department"],
                    labels["stage"], labels["group"], labels["leader"], labels["members"], labels["progress"],
                    labels["milestones_done"], labels["milestones"], labels["open_rectifications"], labels["overdue"]])
    for pack in packs:
        project, group = pack.project, pack.group
        summary.append(safe_row(summary, [
            project.name, labels["kinds"][pack.checkpoint.kind], pack.checkpoint.day, pack.as_of, project.department_name,
            labels["stages"][project.stage], group.name if group else None,
            group.convener.name if group and group.convener else None, "、".join(deputy.name for deputy in pack.members) or None,
            pack.progress_percent, pack.milestones_done, len(pack.milestones), len(pack.rectifications), pack.overdue_count,
        ]))
    targets = workbook.create_sheet(labels["targets_sheet"])
    targets.append([labels["project"], labels["sub_item"], labels["department"], labels["target"], labels["planned"], labels["unit"],
                    labels["due"], labels["actual"], labels["reported_on"], labels["percent"], labels["overdue"]])
    for pack in packs:
        for line in pack.targets:
            targets.append(safe_row(targets, [
                pack.project.name, line.sub_item.name, line.sub_item.department_name, line.target.name, float(line.target.planned),
                line.target.unit, line.target.due_on, float(line.actual) if line.actual is not None else None, line.reported_on,
                line.percent, labels["yes"] if line.is_overdue else None,
            ]))
    milestones = workbook.create_sheet(labels["milestones_sheet"])
    milestones.append([labels["project"], labels["sub_item"], labels["milestone"], labels["planned_on"], labels["done_on"],
                       labels["overdue"]])
    for pack in packs:
        for line in pack.milestones:
            milestone = line.milestone
            milestones.append(safe_row(milestones, [
                pack.project.name, milestone.sub_item.name if milestone.sub_item else None, milestone.name, milestone.planned_on,
                line.done_on, labels["yes"] if line.is_overdue else None,
            ]))
    spending = workbook.create_sheet(labels["spending_sheet"])
    spending.append([labels["project"], labels["sub_item"], labels["department"], labels["budget"], labels["spent"],
                     labels["spent_share"]])
    for pack in packs:
        for line in pack.funds:
            spending.append(safe_row(spending, [pack.project.name, line.sub_item.name, line.sub_item.department_name,
                                                _wan(line.budget_yuan), _wan(line.spent_yuan), line.spent_percent]))
        project = pack.project
        spending.append(safe_row(spending, [project.name, labels["project_figures"], project.department_name,
                                            float(project.budget) if project.budget is not None else None,
                                            float(pack.spent.value) if pack.spent else None, None]))
    findings = workbook.create_sheet(labels["findings_sheet"])
    findings.append([labels["project"], labels["visited_on"], labels["deputy"], labels["findings"], labels["rectification"],
                     labels["due"]])
    for pack in packs:
        for record in pack.findings:
            for issue in record.issues:
                findings.append(safe_row(findings, [pack.project.name, record.visited_on, record.deputy_name, issue.problem,
                                                    issue.rectification or None, issue.due_on]))
    open_sheet = workbook.create_sheet(labels["rectifications_sheet"])
    open_sheet.append([labels["project"], labels["visited_on"], labels["deputy"], labels["rectification"], labels["due"],
                       labels["answer"], labels["status"], labels["overdue"]])
    for pack in packs:
        for item in pack.rectifications:
            open_sheet.append(safe_row(open_sheet, [pack.project.name, item.record.visited_on, item.record.deputy_name, item.request,
                                                    item.due, item.answer or None, labels["statuses"][item.status],
                                                    labels["yes"] if item.is_overdue else None]))
    satisfaction = workbook.create_sheet(labels["satisfaction_sheet"])
    satisfaction.append([labels["project"], labels["source"], labels["assessment"], labels["announced_on"], labels["rate"],
                         labels["rated"], labels["verdict"], labels["note"]])
    for pack in packs:
        for item in pack.assessments:
            line = item.line
            satisfaction.append(safe_row(satisfaction, [
                pack.project.name, labels["deputies"], item.round.title, local_time(item.round.announced_at).date(),
                percent_cell(satisfaction, line.rate_text), line.rated,
                str(assessment_verdict(item.grade, item.is_rectification, line.rated > 0 or item.grade is not None, line.rated)),
                None,
            ]))
        rating = pack.residents
        if rating is not None:
            satisfaction.append(safe_row(satisfaction, [
                pack.project.name, labels["residents"], labels["latest_survey"], None, percent_cell(satisfaction, rating.rate_text),
                rating.rated, labels["below_bar"] if rating.is_below_bar else None,
                labels["small_sample"] if rating.is_small_sample else labels["counted_now"],
            ]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
