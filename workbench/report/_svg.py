"""Charts as inline SVG, drawn here from arrays: vector in the browser and in the PDF, no script,
no font or image to fetch. Long series are downsampled for display with LTTB (the data are not)."""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["lttb", "line_chart", "bar_chart", "heatmap", "histogram", "stacked_area", "COLORS"]

COLORS = ("#1f5fa8", "#9a9a9a", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c", "#8d5524")
W, H = 860, 260
PAD_L, PAD_R, PAD_T, PAD_B = 64, 16, 28, 30


def lttb(x: np.ndarray, y: np.ndarray, n_out: int) -> np.ndarray:
    """Indices of the points Largest-Triangle-Three-Buckets keeps (Steinarsson 2013): the first,
    the last, and in each of ``n_out - 2`` buckets the point forming the largest triangle with
    the point kept before it and the mean of the next bucket (of its finite values). NaN values
    are kept only where a bucket has nothing else.

    >>> lttb(np.arange(6.0), np.array([0.0, 5.0, 0.0, 0.0, -5.0, 0.0]), 4).tolist()
    [0, 1, 4, 5]
    """
    n = x.size
    if n_out >= n or n_out < 3:
        return np.arange(n)
    edges = np.linspace(1, n - 1, n_out - 1).astype(np.int64)  # bucket i: edges[i]..edges[i+1]
    finite = np.isfinite(y)
    y0 = np.where(finite, y, 0.0)
    starts = edges[:-1]
    sum_x, sum_y = np.add.reduceat(x, starts), np.add.reduceat(y0, starts)
    cnt_x, cnt_y = np.diff(np.r_[starts, n - 1]), np.add.reduceat(finite.astype(np.int64), starts)
    sum_x[-1], sum_y[-1] = sum_x[-1] - x[n - 1], sum_y[-1] - y0[n - 1]
    cnt_y[-1] -= int(finite[n - 1])
    # the "next bucket" of the last bucket is the last point
    mean_x = np.r_[sum_x[1:] / np.maximum(cnt_x[1:], 1), x[n - 1]]
    mean_y = np.r_[np.where(cnt_y[1:] > 0, sum_y[1:] / np.maximum(cnt_y[1:], 1), 0.0), y0[n - 1]]
    keep = np.empty(n_out, dtype=np.int64)
    keep[0], keep[-1] = 0, n - 1
    a = 0
    for i in range(n_out - 2):
        lo, hi = int(edges[i]), int(edges[i + 1])
        if hi <= lo:
            hi = lo + 1
        ax, ay = x[a], y0[a]
        area = np.abs((ax - mean_x[i]) * (y0[lo:hi] - ay) - (ax - x[lo:hi]) * (mean_y[i] - ay))
        area[~finite[lo:hi]] = -1.0
        a = lo + int(area.argmax())
        keep[i + 1] = a
    return keep


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step + 1e-9) + 1)]


def _fmt_tick(v: float, fmt: str) -> str:
    if fmt == "pct":
        return f"{v:.0%}" if abs(v) >= 0.1 or v == 0 else f"{v:.1%}"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.3g}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.3g}k"
    return f"{v:.4g}"


