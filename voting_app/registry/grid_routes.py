"""The grid hierarchy for staff: the list by level and parent, importing it, its boundaries."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voting_app.db import db
from voting_app.forms import SealedTableForm
from voting_app.labels import grid_level_labels
from voting_app.registry import grid_service
from voting_app.registry.grid_forms import BoundaryFileForm, GridFileForm
from voting_app.registry.models import Grid
from voting_app.web import current_actor, int_arg

bp = Blueprint("grids", __name__, url_prefix="/grids")


def _page(parent_id: int | None = None, **context):
    """The hierarchy under `parent_id` (None: the centres) with both import forms."""
    parent = db.get_or_404(Grid, parent_id) if parent_id else None
    return render_template(
        "grids/list.html",
        parent=parent,
        lineage=grid_service.lineage(parent) if parent else [],
        rows=grid_service.children(parent.id if parent else None),
        counts=grid_service.level_counts(),
        with_boundary=grid_service.with_boundary(),
        levels=grid_level_labels(),
        grid_form=context.pop("grid_form", None) or GridFileForm(),
        boundary_form=context.pop("boundary_form", None) or BoundaryFileForm(),
        **context,
    )


@bp.get("")
def grid_list():
    """The hierarchy one level at a time: the centres, or the grids under `?parent=`."""
    return _page(parent_id=int_arg("parent"))


@bp.route("/import", methods=["GET", "POST"])
def grid_import():
    """Upload, then a preview of what the file would change, then Import (the preview's button)."""
    form, confirm, page = GridFileForm(), SealedTableForm(), "grids/import.html"
    if "table" in request.form:
        if not confirm.validate_on_submit():
            abort(400)
        summary = grid_service.import_sealed(current_actor(), current_app.config["SECRET_KEY"], confirm.table.data)
        if summary is None:
            flash(_("This preview is out of date. Check the file again."), "error")
            return redirect(url_for("grids.grid_import"))
        db.session.commit()
        flash(_("Grids imported: %(added)s added, %(updated)s updated, %(unchanged)s unchanged.",
                added=summary.added, updated=summary.updated, unchanged=summary.unchanged), "success")
        return redirect(url_for("grids.grid_list"))
    if form.validate_on_submit():
        table, parsed = grid_service.check_grid_file(form.file.data.filename or "", form.file.data.read())
        if not parsed.is_valid:
            return render_template(page, form=form, parsed=parsed), 400
        confirm.table.data = grid_service.seal_table(current_app.config["SECRET_KEY"], table)
        preview = grid_service.preview_import(parsed)
        return render_template(page, form=form, parsed=parsed, preview=preview, confirm=confirm)
    return render_template(page, form=form, parsed=None), 400 if form.errors else 200


@bp.post("/boundaries")
def grid_boundaries():
    """Store the boundaries of a GeoJSON file whole, or none of them and say why."""
    form = BoundaryFileForm()
    if not form.validate_on_submit():
        return _page(boundary_form=form), 400
    parsed = grid_service.check_boundary_file(form.file.data.read())
    if not parsed.is_valid:
        return _page(boundary_form=form, boundary_errors=parsed.errors), 400
    changed = grid_service.import_boundaries(current_actor(), parsed)
    db.session.commit()
    flash(_("Boundaries imported: %(count)s grids have a new boundary.", count=changed), "success")
    return redirect(url_for("grids.grid_list"))


@bp.get("/template.csv")
def grid_template():
    body = "\ufeff网格编码,网格名称,上级网格编码,层级\nC01,第一网格中心,,网格中心\nC01U01,第一单元网格,C01,单元网格\nC01U01G1,1号网格,C01U01,网格\n"
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=grid-template.csv"})
