"""Household lists per grid for staff: counts per grid, and importing a list (address and grid)."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voting_app.db import db
from voting_app.forms import SealedTableForm
from voting_app.registry import household_service
from voting_app.registry.grid_forms import HouseholdFileForm
from voting_app.web import current_actor

bp = Blueprint("households", __name__, url_prefix="/households")


@bp.get("")
def household_list():
    return render_template("households/list.html", rows=household_service.counts_per_grid(), total=household_service.total())


@bp.route("/import", methods=["GET", "POST"])
def household_import():
    """Upload, then a preview, then Import (the preview's button): nothing is stored on a bad file."""
    form, confirm, page = HouseholdFileForm(), SealedTableForm(), "households/import.html"
    if "table" in request.form:
        if not confirm.validate_on_submit():
            abort(400)
        summary = household_service.import_sealed(current_actor(), current_app.config["SECRET_KEY"], confirm.table.data)
        if summary is None:
            flash(_("This preview is out of date. Check the file again."), "error")
            return redirect(url_for("households.household_import"))
        db.session.commit()
        flash(_("Households imported: %(added)s added, %(unchanged)s already listed.", added=summary.added, unchanged=summary.unchanged), "success")
        return redirect(url_for("households.household_list"))
    if form.validate_on_submit():
        table, parsed = household_service.check_household_file(form.file.data.filename or "", form.file.data.read())
        if not parsed.is_valid:
            return render_template(page, form=form, parsed=parsed), 400
        confirm.table.data = household_service.seal_table(current_app.config["SECRET_KEY"], table)
        return render_template(page, form=form, parsed=parsed, preview=household_service.preview_import(parsed), confirm=confirm)
    return render_template(page, form=form, parsed=None), 400 if form.errors else 200


@bp.get("/template.csv")
def household_template():
    body = "\ufeff地址,网格编码\n幸福路1号1单元101室,C01U01G1\n幸福路1号1单元102室,C01U01G1\n"
    return Response(body.encode("utf-8"), mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=household-template.csv"})
