"""The project timeline drawn by plotly: planned and actual bars per stage, milestones as
points (late ones in red), and today. The page shows the same dates in a table."""

from datetime import date, timedelta

import plotly.graph_objects as go

from voting_app.projects.models import STAGES, Project

PLANNED_COLOUR, ACTUAL_COLOUR, DONE_COLOUR, LATE_COLOUR = "#9db8d9", "#1f5fa8", "#1a7f37", "#b42318"
DAY_MS = 86_400_000


def _span_ms(start: date, end: date) -> int:
    """Bars include their last day."""
    return ((end - start).days + 1) * DAY_MS


def timeline_figure(project: Project, labels: dict, today: date) -> dict | None:
    """None when the project has no dates yet, so the page shows no empty chart."""
    rows = [(stage, project.plan_for(stage)) for stage in STAGES]
    rows = [(stage, plan) for stage, plan in rows if plan is not None]
    if not rows and not project.milestones:
        return None
    names = [str(labels["stages"][stage]) for stage, _ in rows]
    figure = go.Figure()
    planned = [(str(labels["stages"][s]), p.planned_start, p.planned_end) for s, p in rows if p.planned_start and p.planned_end]
    actual = [(str(labels["stages"][s]), p.actual_start, p.actual_end or today) for s, p in rows if p.actual_start]
    for trace_name, spans, colour, width in ((labels["planned"], planned, PLANNED_COLOUR, 0.7), (labels["actual"], actual, ACTUAL_COLOUR, 0.35)):
        if spans:
            figure.add_bar(
                name=str(trace_name),
                y=[name for name, _, _ in spans],
                base=[start.isoformat() for _, start, _ in spans],
                x=[_span_ms(start, end) for _, start, end in spans],
                orientation="h",
                marker_color=colour,
                width=width,
                hovertext=[f"{start.isoformat()} – {end.isoformat()}" for _, start, end in spans],
                hoverinfo="text+name",
            )
    # A stage with only one planned date (a planned completion, say) shows as a point.
    lone = [(str(labels["stages"][s]), p.planned_end or p.planned_start) for s, p in rows
            if bool(p.planned_start) != bool(p.planned_end)]
    if lone:
        figure.add_scatter(
            name=str(labels["planned"]),
            y=[name for name, _ in lone],
            x=[day.isoformat() for _, day in lone],
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 18, "color": PLANNED_COLOUR, "line": {"width": 3}},
            hovertext=[day.isoformat() for _, day in lone],
            hoverinfo="text+name",
            showlegend=not planned,
        )
    if project.milestones:
        late = [project.is_late(m.planned_on, m.done_on is not None, today) for m in project.milestones]
        figure.add_scatter(
            name=str(labels["milestones"]),
            y=[str(labels["milestone_row"])] * len(project.milestones),
            x=[(m.done_on or m.planned_on).isoformat() for m in project.milestones],
            mode="markers",
            marker={
                "symbol": "diamond",
                "size": 13,
                "color": [LATE_COLOUR if is_late else DONE_COLOUR if m.done_on else PLANNED_COLOUR
                          for m, is_late in zip(project.milestones, late)],
                "line": {"width": 1, "color": "#333"},
            },
            hovertext=[m.name for m in project.milestones],
            hoverinfo="text+x",
        )
        names.append(str(labels["milestone_row"]))
    figure.add_shape(type="line", x0=today.isoformat(), x1=today.isoformat(), y0=0, y1=1, yref="paper",
                     line={"color": LATE_COLOUR, "width": 1, "dash": "dot"})
    figure.update_layout(
        barmode="overlay",
        height=120 + 46 * len(names),
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        xaxis={"type": "date", "tickformat": "%Y-%m", "range": [(_first_day(project, today) - timedelta(days=15)).isoformat(),
                                         (_last_day(project, today) + timedelta(days=15)).isoformat()]},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(names)), "automargin": True},
        legend={"orientation": "h", "y": -0.25},
        font={"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"},
    )
    return figure.to_plotly_json()


def _all_days(project: Project) -> list[date]:
    days = [m.planned_on for m in project.milestones] + [m.done_on for m in project.milestones if m.done_on]
    for plan in project.stage_plans:
        days += [day for day in (plan.planned_start, plan.planned_end, plan.actual_start, plan.actual_end) if day]
    return days


def _first_day(project: Project, today: date) -> date:
    return min(_all_days(project) + [today])


def _last_day(project: Project, today: date) -> date:
    return max(_all_days(project) + [today])