def _date_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Ticks on calendar boundaries for x values in epoch seconds."""
    span_days = (hi - lo) / 86400
    start = dt.datetime.fromtimestamp(lo, dt.timezone.utc)
    out: list[tuple[float, str]] = []
    if span_days > 3 * 365:
        step = max(1, int(span_days / 365 / 8) + 1)
        for year in range(start.year + 1, start.year + int(span_days / 365) + 2, step):
            t = dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc).timestamp()
            if lo <= t <= hi:
                out.append((t, str(year)))
    elif span_days > 60:
        months = max(1, int(span_days / 30 / 8) + 1)
        y, m = start.year, start.month
        while True:
            m += months
            y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
            t = dt.datetime(y, m, 1, tzinfo=dt.timezone.utc).timestamp()
            if t > hi:
                break
            out.append((t, f"{y}-{m:02d}"))
    else:
        for v in np.linspace(lo, hi, 6):
            fmt = "%m-%d" if span_days > 2 else "%m-%d %H:%M"
            out.append((float(v), dt.datetime.fromtimestamp(v, dt.timezone.utc).strftime(fmt)))
    return out


class _Frame:
    """Maps data to the plot area and draws axes and grid."""

    def __init__(self, x0: float, x1: float, y0: float, y1: float, *, log: bool = False,
                 width: int = W, height: int = H) -> None:
        self.w, self.h, self.log = width, height, log
        if log:
            y0, y1 = math.log10(max(y0, 1e-12)), math.log10(max(y1, 1e-12))
        if y1 <= y0:
            y0, y1 = y0 - 0.5 * (abs(y0) or 1.0), y1 + 0.5 * (abs(y1) or 1.0)
        pad = 0.04 * (y1 - y0)
        self.x0, self.x1 = x0, (x1 if x1 > x0 else x0 + 1.0)
        self.y0, self.y1 = y0 - pad, y1 + pad

    def px(self, x: np.ndarray | float) -> np.ndarray | float:
        return PAD_L + (np.asarray(x, dtype=float) - self.x0) / (self.x1 - self.x0) * (self.w - PAD_L - PAD_R)

    def py(self, y: np.ndarray | float) -> np.ndarray | float:
        y = np.asarray(y, dtype=float)
        if self.log:
            y = np.log10(np.maximum(y, 1e-12))
        return self.h - PAD_B - (y - self.y0) / (self.y1 - self.y0) * (self.h - PAD_T - PAD_B)

    def axes(self, yfmt: str, *, dates: bool) -> str:
        parts = [_y_axis(self, yfmt)]
        xt = _date_ticks(self.x0, self.x1) if dates else [(t, _fmt_tick(t, "num")) for t in _nice_ticks(self.x0, self.x1)]
        for t, label in xt:
            x = float(self.px(t))
            parts.append(f'<text x="{x:.1f}" y="{self.h - PAD_B + 16}" text-anchor="middle">{_e(label)}</text>')
        return "".join(parts)


def _svg(title: str, body: str, legend: Sequence[tuple[str, str]] = (), *, width: int = W, height: int = H) -> str:
    items, at = [], PAD_L + 8
    for name, c in legend:
        items.append(f'<rect x="{at}" y="8" width="10" height="10" fill="{c}"/><text x="{at + 14}" y="17">{_e(name)}</text>')
        at += 30 + 6 * len(name)
    return (f'<figure class="chart"><figcaption>{_e(title)}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{_e(title)}" font-family="DejaVu Sans, Arial, sans-serif" font-size="10" fill="#333">'
            f'{"".join(items)}{body}</svg></figure>')


def _path(xs: np.ndarray, ys: np.ndarray) -> str:
    ok = np.isfinite(ys)
    pts, pen = [], "M"
    for x, y, good in zip(xs.tolist(), ys.tolist(), ok.tolist(), strict=False):
        if not good:
            pen = "M"
            continue
        pts.append(f"{pen}{x:.1f},{y:.1f}")
        pen = "L"
    return "".join(pts)


def line_chart(title: str, x: np.ndarray, series: Sequence[tuple[str, np.ndarray]], *, yfmt: str = "num",
               log: bool = False, dates: bool = True, max_points: int = 1500,
               spans: Sequence[tuple[float, float]] = (), zero: bool = False, fill: bool = False) -> str:
    """Lines of each ``(name, y)`` over ``x`` (epoch seconds when ``dates``), LTTB-downsampled to
    ``max_points`` each; ``spans`` are x ranges shaded behind the lines."""
    x = np.asarray(x, dtype=float)
    kept = [(name, lttb(x, np.asarray(y, dtype=float), max_points)) for name, y in series]
    ys = [np.asarray(y, dtype=float)[k] for (_, y), (_, k) in zip(series, kept, strict=False)]
    finite = np.concatenate([y[np.isfinite(y) & ((y > 0) if log else True)] for y in ys] + [np.zeros(0)])
    if finite.size == 0:
        finite = np.array([1.0 if log else 0.0])
    lo, hi = float(finite.min()), float(finite.max())
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    fr = _Frame(float(x[0]) if x.size else 0.0, float(x[-1]) if x.size else 1.0, lo, hi, log=log)
    body = [fr.axes(yfmt, dates=dates)]
    for a, b in spans:
        xa, xb = float(fr.px(a)), float(fr.px(b))
        body.append(f'<rect x="{xa:.1f}" y="{PAD_T}" width="{max(xb - xa, 1.0):.1f}" height="{H - PAD_T - PAD_B}" fill="#d1495b" fill-opacity="0.12"/>')
    for i, ((_name, k), y) in enumerate(zip(kept, ys, strict=False)):
        xs, yy = fr.px(x[k]), fr.py(y)
        d = _path(xs, yy)
        color = COLORS[i % len(COLORS)]
        if fill and d:
            base = float(fr.py(0.0))
            body.append(f'<path d="{d}L{xs[-1]:.1f},{base:.1f}L{xs[0]:.1f},{base:.1f}Z" fill="{color}" fill-opacity="0.35" stroke="none"/>')
        body.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="1.3"/>')
    return _svg(title, "".join(body), [(n, COLORS[i % len(COLORS)]) for i, (n, _) in enumerate(series)])


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, np.ndarray]], *, yfmt: str = "pct") -> str:
    """Grouped bars: one group per label, one bar per series."""
    vals = np.concatenate([np.asarray(v, dtype=float) for _, v in series] + [np.zeros(1)])
    vals = vals[np.isfinite(vals)]
    fr = _Frame(0.0, float(max(len(labels), 1)), min(float(vals.min()), 0.0), max(float(vals.max()), 0.0))
    body = [_y_axis(fr, yfmt)]
    group = (fr.w - PAD_L - PAD_R) / max(len(labels), 1)
    bw = group * 0.8 / max(len(series), 1)
    base = float(fr.py(0.0))
    step = max(1, len(labels) // 20)
    for j, label in enumerate(labels):
        gx = PAD_L + j * group + group * 0.1
        for i, (_, v) in enumerate(series):
            y = float(np.asarray(v, dtype=float)[j])
            if not math.isfinite(y):
                continue
            top = float(fr.py(y))
            body.append(f'<rect x="{gx + i * bw:.1f}" y="{min(top, base):.1f}" width="{bw:.1f}" '
                        f'height="{abs(base - top):.1f}" fill="{COLORS[i % len(COLORS)]}"/>')
        if j % step == 0:
            body.append(f'<text x="{gx + group * 0.4:.1f}" y="{H - PAD_B + 16}" text-anchor="middle">{_e(label)}</text>')
    return _svg(title, "".join(body), [(n, COLORS[i % len(COLORS)]) for i, (n, _) in enumerate(series)])


def _y_axis(fr: _Frame, yfmt: str) -> str:
    parts = []
    if fr.log:
        ticks = [10.0**k for k in range(math.ceil(fr.y0), math.floor(fr.y1) + 1)]
        if len(ticks) < 2:
            ticks = [t for t in _nice_ticks(10**fr.y0, 10**fr.y1) if t > 0]
    else:
        ticks = _nice_ticks(fr.y0, fr.y1)
    for t in ticks:
        y = float(fr.py(t))
        parts.append(f'<line x1="{PAD_L}" x2="{fr.w - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3" stroke-width="1"/>'
                     f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(_fmt_tick(t, yfmt))}</text>')
    parts.append(f'<rect x="{PAD_L}" y="{PAD_T}" width="{fr.w - PAD_L - PAD_R}" height="{fr.h - PAD_T - PAD_B}" fill="none" stroke="#bbbbbb"/>')
    return "".join(parts)


def histogram(title: str, values: np.ndarray, *, bins: int = 50, yfmt: str = "num", xfmt: str = "pct") -> str:
    """Counts of ``values`` in ``bins`` equal bins."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        v = np.zeros(1)
    counts, edges = np.histogram(v, bins=bins)
    fr = _Frame(float(edges[0]), float(edges[-1]), 0.0, float(counts.max()))
    body = [_y_axis(fr, yfmt)]
    base = float(fr.py(0.0))
    for c, a, b in zip(counts.tolist(), edges[:-1].tolist(), edges[1:].tolist(), strict=False):
        xa, xb, top = float(fr.px(a)), float(fr.px(b)), float(fr.py(c))
        body.append(f'<rect x="{xa:.1f}" y="{top:.1f}" width="{max(xb - xa - 0.5, 0.5):.1f}" height="{base - top:.1f}" fill="{COLORS[0]}"/>')
    for t in _nice_ticks(float(edges[0]), float(edges[-1])):
        body.append(f'<text x="{float(fr.px(t)):.1f}" y="{H - PAD_B + 16}" text-anchor="middle">{_e(_fmt_tick(t, xfmt))}</text>')
    return _svg(title, "".join(body))


