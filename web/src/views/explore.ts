// Explore: a PromQL editor with highlighting and completion, and graph or table output.
import { labelNames, labelValues, query, queryRange, type RangeSeries, type Sample } from "../api";
import { lines, seriesLabel, timeChart } from "../charts";
import { append, fmtNumber, h } from "../dom";
import { AGGREGATIONS, contextAt, errorPosition, FUNCTIONS, tokenize } from "../promql";
import { EMPTY } from "../help";
import { errorText, isAbort, panel, zoomer, type Ctx } from "../view";

const cache: { metrics?: Promise<string[]>; labels?: Promise<string[]>; values: Map<string, Promise<string[]>> } = { values: new Map() };

function highlight(layer: HTMLElement, src: string, error: { start: number; end: number } | null): void {
  layer.replaceChildren();
  for (const t of tokenize(src)) {
    const hasError = error && t.start < error.end && t.start + t.text.length > error.start;
    if (hasError && error) {
      // Split the token so only the erroneous characters carry the marker.
      const a = Math.max(error.start - t.start, 0);
      const b = Math.min(error.end - t.start, t.text.length);
      if (a > 0) layer.append(h("span", { class: `tok-${t.kind}` }, t.text.slice(0, a)));
      layer.append(h("span", { class: `tok-${t.kind} tok-error`, "data-error-at": String(error.start) }, t.text.slice(a, b)));
      if (b < t.text.length) layer.append(h("span", { class: `tok-${t.kind}` }, t.text.slice(b)));
    } else layer.append(h("span", { class: `tok-${t.kind}` }, t.text));
  }
  if (error && error.start >= src.length) layer.append(h("span", { class: "tok-error eol", "data-error-at": String(error.start) }, " "));
  layer.append("\n");
}

