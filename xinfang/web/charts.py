"""Bar charts drawn on the server as inline SVG (the CSP allows no script-drawn charts and no
inline style): this module works out every bar's geometry; ``present.bar_chart_html`` writes it
out as ``<rect>`` and ``<text>`` with class attributes. Sizes are SVG attributes in a fixed view
box; the stylesheet scales the whole picture to the width of the page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xinfang.cases.rates import TargetResult

# The view box is narrow on purpose: the picture scales to the card, and text drawn 13 units high
# stays readable both on a phone (~0.8×) and on a 1366-pixel screen (~1.2×).
WIDTH = 440  # view box width
LABEL_W = 120  # room for the label left of the bars
VALUE_W = 56  # room for the number right of the bars
ROW_H = 26
BAR_H = 16
TOP = 8
AXIS_H = 22


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the number as written beside the bar
    y: float  # top of the row
    width: float
    tone: str = "plain"  # plain | met | unmet | none
    threshold_x: float | None = None
    threshold_text: str = ""
    full_label: str = ""  # the label unclipped, for the tooltip and the description

    @property
    def bar_y(self) -> float:
        return self.y + (ROW_H - BAR_H) / 2

    @property
    def text_y(self) -> float:
        return self.y + ROW_H / 2 + 5  # baseline, roughly centred on a 13px font

    @property
    def value_x(self) -> float:
        return LABEL_W + self.width + 6

    @property
    def bottom(self) -> float:
        return self.y + ROW_H


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    ticks: list[Tick]
    height: float
    width: int = WIDTH
    label_w: int = LABEL_W
    plot_w: int = WIDTH - LABEL_W - VALUE_W
    axis_y: float = 0

    @property
    def label_x(self) -> int:
        return self.label_w - 8

    @property
    def bar_h(self) -> int:
        return BAR_H

    @property
    def tick_text_y(self) -> float:
        return self.axis_y + 16


def _clip(label: str, size: int = 8) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"


def count_chart(counts: Iterable[tuple[str, int]], *, rest: tuple[str, int] | None = None
                ) -> Chart:
    """Horizontal bars for (label, count) pairs, longest first, scaled to the largest count;
    ``rest``: one last bar for what was left out (its label and count)."""
    items: Sequence[tuple[str, int]] = sorted(counts, key=lambda kv: (-kv[1], kv[0]))
    if rest is not None:
        items = [*items, rest]
    plot_w = WIDTH - LABEL_W - VALUE_W
    top = max((n for _, n in items), default=0)
    scale = _nice(top)
    bars = [
        Bar(
            label=_clip(label),
            full_label=label,
            value=n,
            text=str(n),
            y=TOP + i * ROW_H,
            width=round(plot_w * n / scale, 1) if scale else 0,
        )
        for i, (label, n) in enumerate(items)
    ]
    axis_y = TOP + len(items) * ROW_H
    steps = 4
    ticks = [
        Tick(round(LABEL_W + plot_w * k / steps, 1), _num(scale * k / steps))
        for k in range(steps + 1)
    ]
    return Chart(bars=bars, ticks=ticks, height=axis_y + AXIS_H, axis_y=axis_y)


def target_chart(results: Iterable[TargetResult]) -> Chart:
    """One bar per target: the rate measured, 0–100 %, with the target's threshold marked."""
    plot_w = WIDTH - LABEL_W - VALUE_W
    bars = []
    for i, r in enumerate(results):
        rate = r.rate
        if rate is None:
            tone, text, width = "none", "—", 0.0
        else:
            tone = "met" if r.met else "unmet"
            text = _pct(rate)
            width = round(plot_w * min(rate, 1.0), 1)
        bars.append(
            Bar(
                label=_clip(r.label),
                full_label=r.label,
                value=rate or 0.0,
                text=text,
                y=TOP + i * ROW_H,
                width=width,
                tone=tone,
                threshold_x=round(LABEL_W + plot_w * min(r.threshold, 1.0), 1),
                threshold_text=_pct(r.threshold),
            )
        )
    axis_y = TOP + len(bars) * ROW_H
    ticks = [Tick(round(LABEL_W + plot_w * k / 4, 1), f"{25 * k}%") for k in range(5)]
    return Chart(bars=bars, ticks=ticks, height=axis_y + AXIS_H, axis_y=axis_y)


def _nice(top: int) -> int:
    """The axis maximum: the smallest of 4, 8, 20, 40, 80, 200 … not below ``top`` (four ticks
    of whole numbers)."""
    if top <= 0:
        return 0
    scale = 4
    while scale < top:
        for factor in (2, 2.5, 2):
            scale = int(scale * factor)
            if scale >= top:
                break
    return scale


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _pct(rate: float) -> str:
    value = float(rate) * 100
    return f"{value:.0f}%" if value.is_integer() else f"{value:.1f}%"
