// Charts: uPlot time series, plus small canvas heatmap, scatter and SVG sparklines.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Range, RangeSeries } from "./api";
import { fmtBytes, fmtNumber, h } from "./dom";
import { ADDRESS_LABELS, disambiguate, displayName } from "./names";

export const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

/**
 * What a chart's values are. `%` is a 0–1 ratio shown as a percentage, `pct`
 * is already in percent; `/s` and `/min` are events per second or minute;
 * `count`, `score`, `p` and `code` are plain numbers of that kind.
 */
export type Unit = "" | "s" | "%" | "pct" | "bytes" | "req/s" | "tok/s" | "err/s" | "req" | "/s" | "/min" | "count" | "score" | "p" | "code" | "°C" | "W" | "MHz" | "$" | "$/h" | "$/1M";

/** The unit's name, shown beside each chart's title. */
export const UNIT_NAMES: Record<Unit, string> = {
  "": "value",
  s: "seconds",
  "%": "percent",
  pct: "percent",
  bytes: "bytes",
  "req/s": "requests/s",
  "tok/s": "tokens/s",
  "err/s": "errors/s",
  req: "requests",
  "/s": "per second",
  "/min": "per minute",
  count: "count",
  score: "score, 0–1",
  p: "p-value",
  code: "code",
  "°C": "°C",
  W: "watts",
  MHz: "MHz",
  $: "dollars",
  "$/h": "dollars per hour",
  "$/1M": "dollars per 1M",
};

export function format(v: number | null | undefined, unit: Unit): string {
  if (unit === "bytes") return fmtBytes(v);
  if (unit === "$" || unit === "$/h" || unit === "$/1M") return fmtDollars(v, unit === "$" ? "" : unit.slice(1));
  if (unit === "count" || unit === "score" || unit === "p" || unit === "code") return fmtNumber(v, "");
  if (unit === "/s" || unit === "/min") return v === null || v === undefined || !Number.isFinite(v) ? "–" : `${fmtNumber(v, "")}${unit}`;
  return fmtNumber(v, unit);
}

/** Dollars with cents (or three significant digits below a dollar), and a suffix such as `/h`. */
export function fmtDollars(v: number | null | undefined, suffix = ""): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  const text = a >= 1e4 ? `${(v / 1e3).toFixed(1)}k` : a >= 1 ? v.toFixed(2) : a === 0 ? "0" : v.toPrecision(3);
  return `$${text}${suffix}`;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/** One line of a time chart. */
export interface Line {
  label: string;
  values: [number, string][];
  dash?: boolean;
  /** The raw addresses behind a readable name in `label`, shown as the legend's tooltip. */
  title?: string;
}

/**
 * The display name of a series: the values of `keys` (or of every label but
 * the name), with addresses replaced by readable names; `title` holds the
 * addresses replaced.
 */
export function seriesName(metric: Record<string, string>, keys?: string[]): { text: string; title?: string } {
  const names = keys ?? Object.keys(metric).filter((k) => k !== "__name__");
  const parts: string[] = [];
  const raw: string[] = [];
  for (const k of names) {
    const v = metric[k];
    if (v === undefined || v === "") continue;
    const n = ADDRESS_LABELS.includes(k) ? displayName(metric, k) : { text: v };
    if (n.title) raw.push(n.title);
    if (!parts.includes(n.text)) parts.push(n.text);
  }
  return { text: parts.length ? parts.join(" · ") : metric.__name__ ?? "", title: raw.length ? raw.join(", ") : undefined };
}

export function seriesLabel(metric: Record<string, string>, keys?: string[]): string {
  return seriesName(metric, keys).text;
}

export function lines(result: RangeSeries[], keys?: string[], prefix = ""): Line[] {
  const names = disambiguate(result.map((s) => seriesName(s.metric, keys)));
  return result.map((s, i) => {
    const { text, title } = names[i];
    return { label: text ? prefix + text : prefix.replace(/[\s·]+$/, "") || "value", values: s.values, title };
  });
}