export async function explore(ctx: Ctx): Promise<void> {
  const s = ctx.state;
  const q = s.extra.q ?? "";
  const tab = s.extra.tab === "table" ? "table" : "graph";
  const layer = h("pre", { class: "editor-hl", "aria-hidden": "true" });
  const input = h("textarea", {
    class: "editor-input",
    spellcheck: "false",
    autocomplete: "off",
    autocapitalize: "off",
    rows: 3,
    "aria-label": "PromQL query",
    placeholder: "PromQL, e.g. sum by (gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_count[5m]))",
  }) as HTMLTextAreaElement;
  input.value = q;
  const menu = h("ul", { class: "completions", role: "listbox", hidden: true });
  const errorBox = h("div", { class: "query-error", role: "alert", hidden: true });
  const run = () => ctx.nav({ extra: { ...s.extra, q: input.value, tab: s.extra.tab ?? "graph" } });
  let error: { start: number; end: number } | null = null;
  const sync = () => {
    highlight(layer, input.value, error);
    layer.scrollTop = input.scrollTop;
  };
  let items: string[] = [];
  let active = 0;
  let compl: ReturnType<typeof contextAt> = null;
  const showMenu = () => {
    menu.replaceChildren(...items.map((it, i) => h("li", { class: i === active ? "active" : "", role: "option", onmousedown: (e: Event) => (e.preventDefault(), accept(i)) }, it)));
    menu.hidden = items.length === 0;
  };
  const accept = (i: number) => {
    if (!compl || !items[i]) return;
    const pos = input.selectionStart ?? input.value.length;
    input.value = input.value.slice(0, compl.from) + items[i] + input.value.slice(pos);
    const caret = compl.from + items[i].length;
    input.setSelectionRange(caret, caret);
    items = [];
    showMenu();
    error = null;
    sync();
  };
  const complete = async () => {
    const pos = input.selectionStart ?? input.value.length;
    compl = contextAt(input.value, pos);
    if (!compl) {
      items = [];
      return showMenu();
    }
    let pool: string[] = [];
    try {
      if (compl.kind === "metric") {
        cache.metrics ??= labelValues("__name__");
        pool = [...(await cache.metrics), ...FUNCTIONS, ...AGGREGATIONS];
      } else if (compl.kind === "label") {
        cache.labels ??= labelNames();
        pool = await cache.labels;
      } else if (compl.label) {
        const name = compl.label;
        if (!cache.values.has(name)) cache.values.set(name, labelValues(name));
        pool = (await cache.values.get(name)) ?? [];
      }
    } catch {
      pool = [];
    }
    const p = compl.prefix.toLowerCase();
    items = pool.filter((x) => x.toLowerCase().includes(p) && x !== compl?.prefix).sort((a, b) => Number(!a.toLowerCase().startsWith(p)) - Number(!b.toLowerCase().startsWith(p)) || a.localeCompare(b)).slice(0, 12);
    active = 0;
    showMenu();
  };
  input.addEventListener("input", () => {
    error = null;
    errorBox.hidden = true;
    sync();
    void complete();
  });
  input.addEventListener("scroll", sync);
  input.addEventListener("blur", () => setTimeout(() => (menu.hidden = true), 100));
  input.addEventListener("keydown", (e) => {
    if (!menu.hidden && items.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        active = (active + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        showMenu();
        return e.preventDefault();
      }
      if (e.key === "Tab" || (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey)) {
        accept(active);
        return e.preventDefault();
      }
      if (e.key === "Escape") {
        items = [];
        showMenu();
        return e.preventDefault();
      }
    }
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      run();
    }
  });
  const tabs = h(
    "div",
    { class: "seg" },
    ...(["graph", "table"] as const).map((t) =>
      h("button", { class: t === tab ? "active" : "", "data-tab": t, onclick: () => ctx.nav({ extra: { ...s.extra, q: input.value, tab: t } }) }, t === "graph" ? "Graph" : "Table"),
    ),
  );
  const out = panel(tab === "graph" ? "Graph" : "Table", { full: true, id: "explore-output" });
  ctx.root.append(
    h(
      "section",
      { class: "section" },
      h("div", { class: "editor" }, layer, input, menu),
      h("div", { class: "editor-bar" }, h("button", { class: "primary", onclick: run, "data-action": "run" }, "Run"), h("span", { class: "muted" }, "Enter runs, Shift+Enter adds a line, Tab completes"), tabs),
      errorBox,
      out.el,
    ),
  );
  sync();
  if (!q.trim()) {
    out.body.append(h("div", { class: "nodata" }, "Write a query and press Enter."));
    return;
  }
  try {
    if (tab === "graph") {
      const result = await queryRange(q, ctx.range, ctx.signal);
      const chart = h("div", { class: "chart" });
      out.body.append(chart);
      timeChart(chart, lines(result), ctx.range, { height: 320, onZoom: zoomer(ctx), emptyText: EMPTY.query });
      out.note(`${result.length} series`);
    } else {
      const r = await query(q, ctx.range.end, ctx.signal);
      out.body.append(table(r.resultType, r.result));
    }
  } catch (e) {
    if (isAbort(e)) return;
    const message = errorText(e);
    error = errorPosition(q, message);
    sync();
    errorBox.hidden = false;
    errorBox.replaceChildren();
    append(
      errorBox,
      h("strong", {}, "Error"),
      error ? h("span", { class: "muted" }, ` at character ${error.start + 1}`) : null,
      h("div", {}, message),
      error ? h("pre", { class: "caret" }, `${q.split("\n").join(" ")}\n${" ".repeat(error.start)}^`) : null,
    );
    out.body.append(h("div", { class: "nodata" }, "The query failed."));
  }
}

function table(kind: string, result: unknown): HTMLElement {
  const rows: HTMLElement[] = [];
  if (kind === "vector") {
    for (const s of result as Sample[]) rows.push(h("tr", {}, h("td", { class: "series" }, seriesText(s.metric)), h("td", { class: "num" }, fmtNumber(Number(s.value[1])))));
  } else if (kind === "matrix") {
    for (const s of result as RangeSeries[]) rows.push(h("tr", {}, h("td", { class: "series" }, seriesText(s.metric)), h("td", { class: "num" }, s.values.map((v) => v[1]).join(", "))));
  } else if (kind === "scalar" || kind === "string") {
    const [, v] = result as [number, string];
    rows.push(h("tr", {}, h("td", {}, kind), h("td", { class: "num" }, v)));
  }
  if (!rows.length) return h("div", { class: "nodata", "data-chart": "", "data-points": "0" }, "Empty result.");
  const t = h("table", { class: "result", "data-chart": "", "data-points": String(rows.length) }, h("thead", {}, h("tr", {}, h("th", {}, "Series"), h("th", {}, "Value"))), h("tbody", {}, ...rows));
  return h("div", { class: "table-wrap" }, t);
}

function seriesText(metric: Record<string, string>): string {
  const name = metric.__name__ ?? "";
  const labels = Object.entries(metric)
    .filter(([k]) => k !== "__name__")
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
  return labels ? `${name}{${labels}}` : name || seriesLabel(metric);
}