def _cell_color(v: float, scale: float) -> str:
    if not math.isfinite(v):
        return "#f2f2f2"
    t = max(-1.0, min(1.0, v / scale)) if scale > 0 else 0.0
    if t >= 0:
        r, g, b = int(255 - 200 * t), int(255 - 90 * t), int(255 - 200 * t)
    else:
        r, g, b = int(255 + 40 * t), int(255 + 200 * t), int(255 + 200 * t)
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(title: str, rows: Sequence[str], cols: Sequence[str], values: np.ndarray, *, fmt: str = "pct",
            row_title: str = "", col_title: str = "") -> str:
    """A table-like heatmap: one cell per ``values[i, j]``, its value written in it."""
    v = np.asarray(values, dtype=float)
    finite = np.abs(v[np.isfinite(v)])
    scale = float(np.quantile(finite, 0.95)) if finite.size else 1.0
    cw = min(64.0, (W - 90) / max(len(cols), 1))
    ch = 18.0
    height = int(PAD_T + ch * (len(rows) + 1) + 8)
    body = []
    for j, c in enumerate(cols):
        body.append(f'<text x="{90 + j * cw + cw / 2:.1f}" y="{PAD_T + 12}" text-anchor="middle">{_e(c)}</text>')
    for i, r in enumerate(rows):
        y = PAD_T + ch * (i + 1)
        body.append(f'<text x="84" y="{y + 13:.1f}" text-anchor="end">{_e(r)}</text>')
        for j in range(len(cols)):
            val = float(v[i, j])
            text = "" if not math.isfinite(val) else (f"{val:.1%}" if fmt == "pct" else f"{val:.3g}")
            body.append(f'<rect x="{90 + j * cw:.1f}" y="{y:.1f}" width="{cw - 1:.1f}" height="{ch - 1:.1f}" '
                        f'fill="{_cell_color(val, scale)}"/><text x="{90 + j * cw + cw / 2:.1f}" y="{y + 13:.1f}" '
                        f'text-anchor="middle" font-size="9">{_e(text)}</text>')
    if row_title or col_title:
        body.append(f'<text x="4" y="{PAD_T + 12}">{_e(row_title)} \\ {_e(col_title)}</text>')
    return _svg(title, "".join(body), height=height)