/** Marks a chart container with its kind, unit and how many points it drew, for tests and for the empty state. */
function mark(el: HTMLElement, points: number, emptyText: string | undefined, kind: "time" | "heatmap" | "scatter" | "distribution", unit: string): void {
  el.dataset.chart = kind;
  el.dataset.unit = unit;
  el.dataset.points = String(points);
  el.classList.toggle("empty", points === 0);
  // An expected empty state (no errors) is said so, and tests accept it.
  if (emptyText) el.dataset.emptyOk = "";
  if (points === 0) el.replaceChildren(h("div", { class: emptyText ? "nodata ok" : "nodata" }, emptyText ?? "No data"));
}

const observers = new WeakMap<HTMLElement, ResizeObserver>();
function onResize(el: HTMLElement, fn: (width: number) => void): void {
  observers.get(el)?.disconnect();
  let last = el.clientWidth;
  const ro = new ResizeObserver(() => {
    const w = el.clientWidth;
    if (w > 0 && Math.abs(w - last) > 2) {
      last = w;
      fn(w);
    }
  });
  ro.observe(el);
  observers.set(el, ro);
}

/** An axis label for a Unix time: hours and minutes, with the day for ranges over a day. */
function clock(t: number, span: number): string {
  const d = new Date(t * 1000);
  const hm = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  return span > 86400 ? `${d.getMonth() + 1}/${d.getDate()} ${hm}` : hm;
}

export interface TimeChartOptions {
  unit?: Unit;
  height?: number;
  sync?: string;
  stacked?: boolean;
  min?: number;
  max?: number;
  /** Called with the selected time range (Unix seconds) when the user drags across the chart. */
  onZoom?: (start: number, end: number) => void;
  /** What to say when there is no data and that is fine (no errors, say). */
  emptyText?: string;
}

/** Draws `series` as lines over the range `r`; returns how many points were drawn. */
export function timeChart(el: HTMLElement, series: Line[], r: Range, opts: TimeChartOptions = {}): number {
  const unit = opts.unit ?? "";
  const n = Math.floor((r.end - r.start) / r.step) + 1;
  const xs = Array.from({ length: n }, (_, i) => r.start + i * r.step);
  let points = 0;
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array(n).fill(null);
    for (const [t, v] of s.values) {
      const i = Math.round((t - r.start) / r.step);
      const f = Number(v);
      if (i >= 0 && i < n && Number.isFinite(f)) {
        y[i] = f;
        points++;
      }
    }
    return y;
  });
  el.replaceChildren();
  mark(el, points, opts.emptyText, "time", unit);
  if (points === 0) return 0;
  const grid = cssVar("--grid");
  const text = cssVar("--muted");
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: "11px system-ui, sans-serif" };
  const plot = new uPlot(
    {
      width: Math.max(el.clientWidth, 200),
      height: opts.height ?? 170,
      cursor: { sync: opts.sync ? { key: opts.sync } : undefined, drag: { x: true, y: false, setScale: !opts.onZoom } },
      hooks: opts.onZoom
        ? {
            setSelect: [
              (u: uPlot) => {
                if (u.select.width < 5) return;
                const a = u.posToVal(u.select.left, "x");
                const b = u.posToVal(u.select.left + u.select.width, "x");
                opts.onZoom?.(Math.floor(a), Math.ceil(b));
              },
            ],
          }
        : {},
      legend: { show: series.length <= 40, live: true },
      scales: { y: { range: (_u, lo, hi) => [opts.min ?? Math.min(0, lo), opts.max ?? (hi > lo ? hi * 1.05 : lo + 1)] } },
      axes: [
        { ...axis, values: (_u, vals) => vals.map((v) => clock(v, r.end - r.start)) },
        {
          ...axis,
          // Wide enough for the longest tick label, so units are never cut off.
          size: (_u: uPlot, values: string[] | null) => Math.max(50, Math.ceil(Math.max(0, ...(values ?? []).map((v) => v.length)) * 7) + 24),
          values: (_u, vals) => vals.map((v) => format(v, unit)),
        },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          dash: s.dash ? [5, 4] : undefined,
          fill: opts.stacked ? PALETTE[i % PALETTE.length] + "55" : undefined,
          spanGaps: false,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => format(v, unit),
        })),
      ],
    },
    [xs, ...ys] as uPlot.AlignedData,
    el,
  );
  // Readable names stand in for addresses; the addresses stay in the tooltip.
  const rows = plot.root.querySelectorAll(".u-legend .u-series");
  series.forEach((s, i) => {
    if (s.title) rows[i + 1]?.setAttribute("title", s.title);
  });
  onResize(el, (w) => plot.setSize({ width: w, height: opts.height ?? 170 }));
  return points;
}

