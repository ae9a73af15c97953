"""Charts drawn on the server as inline SVG: no script, no library, a few hundred bytes each.
Every chart has a title and a description for screen readers; its numbers are in the table
beside it, so neither the bars nor their colours carry anything alone."""

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 200
LABEL_CHARACTERS = 32  # of font size 11 in LABEL_WIDTH
LEGEND_LINE = 18
BAR_HEIGHT = 14
GAP = 8
# Fills that stay apart for the common colour-vision deficiencies (Okabe and Ito's palette).
FILLS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _frame(chart_id: str, title: str, description: str, height: int, body: str) -> Markup:
    # Every text put in (labels, names, the title) is escaped where it goes in.
    return Markup(  # noqa: S704
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>{body}</svg>'
    )


def _legend(series: Sequence[Series], y: int) -> tuple[str, int]:
    """Each series' fill and name, from the labels' edge, on as many lines as the width needs
    (a Russian legend is long); returns them and where the chart below them may start."""
    parts, x = [], LABEL_WIDTH
    for index, each in enumerate(series):
        width = 24 + 7 * len(each.name)
        if x > LABEL_WIDTH and x + width > WIDTH:
            x, y = LABEL_WIDTH, y + LEGEND_LINE
        fill = FILLS[index % len(FILLS)]
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{fill}"/>'
            f'<text x="{x + 14}" y="{y + 9}" font-size="11">{escape(each.name)}</text>'
        )
        x += width
    return "".join(parts), y + LEGEND_LINE


def _label(text: str) -> str:
    """A row's label as far as its room takes it, cut short with an ellipsis (the table beside
    the chart has it whole)."""
    return text if len(text) <= LABEL_CHARACTERS else text[: LABEL_CHARACTERS - 1] + "…"


def bars(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str,
) -> Markup:
    """Horizontal bars, one row per label and one bar per series, each with its value."""
    legend, top = _legend(series, 2)
    highest = max((value or 0 for each in series for value in each.values), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 70
    row = len(series) * BAR_HEIGHT + GAP
    parts = [legend]
    for index, label in enumerate(labels):
        y = top + index * row
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + row / 2}" font-size="11" '
            f'text-anchor="end">{escape(_label(label))}</text>'
        )
        for number, each in enumerate(series):
            value = each.values[index]
            length = 0 if value is None else max(span * value / highest, 1)
            bar_y = y + number * BAR_HEIGHT
            fill = FILLS[number % len(FILLS)]
            shown = "—" if value is None else f"{value:g} {unit}".strip()
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{bar_y}" width="{length:.1f}" '
                f'height="{BAR_HEIGHT - 2}" fill="{fill}"/>'
                f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{bar_y + 10}" '
                f'font-size="10">{escape(shown)}</text>'
            )
    return _frame(chart_id, title, description, top + len(labels) * row + 4, "".join(parts))


def columns(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
) -> Markup:
    """Stacked columns, one per label (a day), the series stacked in order."""
    legend, top = _legend(series, 2)
    bottom, left = top + 130, 40
    totals = [sum(each.values[index] or 0 for each in series) for index in range(len(labels))]
    highest = max(totals, default=0) or 1
    step = (WIDTH - left - 10) / max(len(labels), 1)
    parts = [
        legend,
        f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end">{highest:g}</text>',
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#555"/>',
    ]
    for index, label in enumerate(labels):
        x, base = left + index * step, float(bottom)
        for number, each in enumerate(series):
            height = (bottom - top) * (each.values[index] or 0) / highest
            base -= height
            if height:
                parts.append(
                    f'<rect x="{x + 1:.1f}" y="{base:.1f}" width="{max(step - 2, 1):.1f}" '
                    f'height="{height:.1f}" fill="{FILLS[number % len(FILLS)]}"/>'
                )
        if len(labels) <= 16 or index % max(len(labels) // 8, 1) == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{bottom + 14}" font-size="9" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _frame(chart_id, title, description, bottom + 20, "".join(parts))
