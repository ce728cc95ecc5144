"""The venue screen (16:9, driven by the keyboard or a phone) and its remote."""

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voting_app.ballots.counting import SATISFACTION
from voting_app.ballots.models import Round
from voting_app.ballots.service import count_round, returned_count, state_label
from voting_app.db import db
from voting_app.forms import ButtonForm
from voting_app.labels import rating_labels
from voting_app.projects.models import STAGES
from voting_app.projects.stages import STAGE_LABELS
from voting_app.screen import charts, deck as decks, service
from voting_app.sessions.models import CongressSession
from voting_app.sessions.service import presence
from voting_app.web import PLOTLY_JS, current_actor, safe_next

bp = Blueprint("screen", __name__, url_prefix="/screen")
DEFAULT_BAR = 60


def _session(session_id: int) -> CongressSession:
    return db.get_or_404(CongressSession, session_id)


def _slide_context(congress: CongressSession, slide: decks.Slide) -> dict:
    """Everything one slide shows; a round in progress yields its turnout and nothing counted."""
    context = {"congress": congress, "slide": slide, "presence": presence(congress.id)}
    if slide.round_id is not None:
        round_ = db.get_or_404(Round, slide.round_id)
        context.update(round=round_, status=decks.round_status(round_.state))
        if slide.kind == decks.ROUND_LIVE:
            context["returned"] = returned_count(round_.id)
            context["state_text"] = state_label(round_.state)
        else:
            result = count_round(round_)
            names = {candidate.id: candidate.name for candidate in round_.candidates}
            context.update(result=result, names=names)
            if slide.kind == decks.ROUND_CHART:
                context["figure"] = charts.result_figure(result, names, round_.satisfaction_bar, labels=_chart_labels())
    elif slide.kind == decks.PROJECTS:
        year, by_stage = service.year_projects(current_app.extensions.get("rating_sources", []))
        context.update(year=year, by_stage=by_stage, stages=STAGE_LABELS, stage_order=STAGES)
    elif slide.kind == decks.SATISFACTION:
        lines = service.rated_projects(current_app.extensions.get("rating_sources", []))
        labels = {"residents": _("Residents"), "deputies": _("Deputies"), **_chart_labels()}
        context.update(lines=lines, figure=charts.satisfaction_figure(lines, labels, DEFAULT_BAR), bar=DEFAULT_BAR)
    return context


def _chart_labels() -> dict:
    """The words the figures write beside their bars: the grades, a grade nobody's ratings gave,
    and rectification."""
    return {
        **{grade: str(word) for grade, word in rating_labels().items()},
        "below": _("rectification (整改)"),
        "unrated": _("No ratings"),
    }


@bp.get("/<int:session_id>")
def show(session_id: int):
    congress = _session(session_id)
    deck, slide = service.current_slide(congress)
    response = make_response(render_template(
        "screen/show.html",
        deck=deck,
        position=deck.index(slide) + 1,
        fingerprint=service.fingerprint(congress, current_app.extensions.get("screen_markers", [])),
        plotly_js=PLOTLY_JS,
        button=ButtonForm(),
        satisfaction=SATISFACTION,
        **_slide_context(congress, slide),
    ))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:session_id>/slide")
def slide_fragment(session_id: int):
    """The current slide as an HTML fragment; 304 while nothing on the screen has changed."""
    congress = _session(session_id)
    fingerprint = service.fingerprint(congress, current_app.extensions.get("screen_markers", []))
    if request.if_none_match.contains(fingerprint):
        response = make_response("", 304)
    else:
        deck, slide = service.current_slide(congress)
        response = make_response(render_template(
            "screen/_slide.html", deck=deck, position=deck.index(slide) + 1, satisfaction=SATISFACTION,
            **_slide_context(congress, slide),
        ))
    response.set_etag(fingerprint)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/<int:session_id>/go")
def go(session_id: int):
    congress = _session(session_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    service.move(current_actor(), congress, request.form.get("to", "next"))
    db.session.commit()
    if request.headers.get("X-Requested-With") == "fetch":
        return "", 204
    return redirect(safe_next(request.form.get("next"), url_for("screen.remote", session_id=congress.id)))


@bp.get("/<int:session_id>/remote")
def remote(session_id: int):
    congress = _session(session_id)
    deck, slide = service.current_slide(congress)
    rounds = {round_.id: round_ for round_ in service.session_rounds(congress)}
    titles = [(item, slide_title(item, congress, rounds)) for item in deck]
    return render_template("screen/remote.html", congress=congress, titles=titles, current=slide, button=ButtonForm())


def slide_title(slide: decks.Slide, congress: CongressSession, rounds: dict) -> str:
    """How a slide is named on the remote: what the slide shows, so the presiding officer
    picks the right one in the hall."""
    if slide.round_id is not None:
        round_ = rounds[slide.round_id]
        if slide.kind == decks.ROUND_LIVE:
            return _("%(title)s: turnout", title=round_.title)
        if slide.kind == decks.ROUND_RESULT:
            return _("%(title)s: results", title=round_.title)
        if round_.method == SATISFACTION:
            return _("%(title)s: chart of satisfaction rates", title=round_.title)
        return _("%(title)s: chart of votes", title=round_.title)
    return {
        decks.TITLE: _("Title slide: %(name)s", name=congress.name),
        decks.PRESENCE: _("Deputies present: roster and present"),
        decks.PROJECTS: _("Livelihood projects by stage"),
        decks.SATISFACTION: _("Satisfaction: residents and deputies"),
    }[slide.kind]