/** A small line of the last values, drawn as SVG. */
export function sparkline(values: [number, string][], color = "var(--accent)"): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 100 24");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "spark");
  const pts = values.map(([t, v]) => [t, Number(v)] as const).filter(([, v]) => Number.isFinite(v));
  svg.dataset.points = String(pts.length);
  if (pts.length < 2) return svg;
  const t0 = pts[0][0];
  const t1 = pts[pts.length - 1][0];
  let lo = Math.min(...pts.map((p) => p[1]));
  let hi = Math.max(...pts.map((p) => p[1]));
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const d = pts.map(([t, v], i) => `${i ? "L" : "M"}${(((t - t0) / (t1 - t0 || 1)) * 100).toFixed(1)},${(22 - ((v - lo) / (hi - lo)) * 20).toFixed(1)}`).join("");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", color);
  path.setAttribute("stroke-width", "1.5");
  path.setAttribute("vector-effect", "non-scaling-stroke");
  svg.appendChild(path);
  return svg;
}

function canvasFor(el: HTMLElement, height: number): CanvasRenderingContext2D | null {
  const canvas = h("canvas", { class: "plot-canvas" });
  const width = Math.max(el.clientWidth, 200);
  const dpr = window.devicePixelRatio || 1;
  canvas.width = width * dpr;
  canvas.height = height * dpr;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  el.replaceChildren(canvas);
  const ctx = canvas.getContext("2d");
  ctx?.scale(dpr, dpr);
  return ctx;
}

/**
 * A latency heatmap from cumulative histogram bucket rates (one series per
 * `le`): each cell is the rate of observations that fell in that bucket.
 */
export function heatmap(el: HTMLElement, buckets: RangeSeries[], r: Range, height = 200, emptyText?: string): number {
  const byLe = new Map<number, Map<number, number>>();
  for (const s of buckets) {
    const le = s.metric.le === "+Inf" ? Infinity : Number(s.metric.le);
    if (Number.isNaN(le)) continue;
    const m = byLe.get(le) ?? new Map<number, number>();
    for (const [t, v] of s.values) m.set(t, (m.get(t) ?? 0) + Number(v));
    byLe.set(le, m);
  }
  const les = [...byLe.keys()].sort((a, b) => a - b);
  const n = Math.floor((r.end - r.start) / r.step) + 1;
  const cells: number[][] = les.map(() => new Array(n).fill(0));
  let max = 0;
  let points = 0;
  for (let j = 0; j < les.length; j++) {
    const cur = byLe.get(les[j]) as Map<number, number>;
    const below = j > 0 ? (byLe.get(les[j - 1]) as Map<number, number>) : undefined;
    for (const [t, v] of cur) {
      const i = Math.round((t - r.start) / r.step);
      if (i < 0 || i >= n) continue;
      const c = Math.max(0, v - (below?.get(t) ?? 0));
      cells[j][i] = c;
      max = Math.max(max, c);
      points++;
    }
  }
  el.replaceChildren();
  const render = () => {
    mark(el, points, emptyText, "heatmap", "s");
    if (points === 0) return;
    const ctx = canvasFor(el, height);
    if (!ctx) return;
    const width = el.clientWidth || 200;
    const left = 64;
    const bottom = 18;
    const plotW = width - left - 8;
    const plotH = height - bottom - 4;
    const cw = plotW / n;
    const ch = plotH / Math.max(les.length, 1);
    const accent = cssVar("--heat");
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = cssVar("--muted");
    for (let j = 0; j < les.length; j++) {
      const y = 4 + plotH - (j + 1) * ch;
      for (let i = 0; i < n; i++) {
        const c = cells[j][i];
        if (c <= 0) continue;
        ctx.globalAlpha = 0.12 + 0.88 * (Math.log1p(c) / Math.log1p(max || 1));
        ctx.fillStyle = accent;
        ctx.fillRect(left + i * cw, y, Math.ceil(cw), Math.ceil(ch) - 1);
      }
      ctx.globalAlpha = 1;
      ctx.fillStyle = cssVar("--muted");
      if (les.length <= 12 || j % Math.ceil(les.length / 12) === 0) {
        ctx.fillText(les[j] === Infinity ? "+Inf" : `≤${fmtNumber(les[j], "s")}`, 2, y + ch / 2 + 4);
      }
    }
    for (let k = 0; k <= 4; k++) {
      const t = r.start + ((r.end - r.start) * k) / 4;
      const label = clock(t, r.end - r.start);
      ctx.fillText(label, Math.min(left + (plotW * k) / 4, width - 34), height - 4);
    }
  };
  render();
  onResize(el, render);
  return points;
}

