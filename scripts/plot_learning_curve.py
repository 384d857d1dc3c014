#!/usr/bin/env python3
"""plot_learning_curve.py CURVE.csv OUT.svg : draws a joined learning curve (scripts/join_learning_curves.py) as an
SVG for the model card: the training loss above, the held-out masked-token top-1 and top-5 (with the unigram
baseline's top-1, dashed) below, against the step counted from the start of phase 1, each phase's start marked.

Plain SVG written by hand, since matplotlib is not among the project's dependencies; any browser or image viewer
shows it, and GitHub renders it in the model card."""
import csv
import math
import sys

WIDTH, PANEL_HEIGHT, LEFT, RIGHT, TOP, GAP, BOTTOM = 860, 220, 60, 20, 30, 50, 40
COLOURS = {"loss": "#1f77b4", "top1": "#d62728", "top5": "#ff7f0e", "baseline": "#7f7f7f"}


def number(text):
    return float(text) if text not in ("", None) else None


def nice_step(span, ticks):
    """A tick spacing of 1, 2 or 5 times a power of ten giving about `ticks` ticks over `span`."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


class Panel:
    def __init__(self, top, y_low, y_high, x_high, title):
        self.top, self.y_low, self.y_high, self.x_high, self.title = top, y_low, y_high, x_high, title

    def x(self, step):
        return LEFT + (WIDTH - LEFT - RIGHT) * step / self.x_high

    def y(self, value):
        return self.top + PANEL_HEIGHT * (1 - (value - self.y_low) / (self.y_high - self.y_low))

    def frame(self, y_tick, unit=""):
        out = [f'<text x="{LEFT}" y="{self.top - 8}" font-weight="bold">{self.title}</text>',
               f'<rect x="{LEFT}" y="{self.top}" width="{WIDTH - LEFT - RIGHT}" height="{PANEL_HEIGHT}" '
               'fill="none" stroke="#444"/>']
        value = y_tick * int(self.y_low / y_tick + 0.999)
        while value <= self.y_high + 1e-9:
            y = self.y(value)
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}{unit}</text>')
            value += y_tick
        return out

    def line(self, points, colour, dashed=False):
        if len(points) < 2:
            return [f'<circle cx="{self.x(s):.1f}" cy="{self.y(v):.1f}" r="2" fill="{colour}"/>' for s, v in points]
        path = " ".join(f"{self.x(s):.1f},{self.y(v):.1f}" for s, v in points)
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        return [f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.4"{dash}/>']


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[0])
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    phases = sorted({int(r["phase"]) for r in rows})
    last_step = max(float(r["step"]) for r in rows)
    losses = [float(r["loss"]) for r in rows]
    loss_panel = Panel(TOP, 2.0, max(losses) + 0.5, last_step, "training loss (masked-token cross-entropy)")
    accuracy_panel = Panel(TOP + PANEL_HEIGHT + GAP, 0, 70, last_step,
                           "held-out masked-token accuracy (phases 1-5: the Debian handbook; later phases: fiction)")
    height = accuracy_panel.top + PANEL_HEIGHT + BOTTOM
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" '
           'font-size="11">', f'<rect width="{WIDTH}" height="{height}" fill="white"/>']
    svg += loss_panel.frame(1.0) + accuracy_panel.frame(10, "%")
    tick = nice_step(last_step, 8)
    step = 0.0
    while step <= last_step:
        x = loss_panel.x(step)
        svg.append(f'<text x="{x:.1f}" y="{height - BOTTOM + 16}" text-anchor="middle">{int(step):,}</text>')
        step += tick
    svg.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{height - 6}" text-anchor="middle">step (from the start '
               'of phase 1)</text>')
    for phase in phases:
        mine = [r for r in rows if int(r["phase"]) == phase]
        start = float(mine[0]["step"])
        for panel in (loss_panel, accuracy_panel):
            x = panel.x(start)
            svg.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{panel.top}" y2="{panel.top + PANEL_HEIGHT}" '
                       'stroke="#999" stroke-dasharray="2,3"/>')
        svg.append(f'<text x="{loss_panel.x(start) + 3:.1f}" y="{TOP + 12}" fill="#555">{phase}</text>')
        svg += loss_panel.line([(float(r["step"]), float(r["loss"])) for r in mine], COLOURS["loss"])
        for key, colour, dashed in (("heldout_top1", "top1", False), ("heldout_top5", "top5", False),
                                    ("heldout_baseline_top1", "baseline", True)):
            points = [(float(r["step"]), 100 * number(r[key])) for r in mine if number(r.get(key)) is not None]
            svg += accuracy_panel.line(points, COLOURS[colour], dashed)
    legend_y = accuracy_panel.top + 14
    for i, (label, colour) in enumerate((("top-1", "top1"), ("top-5", "top5"), ("unigram top-1", "baseline"))):
        x = LEFT + 10 + 110 * i
        svg.append(f'<line x1="{x}" x2="{x + 20}" y1="{legend_y - 4}" y2="{legend_y - 4}" stroke="{COLOURS[colour]}" '
                   'stroke-width="2"/>')
        svg.append(f'<text x="{x + 25}" y="{legend_y}">{label}</text>')
    svg.append("</svg>")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
