"""Figures for the venue screen and the reports, built with plotly in Python and drawn by the
vendored plotly.js basic bundle. Every figure sits beside a table with the same numbers."""

import plotly.graph_objects as go

from voting_app.ballots.counting import SATISFACTION, CountResult

ELECTED, PASSED, RUNOFF, NOT_PASSED, BELOW = "#1a7f37", "#9a6700", "#bc4c00", "#8c959f", "#b42318"
RESIDENTS, DEPUTIES = "#0969da", "#8250df"
FONT = {"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"}


def _colour(line, below: set[int]) -> str:
    if line.candidate_id in below:
        return BELOW
    if line.is_elected or (line.is_passed and line.rate_percent is not None):
        return ELECTED
    if line.is_in_runoff or line.is_tied_unfilled:
        return RUNOFF
    return PASSED if line.is_passed else NOT_PASSED


def result_figure(result: CountResult, names: dict[int, str], bar_percent: int, font_size: int = 22,
                  fixed_height: bool = False) -> dict:
    """Votes (or satisfaction rates) per candidate in rank order, top first, with the pass
    line drawn at the round's share of the base (half of it, usually: a candidate passes
    with more votes than the line, or reaching it under an "at least" rule), or at the
    satisfaction bar. On the screen the figure fills its box; on paper it takes a height
    from the number of candidates."""
    ranking = result.ranking()
    below = set(result.below_bar())
    is_rate = result.method == SATISFACTION
    values = [line.rate_percent or 0 for line in ranking] if is_rate else [line.votes for line in ranking]
    labels = [f"{line.rank or '—'}. {names[line.candidate_id]}" for line in ranking]
    share = result.pass_rule
    line_at = bar_percent if is_rate else result.base * share.numerator / share.denominator
    figure = go.Figure()
    figure.add_bar(
        x=values,
        y=labels,
        orientation="h",
        marker_color=[_colour(line, below) for line in ranking],
        text=[(f"{line.rate_text}%" if line.rate_text else "—") if is_rate else str(line.votes) for line in ranking],
        textposition="outside",
        cliponaxis=False,
        hoverinfo="skip",
    )
    figure.add_shape(type="line", x0=line_at, x1=line_at, y0=0, y1=1, yref="paper",
                     line={"color": "#cf222e", "width": 3, "dash": "dash"})
    figure.update_layout(
        height=max(300, 34 * len(ranking) + 80) if fixed_height else None,
        margin={"l": 10, "r": 90, "t": 10, "b": 40},
        xaxis={"range": [0, 100 if is_rate else max([result.base or 1, *values]) * 1.1], "ticksuffix": "%" if is_rate else ""},
        yaxis={"autorange": "reversed", "automargin": True},
        showlegend=False,
        font={**FONT, "size": font_size},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
    )
    return figure.to_plotly_json()


def satisfaction_figure(lines, labels: dict, bar_percent: int, font_size: int = 20, fixed_height: bool = False) -> dict | None:
    """Residents' and deputies' satisfaction rates side by side per project."""
    rated = [line for line in lines if any(rating.rated for rating in line.ratings)]
    if not rated:
        return None
    names = [line.project.name for line in rated]
    figure = go.Figure()
    for source, colour in (("residents", RESIDENTS), ("deputies", DEPUTIES)):
        rates, texts = [], []
        for line in rated:
            rating = next((r for r in line.ratings if r.source == source and r.rated), None)
            text = rating.rate_text if rating else None
            rates.append(float(text) if text else None)
            # A rate from too few answers carries its n and a mark; the slide's footnote says what it means.
            small = f" (n={rating.rated}*)" if rating and rating.is_small_sample else ""
            texts.append("" if text is None else f"{text}%{small}" + (f" {labels['below']}" if rating.is_below_bar else ""))
        figure.add_bar(name=str(labels[source]), x=rates, y=names, orientation="h", marker_color=colour,
                       text=texts, textposition="outside", cliponaxis=False, hoverinfo="skip")
    figure.add_shape(type="line", x0=bar_percent, x1=bar_percent, y0=0, y1=1, yref="paper",
                     line={"color": "#cf222e", "width": 3, "dash": "dash"})
    figure.update_layout(
        barmode="group",
        height=max(300, 50 * len(rated) + 100) if fixed_height else None,
        margin={"l": 10, "r": 90, "t": 10, "b": 40},
        xaxis={"range": [0, 105], "ticksuffix": "%"},
        yaxis={"autorange": "reversed", "automargin": True},
        legend={"orientation": "h", "y": 1.08},
        font={**FONT, "size": font_size},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
    )
    return figure.to_plotly_json()