export interface ScatterGroup {
  label: string;
  points: [number, number][];
  /** The raw address behind a readable `label`, for the legend's tooltip. */
  title?: string;
}

/** A scatter plot, one colour per group. */
export function scatter(el: HTMLElement, groups: ScatterGroup[], xUnit: Unit, yUnit: Unit, xTitle: string, yTitle: string, height = 220, emptyText?: string): number {
  const all = groups.flatMap((g) => g.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  el.replaceChildren();
  const render = () => {
    mark(el, all.length, emptyText, "scatter", `${xUnit}|${yUnit}`);
    if (!all.length) return;
    const ctx = canvasFor(el, height);
    if (!ctx) return;
    const width = el.clientWidth || 200;
    const left = 64;
    const bottom = 30;
    const plotW = width - left - 10;
    const plotH = height - bottom - 8;
    const xs = all.map((p) => p[0]);
    const ys = all.map((p) => p[1]);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    const sx = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * plotW;
    const sy = (y: number) => 8 + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;
    ctx.strokeStyle = cssVar("--grid");
    ctx.fillStyle = cssVar("--muted");
    ctx.font = "11px system-ui, sans-serif";
    for (let k = 0; k <= 4; k++) {
      const y = 8 + (plotH * k) / 4;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + plotW, y);
      ctx.stroke();
      ctx.fillText(format(y1 - ((y1 - y0) * k) / 4, yUnit), 2, y + 4);
      const x = left + (plotW * k) / 4;
      ctx.fillText(format(x0 + ((x1 - x0) * k) / 4, xUnit), Math.min(x, width - 50), 8 + plotH + 14);
    }
    ctx.fillText(`${xTitle} →`, left + plotW / 2 - 30, height - 2);
    ctx.save();
    ctx.translate(10, 8 + plotH / 2 + 30);
    ctx.rotate(-Math.PI / 2);
    ctx.restore();
    groups.forEach((g, gi) => {
      ctx.fillStyle = PALETTE[gi % PALETTE.length];
      ctx.globalAlpha = 0.75;
      for (const [x, y] of g.points) {
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        ctx.beginPath();
        ctx.arc(sx(x), sy(y), 3, 0, Math.PI * 2);
        ctx.fill();
      }
    });
    ctx.globalAlpha = 1;
    el.title = `${yTitle} against ${xTitle}`;
    const legend = h("div", { class: "scatter-legend" }, ...groups.map((g, gi) => h("span", { title: g.title }, h("i", { style: `background:${PALETTE[gi % PALETTE.length]}` }), g.label)));
    el.appendChild(legend);
  };
  render();
  onResize(el, render);
  return all.length;
}

/** One cohort's histogram: cumulative counts at each bucket bound (`le`, +Inf last). */
export interface Cumulative {
  label: string;
  buckets: [number, number][];
}

/**
 * Distributions overlaid: each cohort's share of observations at or below
 * each bucket bound (a step CDF over the bounds, evenly spaced, as the
 * buckets hold no more), one colour per cohort; returns the points drawn.
 */
