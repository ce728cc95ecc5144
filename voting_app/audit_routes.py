"""The audit log page. Apart from voting_app.audit, which every service records into, so the
log's model and chain stay below the web helpers this view uses."""

from flask import Blueprint, render_template
from sqlalchemy import func, select

from voting_app.audit import AuditEntry, anchor, verify_chain
from voting_app.db import db
from voting_app.web import int_arg

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
def audit_log():
    page = int_arg("page") or 1
    entries = db.paginate(select(AuditEntry).order_by(AuditEntry.id.desc()), page=page, per_page=50)
    total = db.session.scalar(select(func.count(AuditEntry.id)))
    return render_template("audit/log.html", entries=entries, total=total, check=verify_chain(), anchor=anchor())
