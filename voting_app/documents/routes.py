"""The documents of a vote, as printable A4 pages: the draft 票决办法 and its adoption, the
计票报告单 with the photos of the signed paper, and the public 公告 of the result."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voting_app.ballots import service as ballots
from voting_app.ballots.models import ANNOUNCED, PAPER, Round
from voting_app.clock import beijing_today
from voting_app.db import db, reads_first
from voting_app.documents import adoption, measures, service
from voting_app.documents.forms import AdoptionForm, ReportPhotoForm
from voting_app.errors import DomainError
from voting_app.projects.delivery import MAX_PHOTOS
from voting_app.reports.routes import print_context
from voting_app.uploads import photos_before_writing
from voting_app.web import flash_domain_error

bp = Blueprint("documents", __name__, url_prefix="/documents")


# Printed as the reports are: when it was printed (Beijing time) and page numbers.
bp.context_processor(print_context)


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _default_body() -> str:
    return _("The presidium of the session (大会主席团)")


@bp.get("/rounds/<int:round_id>/measures")
def measures_draft(round_id: int):
    round_ = _round(round_id)
    latest = adoption.latest_adoption(round_)
    state = adoption.adoption_state(round_)
    body = latest.adopted_by if latest is not None and state == adoption.ADOPTED else _default_body()
    form = AdoptionForm(formdata=None, adopted_on=beijing_today(), adopted_by=body)
    return render_template(
        "documents/measures.html",
        round=round_,
        title=measures.title(round_),
        articles=measures.articles(round_, body),
        state=state,
        latest=latest,
        form=form,
    )


@bp.post("/rounds/<int:round_id>/adoption")
def adoption_record(round_id: int):
    round_ = _round(round_id)
    form = AdoptionForm()
    if not form.validate_on_submit():
        for field, messages in form.errors.items():
            flash(f"{form[field].label.text}: {' '.join(messages)}", "error")
        return redirect(url_for("documents.measures_draft", round_id=round_.id, _anchor="adoption"))
    try:
        service.record_adoption(current_user, round_, form.adopted_on.data, form.adopted_by.data)
        db.session.commit()
        flash(_("The adoption of the 票决办法 is recorded."), "success")
    except DomainError as error:
        flash_domain_error(error)
    return redirect(url_for("documents.measures_draft", round_id=round_.id, _anchor="adoption"))


def _counted(round_: Round):
    """The round's count, or None while there is none (open, sealed, paper not yet keyed, void)."""
    if round_.state not in service.COUNTED_STATES or round_.is_sealed:
        return None
    if round_.mode == PAPER and not ballots.paper_ballots_stored(round_):
        return None
    return ballots.count_round(round_)


@bp.get("/rounds/<int:round_id>/count-report")
def count_report(round_id: int):
    round_ = _round(round_id)
    result = _counted(round_)
    return render_template(
        "documents/count_report.html",
        round=round_,
        report=service.count_report(round_, result) if result is not None else None,
        names={c.id: c.name for c in round_.candidates},
        photos=service.report_photos(round_),
        form=ReportPhotoForm(formdata=None),
        most=service.MAX_REPORT_PHOTOS,
    )


@bp.post("/rounds/<int:round_id>/count-report/photos")
@reads_first
def count_report_photos(round_id: int):
    round_ = _round(round_id)
    form = ReportPhotoForm()
    if form.validate_on_submit():
        try:
            images = photos_before_writing(form.photos.data, MAX_PHOTOS)
            service.add_report_photos(current_user, round_, images)
            db.session.commit()
            flash(_("The photos of the signed count report are kept."), "success")
        except DomainError as error:
            flash_domain_error(error)
    else:
        flash(_("The form expired; please choose the photos again."), "error")
    return redirect(url_for("documents.count_report", round_id=round_id, _anchor="photos"))


@bp.get("/rounds/<int:round_id>/notice")
def notice(round_id: int):
    """The presidium's 公告 of an announced result: public, and printable on A4."""
    round_ = _round(round_id)
    if round_.state != ANNOUNCED:
        abort(404)
    return render_template(
        "documents/notice.html",
        round=round_,
        number=service.notice_number(round_),
        result=ballots.count_round(round_),
        names={c.id: c.name for c in round_.candidates},
    )
