"""Staff pages of the deputy groups: the term's groups, a group's members (added by search or
by pasting numbers, removed after a confirmation), and memberships imported from a file."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.forms import ButtonForm
from voting_app.groups.forms import KIND_LABELS, BulkMembersForm, GroupForm, MembershipConfirmForm, MembershipImportForm
from voting_app.projects import service as projects
from voting_app.projects.stages import STAGE_LABELS
from voting_app.registry import groups
from voting_app.registry.group_rules import GROUP_KINDS
from voting_app.registry.labels import deputy_level_labels
from voting_app.registry.models import DeputyGroup, GroupMembership, Term, TermDeputy
from voting_app.registry.service import newest_term
from voting_app.registry.terms import term_label
from voting_app.web import current_actor, flash_domain_error, get_child_or_404, int_arg

bp = Blueprint("groups", __name__, url_prefix="/groups")



def _term() -> Term:
    """The term named in the link, or the newest."""
    term_id = int_arg("term")
    term = db.session.get(Term, term_id) if term_id else newest_term()
    if term is None:
        abort(404)
    return term


def _terms() -> list[tuple[Term, str]]:
    terms = db.session.scalars(select(Term).order_by(Term.starts_on.desc().nulls_last(), Term.id.desc()))
    return [(term, term_label(term.congress.name, term.number)) for term in terms]


def _common() -> dict:
    return {"kinds": KIND_LABELS}


@bp.get("/")
def group_list():
    term = _term()
    kind = request.args.get("kind") if request.args.get("kind") in GROUP_KINDS else None
    shown = groups.term_groups(term, kind)
    ids = [group.id for group in shown]
    return render_template(
        "groups/list.html", term=term, terms=_terms(), groups=shown, kind=kind,
        members=groups.member_counts(ids), supervised=projects.supervised_counts(ids), **_common(),
    )


@bp.route("/new", methods=["GET", "POST"])
def group_new():
    term = _term()
    form = GroupForm()
    form.offer_conveners([])
    if form.validate_on_submit():
        try:
            group = groups.create_group(current_actor(), term, form.name.data, form.kind.data, form.note.data or "")
            db.session.commit()
            flash(_("Group %(name)s added. Now add its members.", name=group.name), "success")
            return redirect(url_for("groups.group_detail", group_id=group.id))
        except groups.GroupError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error.message))
    return render_template("groups/form.html", form=form, term=term, group=None, **_common()), 400 if form.errors else 200


def _detail_page(group: DeputyGroup, bulk: BulkMembersForm | None = None, problems=(), status: int = 200):
    query = request.args.get("q", "").strip()[:100]
    return render_template(
        "groups/detail.html",
        group=group,
        members=group.members_in_roster_order,
        memberships={m.term_deputy_id: m for m in group.memberships},
        query=query,
        found=groups.search_candidates(group, query),
        supervised=projects.filtered_projects(group_id=group.id),
        stages=STAGE_LABELS,
        levels=deputy_level_labels(),
        bulk=bulk or BulkMembersForm(formdata=None),
        problems=problems,
        button=ButtonForm(),
        **_common(),
    ), status


@bp.get("/<int:group_id>")
def group_detail(group_id: int):
    return _detail_page(db.get_or_404(DeputyGroup, group_id))


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
def group_edit(group_id: int):
    group = db.get_or_404(DeputyGroup, group_id)
    form = GroupForm(obj=group)
    form.offer_conveners(group.members_in_roster_order)
    if form.validate_on_submit():
        convener = db.session.get(TermDeputy, form.convener_id.data) if form.convener_id.data else None
        try:
            groups.update_group(current_actor(), group, form.name.data, form.kind.data, form.note.data or "", convener)
            db.session.commit()
            flash(_("Group saved."), "success")
            return redirect(url_for("groups.group_detail", group_id=group.id))
        except groups.GroupError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error.message))
            group = db.get_or_404(DeputyGroup, group_id)
    return render_template("groups/form.html", form=form, term=group.term, group=group, **_common()), 400 if form.errors else 200


@bp.route("/<int:group_id>/delete", methods=["GET", "POST"])
def group_delete(group_id: int):
    """A confirmation page: what deleting takes with it, or why it is refused."""
    group = db.get_or_404(DeputyGroup, group_id)
    supervised = projects.supervised_names(group)
    if request.method == "POST":
        if not ButtonForm().validate_on_submit():
            abort(400)
        term_id, name = group.term_id, group.name
        try:
            groups.delete_group(current_actor(), group, supervised)
            db.session.commit()
        except DomainError as error:
            flash_domain_error(error)
            return redirect(url_for("groups.group_delete", group_id=group_id))
        flash(_("Group %(name)s deleted.", name=name), "success")
        return redirect(url_for("groups.group_list", term=term_id))
    return render_template("groups/delete.html", group=group, supervised=supervised, button=ButtonForm(), **_common())


@bp.post("/<int:group_id>/members")
def member_add(group_id: int):
    """Add one deputy found by the search."""
    group = db.get_or_404(DeputyGroup, group_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    deputy = get_child_or_404(TermDeputy, int_arg("deputy", request.form) or 0, term_id=group.term_id)
    try:
        groups.add_member(current_actor(), group, deputy)
        db.session.commit()
        flash(_("%(name)s added to the group.", name=deputy.name), "success")
    except DomainError as error:
        flash_domain_error(error)
    return redirect(url_for("groups.group_detail", group_id=group.id, q=request.form.get("q", "")[:100] or None, _anchor="add"))


@bp.post("/<int:group_id>/members/bulk")
def member_bulk(group_id: int):
    """Add the deputies whose numbers are pasted, all or none."""
    group = db.get_or_404(DeputyGroup, group_id)
    form = BulkMembersForm()
    if not form.validate_on_submit():
        return _detail_page(group, form, status=400)
    try:
        result = groups.add_members_by_numbers(current_actor(), group, form.numbers.data)
        db.session.commit()
    except groups.BulkAddError as error:
        db.session.rollback()
        form.numbers.errors.append(str(error.message))
        return _detail_page(db.get_or_404(DeputyGroup, group_id), form, error.problems, status=400)
    except groups.GroupError as error:
        db.session.rollback()
        form.numbers.errors.append(str(error.message))
        return _detail_page(db.get_or_404(DeputyGroup, group_id), form, status=400)
    message = _("%(added)s added to the group.", added=len(result.added))
    if result.already:
        message += " " + _("%(count)s already in it.", count=len(result.already))
    flash(message, "success")
    return redirect(url_for("groups.group_detail", group_id=group.id))


@bp.route("/<int:group_id>/members/<int:membership_id>/remove", methods=["GET", "POST"])
def member_remove(group_id: int, membership_id: int):
    group = db.get_or_404(DeputyGroup, group_id)
    membership = get_child_or_404(GroupMembership, membership_id, group_id=group.id)
    if request.method == "POST":
        if not ButtonForm().validate_on_submit():
            abort(400)
        name = membership.deputy.name
        groups.remove_member(current_actor(), group, membership)
        db.session.commit()
        flash(_("%(name)s is no longer in the group.", name=name), "success")
        return redirect(url_for("groups.group_detail", group_id=group.id))
    return render_template("groups/member_remove.html", group=group, deputy=membership.deputy, button=ButtonForm(),
                           supervised=projects.supervised_names(group), **_common())


@bp.route("/import", methods=["GET", "POST"])
def membership_import():
    """Upload, then a preview row by row, then Import (the preview's button): idempotent."""
    term = _term()
    form, confirm, page = MembershipImportForm(), MembershipConfirmForm(), "groups/import.html"
    secret, common = current_app.config["SECRET_KEY"], {"term": term, "form": form, **_common()}
    if "table" in request.form:
        if not confirm.validate_on_submit():
            abort(400)
        preview = groups.import_sealed(current_actor(), term, secret, confirm.table.data)
        if preview is None:
            flash(_("This preview is out of date or not this term's. Check the file again."), "error")
            return redirect(url_for("groups.membership_import", term=term.id))
        db.session.commit()
        flash(_("Memberships imported: %(added)s added, %(already)s already there, %(groups)s new group(s).",
                added=preview.added, already=preview.already, groups=len(preview.new_groups)), "success")
        return redirect(url_for("groups.group_list", term=term.id))
    if form.validate_on_submit():
        table, checked = groups.check_membership_file(term, form.file.data.filename or "", form.file.data.read())
        if not checked.is_valid:
            return render_template(page, checked=checked, **common), 400
        confirm.table.data = groups.seal_table(secret, term, table)
        return render_template(page, checked=checked, confirm=confirm, **common)
    return render_template(page, checked=None, **common), 400 if form.errors else 200


@bp.get("/import/template.csv")
def membership_template():
    body = "\ufeff代表证号,代表小组\n001,米公街道代表小组\n001,教育专业代表小组\n"
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=group-members-template.csv"})
