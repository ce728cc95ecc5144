"""Resident satisfaction surveys reached by QR code ("人大评")."""


def init_app(app) -> None:
    """Register the surveys blueprint and the residents' column of the project page."""
    from flask import render_template
    from markupsafe import Markup
    from sqlalchemy import select

    from surveys.models import Survey
    from surveys.routes import bp
    import surveys.frame_routes  # noqa: F401  the sample frames' endpoints, on the same blueprint
    from surveys.service import residents_ratings, results
    from voting_app.db import db
    from voting_app.projects.routes import register_panel, register_rating_source, register_story_source

    def project_panel(project):
        surveys = db.session.scalars(select(Survey).where(Survey.project_id == project.id).order_by(Survey.id)).all()
        return Markup(render_template("surveys/_project_panel.html", outcomes=[results(survey) for survey in surveys]))

    def project_story(project, today):
        """Each survey of the project on the project's timeline: where it stands, dated when it
        closed (or opened, while it runs)."""
        from voting_app.projects.story import RESIDENTS, Entry, beijing_day

        surveys = db.session.scalars(select(Survey).where(Survey.project_id == project.id).order_by(Survey.id)).all()
        for outcome in (results(survey) for survey in surveys):
            survey = outcome.survey
            closed = survey.closes_at is not None and beijing_day(survey.closes_at) <= today
            moment = survey.closes_at if closed else survey.opens_at or survey.created_at
            yield Entry(RESIDENTS, beijing_day(moment), survey.title, at=moment, anchor="residents-heading",
                        facts={"rate": outcome.rate, "below_bar": outcome.needs_rectification, "is_closed": closed,
                               "held": outcome.held}, is_upcoming=beijing_day(moment) > today)

    app.register_blueprint(bp)
    register_panel(app, project_panel)
    register_rating_source(app, residents_ratings)
    register_story_source(app, project_story)

    def latest_answer():
        """The venue screen redraws its satisfaction slide when residents answer and when
        staff count in or discard held answers (the held total moves; the tallies are small)."""
        from sqlalchemy import func

        from surveys.models import Response, SurveyTally

        held = select(func.sum(SurveyTally.count)).where(SurveyTally.question_key == 0, SurveyTally.is_held.is_(True))
        return db.session.execute(select(select(func.max(Response.id)).scalar_subquery(), held.scalar_subquery())).one()

    app.extensions.setdefault("screen_markers", []).append(latest_answer)

    @app.cli.command("survey-forget-addresses")
    def survey_forget_addresses() -> None:
        """Delete the per-address keys and counts of past days (run it daily, e.g. from cron,
        so they go even on a day no resident answers)."""
        from surveys.service import district_today, forget_addresses_before

        forget_addresses_before(district_today(app.config["BABEL_DEFAULT_TIMEZONE"]))
        db.session.commit()
