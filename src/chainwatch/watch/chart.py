"""The backtest chart as a small hand-written SVG (no plotting library needed).

Bars: new alerts per year - scored alerts that match a listed event, scored alerts that match
none (false alarms against the list) and the other alerts (prices, import structure, events).
Triangles under the axis: effective years of the scoreable events, green when caught.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chainwatch.watch.backtest import BacktestReport

WIDTH, HEIGHT = 860, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 44, 40, 86
COLOURS = {"matched": "#1b7837", "false": "#e08214", "other": "#b8b8b8",
           "caught": "#1b7837", "missed": "#c51b1b"}  # fmt: skip


def render_backtest_svg(report: BacktestReport) -> str:
    """An SVG document: new alerts per year by kind, and the events scored."""
    per_year = report.per_year
    years = [int(y) for y in per_year["year"]]
    stacks = [
        (int(matched), int(false), int(new) - int(scored))
        for matched, false, new, scored in zip(
            per_year["scored_matching_event"].tolist(), per_year["false_alarms"].tolist(),
            per_year["new_alerts"].tolist(), per_year["scored_new"].tolist(), strict=True)
    ]  # fmt: skip
    top = max([sum(stack) for stack in stacks] + [1])
    scale_top = _nice(top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(years), 1)
    bar = step * 0.7

    def y_of(value: float) -> float:
        return TOP + plot_h - value / scale_top * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        f'<title>chainwatch backtest {report.year_from}-{report.year_to}</title>',
        f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">New alerts per year and '
        f"export-restriction events, {report.year_from}-{report.year_to}</text>",
    ]  # fmt: skip
    for tick in range(0, scale_top + 1, max(1, scale_top // 5)):
        y = y_of(tick)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#e6e6e6"/>')  # fmt: skip
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for index, (year, stack) in enumerate(zip(years, stacks, strict=True)):
        x = LEFT + index * step + (step - bar) / 2
        base = 0
        for kind, count in zip(("matched", "false", "other"), stack, strict=True):
            if count <= 0:
                continue
            y0, y1 = y_of(base), y_of(base + count)
            parts.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar:.1f}" '
                         f'height="{y0 - y1:.1f}" fill="{COLOURS[kind]}">'
                         f"<title>{year}: {count} {kind}</title></rect>")  # fmt: skip
            base += count
        if index % 2 == 0 or len(years) <= 13:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 14}" '
                         f'text-anchor="middle">{year}</text>')  # fmt: skip
    axis = TOP + plot_h
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{axis}" y2="{axis}" '
                 'stroke="#333"/>')  # fmt: skip
    events = report.scores.events
    scored = events[events["scoreable"]] if not events.empty else events
    for _, event in scored.iterrows():
        index = int(event["effective_year"]) - years[0] if years else 0
        if not 0 <= index < len(years):
            continue
        cx, cy = LEFT + index * step + step / 2, axis + 28
        colour = COLOURS["caught" if event["caught"] else "missed"]
        label = escape(f"{event['event_id']} ({'caught' if event['caught'] else 'missed'})")
        parts.append(f'<path d="M{cx:.1f},{cy - 8:.1f} L{cx - 6:.1f},{cy + 3:.1f} '
                     f'L{cx + 6:.1f},{cy + 3:.1f} Z" fill="{colour}"><title>{label}</title>'
                     "</path>")  # fmt: skip
        parts.append(f'<text x="{cx:.1f}" y="{cy + 15:.1f}" text-anchor="middle" '
                     f'font-size="9">{escape(str(event["event_id"]))}</text>')  # fmt: skip
    legend = [("matched", "scored alert matching a listed event"),
              ("false", "scored alert matching none"), ("other", "other alerts"),
              ("caught", "event caught"), ("missed", "event missed")]  # fmt: skip
    x = LEFT
    for kind, text in legend:
        parts.append(f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" '
                     f'fill="{COLOURS[kind]}"/>')  # fmt: skip
        parts.append(f'<text x="{x + 14}" y="{HEIGHT - 5}">{escape(text)}</text>')
        x += 24 + 6 * len(text)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _nice(value: int) -> int:
    """A round axis maximum at or above ``value``."""
    for candidate in (5, 10, 20, 25, 40, 50, 75, 100, 150, 200, 250, 500, 1000):
        if value <= candidate:
            return candidate
    return int(value)
