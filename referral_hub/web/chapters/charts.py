"""Geometry of the dashboard's SVG charts: the template draws what these compute, no script needed."""

import math
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date, format_decimal

from ...i18n import lazy_gettext as _l

# The charts are drawn in this coordinate space and scaled to the page's width by the viewBox.
# It is narrow on purpose: on a phone its 12-unit text stays about 10 pixels high.
WIDTH = 420
ACTIVITY_HEIGHT = 220
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 36, WIDTH - 6, 10, ACTIVITY_HEIGHT - 30
LABEL_WIDTH = 150  # names in the giving chart
ROW_HEIGHT = 30
MAX_X_LABELS = 6
NAME_LENGTH = 21  # characters of a name that fit LABEL_WIDTH; a longer one is cut, whole in its title


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str  # a CSS class suffix: the bar's colour
    title: str  # the tooltip, and what a screen reader reads


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    title: str = ""  # the whole text, when `text` is cut short


@dataclass(frozen=True)
class Tick:
    """A gridline across the plot at `position` on the value axis (y for columns, x for rows)."""

    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    ticks: list[Tick]
    left: float
    right: float
    bottom: float


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 × 10^k at or above value (at least 1), so gridlines read as round numbers."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value)


def _round(value: float) -> float:
    return round(value, 1)


ACTIVITY_SERIES = (
    ("needs_posted", "needs", _l("needs posted")),
    ("introductions_made", "made", _l("introductions made")),
    ("introductions_completed", "completed", _l("introductions completed")),
    ("business_closed", "business", _l("business closed")),
)


def period_label(start: date, interval: str) -> str:
    """A month as "Dec 2026", a week as "3 Dec", in the page's language."""
    return format_date(start, "MMM y" if interval == "month" else "d MMM")


def activity_chart(rows, interval: str) -> Chart:
    """Grouped bars: for each period, one bar per series."""
    count = max(len(rows), 1)
    top = nice_ceiling(max((getattr(row, key) for row in rows for key, *_ in ACTIVITY_SERIES), default=0))
    plot_height = PLOT_BOTTOM - PLOT_TOP
    group = (PLOT_RIGHT - PLOT_LEFT) / count
    bar_width = group * 0.8 / len(ACTIVITY_SERIES)
    bars, labels = [], []
    every = math.ceil(count / MAX_X_LABELS)
    for index, row in enumerate(rows):
        left = PLOT_LEFT + index * group + group * 0.1
        when = period_label(row.period_start, interval)
        for number, (key, series, name) in enumerate(ACTIVITY_SERIES):
            value = getattr(row, key)
            height = plot_height * value / top
            bars.append(
                Bar(
                    _round(left + number * bar_width),
                    _round(PLOT_BOTTOM - height),
                    _round(bar_width),
                    _round(height),
                    series,
                    f"{when} – {name}: {value}",
                )
            )
        if index % every == 0:
            labels.append(Label(_round(PLOT_LEFT + index * group + group / 2), PLOT_BOTTOM + 18, when))
    ticks = [
        Tick(_round(PLOT_BOTTOM - plot_height * share), format_decimal(top * share)) for share in (0, 0.5, 1)
    ]
    return Chart(WIDTH, ACTIVITY_HEIGHT, bars, labels, ticks, PLOT_LEFT, PLOT_RIGHT, PLOT_BOTTOM)


def _short(name: str) -> str:
    return name if len(name) <= NAME_LENGTH else name[: NAME_LENGTH - 1] + "…"


def giving_chart(rows) -> Chart:
    """Per member, two bars: introductions made that completed (giving) and needs posted (asking).
    The caller passes only members who gave or asked."""
    height = max(len(rows), 1) * ROW_HEIGHT + 24
    top = nice_ceiling(max((max(row.intros_completed, row.needs_posted) for row in rows), default=0))
    span = PLOT_RIGHT - LABEL_WIDTH
    bars, labels = [], []
    for index, row in enumerate(rows):
        y = 4 + index * ROW_HEIGHT
        short = _short(row.display_name)
        labels.append(
            Label(LABEL_WIDTH - 6, y + 15, short, row.display_name if short != row.display_name else "")
        )
        for offset, value, series, name in (
            (0, row.intros_completed, "gives", _l("introductions completed")),
            (12, row.needs_posted, "asks", _l("needs posted")),
        ):
            bars.append(
                Bar(
                    LABEL_WIDTH,
                    y + offset,
                    _round(span * value / top),
                    10,
                    series,
                    f"{row.display_name} – {name}: {value}",
                )
            )
    ticks = [Tick(_round(LABEL_WIDTH + span * share), format_decimal(top * share)) for share in (0, 0.5, 1)]
    return Chart(WIDTH, height, bars, labels, ticks, LABEL_WIDTH, PLOT_RIGHT, height - 20)
