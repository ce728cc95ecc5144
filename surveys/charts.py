"""Figures built in Python with plotly and drawn in the browser by the vendored
plotly.js basic bundle; every chart also has a table beside it for screen readers and print."""

import plotly.graph_objects as go

from voting_app.ballots.counting import RATE_DISSATISFIED, RATE_MOSTLY, RATE_SATISFIED

COLOURS = {RATE_SATISFIED: "#1a7f37", RATE_MOSTLY: "#9ac25a", RATE_DISSATISFIED: "#b42318"}


def placement_figure(outcome, labels: dict[str, str], general: str) -> dict:
    """Stacked bars of 满意 / 基本满意 / 不满意 per placement."""
    names = [placement.name if placement else str(general) for placement, _ in outcome.by_placement]
    figure = go.Figure()
    for key, attribute in ((RATE_SATISFIED, "satisfied"), (RATE_MOSTLY, "mostly"), (RATE_DISSATISFIED, "dissatisfied")):
        figure.add_bar(
            name=str(labels[key]),
            x=names,
            y=[getattr(rate, attribute) for _, rate in outcome.by_placement],
            marker_color=COLOURS[key],
        )
    figure.update_layout(
        barmode="stack",
        margin={"l": 40, "r": 10, "t": 10, "b": 80},
        height=360,
        legend={"orientation": "h", "y": 1.12},
        font={"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"},
    )
    return figure.to_plotly_json()
