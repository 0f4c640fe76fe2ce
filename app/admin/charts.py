"""Charts drawn on the server as inline SVG: no chart library, no script, no other host.

Geometry is integer arithmetic in tenths of a viewBox unit, written out as decimals, so the
drawing is exact and the module stays free of binary fractions. Colours come from admin.css
through class names (the CSP allows no inline style).
"""

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 960
HEIGHT = 240
LEFT = 64  # room for the y axis labels
BOTTOM = 26  # room for the x axis labels
TOP = 10


@dataclass(frozen=True)
class Bar:
    """One bar of a two-series chart: its axis label, the big value, the part of it, a tooltip."""

    label: str
    total: int
    part: int
    title: str


def _tenths(value: int) -> str:
    whole, rest = divmod(value, 10)
    return f"{whole}.{rest}" if rest else str(whole)


def nice_ceiling(value: int) -> int:
    """Return the smallest of 1, 2, 2.5, 5 × 10ⁿ that is at least `value` (and at least 1)."""
    if value <= 1:
        return 1
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def yuan_short(fen: int) -> str:
    """Write an axis amount briefly: ¥800, ¥1.2万, ¥35万."""
    yuan = fen // 100
    if yuan < 10_000:
        return f"¥{yuan}"
    tenths = yuan * 10 // 10_000
    return f"¥{_tenths(tenths)}万"


def bar_chart(bars: list[Bar], *, label: str, every: int | None = None) -> Markup:
    """Return an SVG bar chart: each bar's total in a light colour with its part dark inside."""
    count = max(len(bars), 1)
    top = nice_ceiling(max((bar.total for bar in bars), default=0))
    plot_w = (WIDTH - LEFT - 8) * 10
    plot_h = (HEIGHT - TOP - BOTTOM) * 10
    slot = plot_w // count
    gap = slot // 5 if slot >= 30 else 0
    every = every or max(1, -(-count // 12))
    base = (HEIGHT - BOTTOM) * 10
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}"'
        ">",
        f"<title>{escape(label)}</title>",
        '<g class="grid">',
    ]
    for n in range(5):
        y = base - plot_h * n // 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - 8}" y1="{_tenths(y)}" y2="{_tenths(y)}"/>'
            f'<text x="{LEFT - 6}" y="{_tenths(y + 35)}" text-anchor="end">'
            f"{escape(yuan_short(top * n // 4))}</text>"
        )
    parts.append('</g><g class="bars">')
    for i, bar in enumerate(bars):
        x = LEFT * 10 + i * slot + gap // 2
        width = max(slot - gap, 4)
        total_h = plot_h * bar.total // top
        part_h = plot_h * bar.part // top
        parts.append(f"<g><title>{escape(bar.title)}</title>")
        parts.append(
            f'<rect class="slot" x="{_tenths(LEFT * 10 + i * slot)}" y="{TOP}" '
            f'width="{_tenths(slot)}" height="{_tenths(plot_h)}"/>'
        )
        if total_h:
            parts.append(
                f'<rect class="total" x="{_tenths(x)}" y="{_tenths(base - total_h)}" '
                f'width="{_tenths(width)}" height="{_tenths(total_h)}"/>'
            )
        if part_h:
            parts.append(
                f'<rect class="part" x="{_tenths(x)}" y="{_tenths(base - part_h)}" '
                f'width="{_tenths(width)}" height="{_tenths(part_h)}"/>'
            )
        parts.append("</g>")
    parts.append('</g><g class="axis">')
    for i, bar in enumerate(bars):
        if i % every == 0:
            x = LEFT * 10 + i * slot + slot // 2
            parts.append(
                f'<text x="{_tenths(x)}" y="{HEIGHT - 8}" text-anchor="middle">'
                f"{escape(bar.label)}</text>"
            )
    parts.append("</g></svg>")
    svg = "".join(parts)  # every text in it went through escape()
    return Markup(svg)  # noqa: S704  # nosec B704


RANK_WIDTH = 460
RANK_ROW = 22
RANK_LABEL = 132  # room for a community's name


def ranking_chart(items: list[tuple[str, int, str]], *, label: str) -> Markup:
    """Return a horizontal bar chart of (name, value, value as written), largest first."""
    items = sorted(items, key=lambda item: -item[1])
    top = max((value for _name, value, _text in items), default=0) or 1
    height = RANK_ROW * max(len(items), 1) + 4
    plot = (RANK_WIDTH - RANK_LABEL - 70) * 10
    parts = [
        f'<svg class="chart ranking" viewBox="0 0 {RANK_WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for i, (name, value, text) in enumerate(items):
        y = i * RANK_ROW + 2
        width = plot * max(value, 0) // top
        short = name if len(name) <= 9 else name[:8] + "…"
        parts.append(f"<g><title>{escape(name)}: {escape(text)}</title>")
        parts.append(
            f'<text class="name" x="{RANK_LABEL - 6}" y="{y + 15}" text-anchor="end">'
            f"{escape(short)}</text>"
        )
        if width:
            parts.append(
                f'<rect class="part" x="{RANK_LABEL}" y="{y + 3}" width="{_tenths(width)}" '
                f'height="{RANK_ROW - 6}"/>'
            )
        parts.append(
            f'<text class="value" x="{_tenths(RANK_LABEL * 10 + width + 40)}" y="{y + 15}">'
            f"{escape(text)}</text></g>"
        )
    parts.append("</svg>")
    svg = "".join(parts)  # every text in it went through escape()
    return Markup(svg)  # noqa: S704  # nosec B704