export function distributionChart(el: HTMLElement, cohorts: Cumulative[], unit: Unit, height = 200, emptyText?: string): number {
  const bounds = [...new Set(cohorts.flatMap((c) => c.buckets.map(([le]) => le)))].filter((b) => Number.isFinite(b)).sort((a, b) => a - b);
  const shares = cohorts.map((c) => {
    const total = c.buckets.find(([le]) => le === Infinity)?.[1] ?? 0;
    return bounds.map((b) => (total > 0 ? (c.buckets.find(([le]) => le === b)?.[1] ?? 0) / total : NaN));
  });
  const points = shares.reduce((n, s) => n + s.filter(Number.isFinite).length, 0);
  el.replaceChildren();
  const render = () => {
    mark(el, points, emptyText, "distribution", unit);
    if (!points) return;
    const ctx = canvasFor(el, height);
    if (!ctx) return;
    const width = el.clientWidth || 200;
    const left = 44;
    const bottom = 30;
    const plotW = width - left - 10;
    const plotH = height - bottom - 8;
    const sx = (i: number) => left + (bounds.length > 1 ? (i / (bounds.length - 1)) * plotW : plotW / 2);
    const sy = (v: number) => 8 + plotH - v * plotH;
    ctx.font = "11px system-ui, sans-serif";
    ctx.strokeStyle = cssVar("--grid");
    ctx.fillStyle = cssVar("--muted");
    for (let k = 0; k <= 4; k++) {
      const y = sy(k / 4);
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + plotW, y);
      ctx.stroke();
      ctx.fillText(`${k * 25}%`, 4, y + 4);
    }
    const every = Math.max(1, Math.ceil(bounds.length / Math.max(2, Math.floor(plotW / 56))));
    bounds.forEach((b, i) => {
      if (i % every === 0) ctx.fillText(`≤${format(b, unit)}`, Math.min(sx(i) - 14, width - 56), 8 + plotH + 14);
    });
    ctx.fillText("share at or below →", left + plotW / 2 - 50, height - 2);
    shares.forEach((s, ci) => {
      ctx.strokeStyle = PALETTE[ci % PALETTE.length];
      ctx.fillStyle = PALETTE[ci % PALETTE.length];
      ctx.lineWidth = 2;
      ctx.beginPath();
      let started = false;
      s.forEach((v, i) => {
        if (!Number.isFinite(v)) return;
        if (started) ctx.lineTo(sx(i), sy(v));
        else ctx.moveTo(sx(i), sy(v));
        started = true;
      });
      ctx.stroke();
      s.forEach((v, i) => {
        if (!Number.isFinite(v)) return;
        ctx.beginPath();
        ctx.arc(sx(i), sy(v), 2.5, 0, Math.PI * 2);
        ctx.fill();
      });
    });
    ctx.lineWidth = 1;
    el.appendChild(h("div", { class: "scatter-legend" }, ...cohorts.map((c, ci) => h("span", {}, h("i", { style: `background:${PALETTE[ci % PALETTE.length]}` }), c.label))));
  };
  render();
  onResize(el, render);
  return points;
}

/** One model on the trade-off chart. */
export interface TradeoffPoint {
  label: string;
  /** Dollars per 1M output tokens. */
  cost: number;
  /** Mean quality score. */
  quality: number;
  /** p95 latency in seconds (the point's size), when known. */
  latency: number | null;
}

/** The points no other point beats on both cost (lower) and quality (higher), cheapest first. */
export function paretoFront(points: TradeoffPoint[]): TradeoffPoint[] {
  const front = points.filter((p) => !points.some((q) => q !== p && q.cost <= p.cost && q.quality >= p.quality && (q.cost < p.cost || q.quality > p.quality)));
  return front.sort((a, b) => a.cost - b.cost);
}

/**
 * Models by quality against $ per 1M output tokens, each point's size its
 * p95 latency, the Pareto front joined and ringed; names are drawn beside
 * the points and listed (as text) in the legend. Returns the points drawn.
 */
