// What every view gets, and the panel helpers they share.
import { ApiError, queryRange, type Range, type RangeSeries } from "./api";
import { lines, timeChart, UNIT_NAMES, type Line, type TimeChartOptions, type Unit } from "./charts";
import { h } from "./dom";
import { loadNames } from "./names";
import type { State } from "./state";

export interface Ctx {
  state: State;
  range: Range;
  /** Rate window for `rate()`, wide enough for a few scrapes at this step. */
  rw: string;
  signal: AbortSignal;
  root: HTMLElement;
  /** Changes the URL state (and so re-renders). */
  nav(update: Partial<State>): void;
  /** Label values for the filter bar, loaded once per time range. */
  options: Record<"model" | "engine" | "zone" | "instance", string[]>;
}

export type ViewFn = (ctx: Ctx) => Promise<void>;

/** The label a series gets when a query adds the whole fleet to a per-group query. */
export const FLEET = "fleet";

/** `by`-query `expr` plus the same aggregated over everything, labelled `label="fleet"`. */
export function withFleet(perGroup: string, fleet: string, label: string): string {
  return `${perGroup} or label_replace(${fleet}, "${label}", "${FLEET}", "", "")`;
}

export function section(title: string, ...children: HTMLElement[]): HTMLElement {
  return h("section", { class: "section" }, h("h2", {}, title), h("div", { class: "grid" }, ...children));
}

export interface Panel {
  el: HTMLElement;
  body: HTMLElement;
  note(text: string, error?: boolean): void;
}

export function panel(title: string, opts: { wide?: boolean; full?: boolean; help?: string; id?: string; unit?: Unit } = {}): Panel {
  const body = h("div", { class: "panel-body" });
  const noteEl = h("div", { class: "panel-note" });
  const el = h(
    "div",
    { class: `panel${opts.wide ? " wide" : ""}${opts.full ? " full" : ""}`, "data-panel": opts.id ?? title },
    h("h3", { title: opts.help ?? "" }, title, opts.unit !== undefined ? h("span", { class: "unit" }, UNIT_NAMES[opts.unit]) : null),
    body,
    noteEl,
  );
  return {
    el,
    body,
    note(text: string, error = false) {
      noteEl.textContent = text;
      noteEl.classList.toggle("error", error);
    },
  };
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError && e.status === 403) return `Hidden from this account: ${e.message}.`;
  if (e instanceof ApiError) return `${e.errorType}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Whether the API refused for want of a role: the account sees no such data, which is not a failure. */
export function isForbidden(e: unknown): boolean {
  return e instanceof ApiError && e.status === 403;
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === "AbortError";
}

export interface Plot {
  query: string;
  keys?: string[];
  prefix?: string;
  dash?: boolean;
  /** Rewrites the series before they are drawn. */
  map?: (s: RangeSeries[]) => RangeSeries[];
}

/** What every chart panel says: its one unit, and what an empty chart means (what to configure, or that nothing happened). */
export type ChartOptions = TimeChartOptions & { unit: Unit; emptyText: string; wide?: boolean; help?: string; id?: string };

/** A panel with one time chart of one or more range queries. */
export function chartPanel(ctx: Ctx, title: string, plots: Plot[], opts: ChartOptions): HTMLElement {
  const p = panel(title, { wide: opts.wide, help: opts.help ?? plots.map((x) => x.query).join("\n"), unit: opts.unit, id: opts.id });
  const chart = h("div", { class: "chart" });
  p.body.appendChild(chart);
  void (async () => {
    const [, ...results] = await Promise.allSettled([names(ctx), ...plots.map((x) => queryRange(x.query, ctx.range, ctx.signal))]);
    if (ctx.signal.aborted) return;
    const all: Line[] = [];
    const errors: string[] = [];
    results.forEach((r, i) => {
      const plot = plots[i];
      if (r.status === "fulfilled") {
        const data = plot.map ? plot.map(r.value as RangeSeries[]) : (r.value as RangeSeries[]);
        for (const l of lines(data, plot.keys, plot.prefix)) all.push({ ...l, dash: plot.dash });
      } else if (!isAbort(r.reason)) errors.push(errorText(r.reason));
    });
    timeChart(chart, all, ctx.range, { onZoom: zoomer(ctx), ...opts });
    if (errors.length) p.note(errors.join("; "), true);
  })();
  return p.el;
}

/** Resolves when the readable names of the range's targets are known (see names.ts). */
export function names(ctx: Ctx): Promise<void> {
  return loadNames(ctx.range, ctx.signal);
}

/** An expected empty state that says what to configure; tests accept it as such. */
export function emptyNote(text: string): HTMLElement {
  return h("div", { class: "nodata ok" }, text);
}

/** Drag-to-zoom: the selected window becomes the URL's range and end. */
export function zoomer(ctx: Ctx): (start: number, end: number) => void {
  return (start, end) => ctx.nav({ range: `${Math.max(60, end - start)}s`, end });
}

/** The last finite value of a range series. */
export function last(values: [number, string][] | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = Number(values[i][1]);
    if (Number.isFinite(v)) return v;
  }
  return null;
}

export type Health = "ok" | "warn" | "bad" | "unknown";

/** Red/amber/green from a value and two thresholds (higher is worse unless `lowerIsWorse`). */
export function health(v: number | null, warn: number, bad: number, lowerIsWorse = false): Health {
  if (v === null) return "unknown";
  if (lowerIsWorse) return v <= bad ? "bad" : v <= warn ? "warn" : "ok";
  return v >= bad ? "bad" : v >= warn ? "warn" : "ok";
}

export function worst(hs: Health[]): Health {
  for (const x of ["bad", "warn", "ok"] as Health[]) if (hs.includes(x)) return x;
  return "unknown";
}

export function dot(hl: Health): HTMLElement {
  const words = { ok: "healthy", warn: "degraded", bad: "unhealthy", unknown: "no data" };
  return h("span", { class: `dot ${hl}`, title: words[hl], role: "img", "aria-label": words[hl] });
}
