"""The staff's download of an archive: the same zip as `flask archive` / `archive-year`."""

from io import BytesIO

from flask import Blueprint, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voting_app.archive import contents
from voting_app.archive.package import ArchiveError
from voting_app.db import db
from voting_app.reports.routes import YEARS
from voting_app.sessions.models import CongressSession

bp = Blueprint("archive", __name__, url_prefix="/archive")


def _download(scope: contents.Scope, back: str):
    try:
        data = contents.build(current_app._get_current_object(), scope, current_user)
    except ArchiveError as error:
        flash(_("The archive could not be written: %(reason)s", reason=str(error)), "error")
        return redirect(back)
    return send_file(BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=scope.filename)


@bp.get("/sessions/<int:session_id>.zip")
def session_archive(session_id: int):
    session = db.get_or_404(CongressSession, session_id)
    return _download(contents.session_scope(session), url_for("sessions.session_detail", session_id=session.id))


@bp.get("/years/<int:year>.zip")
def year_archive(year: int):
    if year not in YEARS:
        message = _("There is no archive of %(year)s: archives are written for the years %(first)s to %(last)s.",
                    year=year, first=YEARS[0], last=YEARS[-1])
        return render_template("error.html", code=404, message=message), 404
    return _download(contents.year_scope(year), url_for("reports.year_report", year=year))