export function tradeoffChart(el: HTMLElement, points: TradeoffPoint[], qualityTitle: string, height = 260, emptyText?: string): number {
  const shown = points.filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.quality));
  const front = paretoFront(shown);
  el.replaceChildren();
  const render = () => {
    mark(el, shown.length, emptyText, "scatter", "$/1M|score");
    el.dataset.pareto = String(front.length);
    if (!shown.length) return;
    const ctx = canvasFor(el, height);
    if (!ctx) return;
    const width = el.clientWidth || 200;
    const left = 56;
    const bottom = 32;
    const right = 16;
    const plotW = width - left - right;
    const plotH = height - bottom - 16;
    const pad = (lo: number, hi: number) => {
      const span = hi - lo || Math.abs(hi) * 0.2 || 1;
      return [lo - span * 0.15, hi + span * 0.15];
    };
    const [x0, x1] = pad(Math.min(...shown.map((p) => p.cost)), Math.max(...shown.map((p) => p.cost)));
    const [y0, y1] = pad(Math.min(...shown.map((p) => p.quality)), Math.max(...shown.map((p) => p.quality)));
    const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * plotW;
    const sy = (y: number) => 16 + plotH - ((y - y0) / (y1 - y0)) * plotH;
    const lat = shown.map((p) => p.latency).filter((v): v is number => v !== null && Number.isFinite(v));
    const [l0, l1] = [Math.min(...lat), Math.max(...lat)];
    const radius = (p: TradeoffPoint) => (p.latency === null || !lat.length ? 6 : 5 + (l1 > l0 ? ((p.latency - l0) / (l1 - l0)) * 9 : 4));
    ctx.font = "11px system-ui, sans-serif";
    ctx.strokeStyle = cssVar("--grid");
    ctx.fillStyle = cssVar("--muted");
    for (let k = 0; k <= 4; k++) {
      const y = 16 + (plotH * k) / 4;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + plotW, y);
      ctx.stroke();
      ctx.fillText(fmtNumber(y1 - ((y1 - y0) * k) / 4), 4, y + 4);
      const x = left + (plotW * k) / 4;
      ctx.fillText(fmtDollars(x0 + ((x1 - x0) * k) / 4), Math.min(x - 10, width - 50), 16 + plotH + 14);
    }
    ctx.fillText("$ per 1M output tokens → (cheaper to the left)", left + plotW / 2 - 110, height - 2);
    ctx.fillText(`↑ ${qualityTitle} (better up)`, left + 4, 11);
    // The front: cheapest to best, as a dashed line through the points no other beats.
    ctx.strokeStyle = cssVar("--accent");
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    front.forEach((p, i) => (i ? ctx.lineTo(sx(p.cost), sy(p.quality)) : ctx.moveTo(sx(p.cost), sy(p.quality))));
    ctx.stroke();
    ctx.setLineDash([]);
    shown.forEach((p, i) => {
      ctx.globalAlpha = 0.8;
      ctx.fillStyle = PALETTE[i % PALETTE.length];
      ctx.beginPath();
      ctx.arc(sx(p.cost), sy(p.quality), radius(p), 0, Math.PI * 2);
      ctx.fill();
      ctx.globalAlpha = 1;
      if (front.includes(p)) {
        ctx.strokeStyle = cssVar("--text");
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(sx(p.cost), sy(p.quality), radius(p) + 3, 0, Math.PI * 2);
        ctx.stroke();
        ctx.lineWidth = 1;
      }
      ctx.fillStyle = cssVar("--text");
      const name = p.label.split("/").pop() ?? p.label;
      const tx = sx(p.cost) + radius(p) + 5;
      ctx.fillText(name, Math.min(tx, width - ctx.measureText(name).width - 4), sy(p.quality) + 4);
    });
    el.title = "Quality against $ per 1M output tokens; a point's size is its TTFT p95; ringed points are on the Pareto front";
    el.appendChild(
      h(
        "div",
        { class: "scatter-legend" },
        ...shown.map((p, i) =>
          h(
            "span",
            { title: `${p.label}: ${fmtDollars(p.cost)} per 1M output tokens, ${qualityTitle} ${fmtNumber(p.quality)}, TTFT p95 ${fmtNumber(p.latency, "s")}${front.includes(p) ? " (Pareto front)" : ""}`, "data-pareto": front.includes(p) ? "" : undefined },
            h("i", { style: `background:${PALETTE[i % PALETTE.length]}` }),
            p.label,
            front.includes(p) ? " ◎" : "",
          ),
        ),
      ),
    );
  };
  render();
  onResize(el, render);
  return shown.length;
}
