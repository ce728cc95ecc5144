"""Figures for the venue screen and the reports, built with plotly in Python and drawn by the
vendored plotly.js basic bundle. Every figure sits beside a table with the same numbers."""

import plotly.graph_objects as go

from voting_app.ballots.counting import GRADING_TIERS, RATE_MOSTLY, RATE_SATISFIED, SATISFACTION, CountResult

ELECTED, PASSED, RUNOFF, NOT_PASSED, BELOW = "#1a7f37", "#9a6700", "#bc4c00", "#8c959f", "#b42318"
MOSTLY = "#7fc98f"  # mostly satisfied votes, stacked after the satisfied ones
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
                  fixed_height: bool = False, labels: dict | None = None) -> dict:
    """Votes (or satisfaction rates) per candidate in rank order, top first, with the pass
    line drawn at the round's share of the base (half of it, usually: a candidate passes
    with more votes than the line, or reaching it under an "at least" rule), or at the
    satisfaction bar. An assessment graded in tiers draws its grades instead
    (`_tiers_figure`, with `labels`). On the screen the figure fills its box; on paper it
    takes a height from the number of candidates."""
    if result.grading == GRADING_TIERS:
        return _tiers_figure(result, names, labels or {}, font_size)
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


def _tiers_figure(result: CountResult, names: dict[int, str], labels: dict, font_size: int) -> dict:
    """Satisfied votes with the mostly satisfied stacked after them, per project, on an axis
    of the grading base, with the line at half of it: a project whose satisfied votes cross
    the line is graded satisfied, one that crosses it only with the mostly satisfied is
    mostly satisfied, any other is dissatisfied (rectification). The grades stand in a column
    of their own after the longest bar, clear of the line."""
    ranking = result.ranking()
    below = set(result.below_bar())
    rows = [f"{line.rank or '—'}. {names[line.candidate_id]}" for line in ranking]
    satisfied = [result.ratings[line.candidate_id][RATE_SATISFIED] for line in ranking]
    mostly = [result.ratings[line.candidate_id][RATE_MOSTLY] for line in ranking]
    figure = go.Figure()
    for values, colour in ((satisfied, ELECTED), (mostly, MOSTLY)):  # the slide's legend names the two colours
        figure.add_bar(x=values, y=rows, orientation="h", marker_color=colour,
                       text=[str(n) if n else "" for n in values], textposition="inside", insidetextanchor="middle",
                       hoverinfo="skip")
    half = result.base / 2
    figure.add_shape(type="line", x0=half, x1=half, y0=0, y1=1, yref="paper",
                     line={"color": "#cf222e", "width": 3, "dash": "dash"})
    widest = max([result.base or 1, *(s + m for s, m in zip(satisfied, mostly))])
    for row, line in zip(rows, ranking):
        grade = result.grades[line.candidate_id]
        text = str(labels.get(grade, grade)) + (f" ({labels.get('unrated', '')})" if not line.rated else "")
        text += f" {labels.get('below', '')}" if line.candidate_id in below else ""
        figure.add_annotation(x=widest * 1.04, y=row, text=text, showarrow=False, xanchor="left",
                              font={"color": BELOW if line.candidate_id in below else "#111111"})
    figure.update_layout(
        barmode="stack",
        margin={"l": 10, "r": 20, "t": 10, "b": 40},
        xaxis={"range": [0, widest * 1.35]},
        yaxis={"autorange": "reversed", "automargin": True},
        showlegend=False,
        font={**FONT, "size": font_size},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
    )
    return figure.to_plotly_json()


def _rating_text(rating, labels: dict) -> str:
    """What a bar of the residents-and-deputies figure ends in: the rate (a rate from too few
    answers carries its n and a mark the slide's footnote explains), the deputies' grade under
    tiers, and rectification when the figure sends the project there."""
    if rating is None:
        return ""
    small = f" (n={rating.rated}*)" if rating.is_small_sample else ""
    parts = [f"{rating.rate_text}%{small}" if rating.rate_text else "—"]
    if rating.grade:
        parts.append(str(labels.get(rating.grade, rating.grade)) + (f" ({labels.get('unrated', '')})" if not rating.rated else ""))
    if rating.is_below_bar:
        parts.append(str(labels["below"]))
    return " ".join(parts)


def satisfaction_figure(lines, labels: dict, bar_percent: int, font_size: int = 20, fixed_height: bool = False) -> dict | None:
    """Residents' and deputies' satisfaction rates side by side per project."""
    rated = [line for line in lines if any(rating.is_assessed for rating in line.ratings)]
    if not rated:
        return None
    names = [line.project.name for line in rated]
    figure = go.Figure()
    for source, colour in (("residents", RESIDENTS), ("deputies", DEPUTIES)):
        rates, texts = [], []
        for line in rated:
            rating = next((r for r in line.ratings if r.source == source and r.is_assessed), None)
            text = rating.rate_text if rating else None
            rates.append(float(text) if text else None)
            texts.append(_rating_text(rating, labels))
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