def stacked_area(title: str, x: np.ndarray, series: Sequence[tuple[str, np.ndarray]], *, max_points: int = 800) -> str:
    """Stacked areas of non-negative shares (weights) over ``x`` (epoch seconds)."""
    x = np.asarray(x, dtype=float)
    if x.size > max_points:
        idx = np.unique(np.linspace(0, x.size - 1, max_points).astype(np.int64))
    else:
        idx = np.arange(x.size)
    ys = [np.nan_to_num(np.asarray(y, dtype=float)[idx]) for _, y in series]
    cum = np.cumsum(np.vstack(ys), axis=0) if ys else np.zeros((1, idx.size))
    fr = _Frame(float(x[0]), float(x[-1]), min(0.0, float(cum.min())), max(1.0, float(cum.max())))
    body = [fr.axes("pct", dates=True)]
    xs = fr.px(x[idx])
    prev = np.zeros(idx.size)
    for i, top in enumerate(cum):
        up = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs.tolist(), fr.py(top).tolist(), strict=False))
        down = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs[::-1].tolist(), fr.py(prev)[::-1].tolist(), strict=False))
        body.append(f'<polygon points="{up} {down}" fill="{COLORS[i % len(COLORS)]}" fill-opacity="0.8"/>')
        prev = top
    return _svg(title, "".join(body), [(n, COLORS[i % len(COLORS)]) for i, (n, _) in enumerate(series)])
