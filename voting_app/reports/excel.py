"""The session report and the year report as Excel workbooks, from the same report objects
as the printed pages. Labels come translated from the view, an assessment's verdict from
`labels.assessment_verdict`, in the request's language. A rate is the figure the pages show
(`percent_cell`, the overall rate included: counting's `overall()`), a time is Beijing time as
an Excel date."""

import io

from openpyxl import Workbook

from voting_app.ballots.counting import GRADING_TIERS, RANK, SATISFACTION, votes_needed
from voting_app.labels import assessment_verdict
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
