// Compare: two cohorts (two models, two label sets, or before and after a
// deploy marker) side by side, every metric tested by the compare API, the
// latency distributions overlaid, and every model on quality against cost.
import { annotations, compare as compareApi, query, type Annotation, type Comparison, type Outcome, type Sample } from "../api";
import { distributionChart, fmtDollars, tradeoffChart, type Cumulative, type TradeoffPoint, type Unit } from "../charts";
import { fmtNumber, fmtTime, h } from "../dom";
import { EMPTY } from "../help";
import { parseDuration, quote } from "../state";
import { emptyNote, errorText, isAbort, panel, section, type Ctx } from "../view";

/** Scorers whose score measures something bad (crates/api/src/compare.rs keeps the same list). */
const LOWER_IS_BETTER = ["pii", "toxicity", "harmful", "refusal", "jailbreak"];

/** The histograms whose distributions are overlaid, as the compare API reads them. */
const DISTRIBUTIONS: { title: string; metric: string; filter: string }[] = [
  { title: "Time to first token", metric: "gen_ai_server_time_to_first_token_seconds_bucket", filter: "" },
  { title: "Time per output token (ITL)", metric: "gen_ai_server_time_per_output_token_seconds_bucket", filter: "" },
  { title: "End-to-end latency", metric: "gen_ai_client_operation_duration_seconds_bucket", filter: 'error_type=""' },
];

/** Two cohorts as the API takes them. */
interface Cohorts {
  /** Compare API parameters. */
  params: Record<string, string | number>;
  /** Short names for the legend and the table's header. */
  aName: string;
  bName: string;
  /** Each cohort's selector and window, for the distribution queries. */
  a: { selector: string; start: number; end: number };
  b: { selector: string; start: number; end: number };
}

const modelSelector = (model: string) => `{gen_ai_request_model=${quote(model)}}`;

/** The model named by a one-matcher selector `{gen_ai_request_model="x"}`, or the selector itself. */
function cohortName(selector: string): string {
  const m = /^\{\s*gen_ai_request_model\s*=\s*"((?:[^"\\]|\\.)*)"\s*\}$/.exec(selector.trim());
  return m ? m[1].replace(/\\(.)/g, "$1") : selector;
}

/**
 * The cohorts first shown: the latest deploy marker's model against the
 * model it was built from (the longest other model name it starts with),
 * else the first two models.
 */
export function defaultCohorts(models: string[], markers: Annotation[]): { a: string; b: string } | null {
  const deploys = markers.filter((m) => m.tags.includes("deploy") && models.includes(m.model)).sort((x, y) => y.time_ms - x.time_ms);
  for (const d of deploys) {
    const base = models.filter((m) => m !== d.model && d.model.startsWith(m)).sort((x, y) => y.length - x.length)[0];
    if (base) return { a: base, b: d.model };
  }
  return models.length >= 2 ? { a: models[0], b: models[1] } : null;
}

/** A cohort's selector's matchers, for use inside another selector: `a="x",b="y"`. */
function inner(selector: string): string {
  return selector.trim().replace(/^\{/, "").replace(/\}$/, "").trim();
}

function withClient(selector: string, extra: string): string {
  const parts = [inner(selector), extra].filter(Boolean);
  if (!/\binfersight_client\b/.test(selector)) parts.push('infersight_client=""');
  return parts.join(",");
}

function cohortsFrom(ctx: Ctx, models: string[], markers: Annotation[]): Cohorts | string {
  const x = ctx.state.extra;
  const { start, end } = ctx.range;
  if (x.marker) {
    const t = Number(x.marker);
    const selector = x.sel || "{}";
    // Windows of the range's length on either side of the marker, shorter when the marker is less than that before the end.
    const len = Math.min(parseDuration(ctx.state.range), end - t);
    if (!(len >= 60)) return `The marker at ${fmtTime(t * 1000)} leaves less than a minute after it before the end of the range: pick an earlier marker or a later end.`;
    return {
      params: { a: selector, a_start: t - len, a_end: t, b_start: t, b_end: t + len },
      aName: `before ${fmtTime(t * 1000)}`,
      bName: "after",
      a: { selector, start: t - len, end: t },
      b: { selector, start: t, end: t + len },
    };
  }
  let a = x.a;
  let b = x.b;
  if (!a || !b) {
    const d = defaultCohorts(models, markers);
    if (!d) return EMPTY.gateway;
    a = a || modelSelector(d.a);
    b = b || modelSelector(d.b);
  }
  return { params: { a, b, start, end }, aName: cohortName(a), bName: cohortName(b), a: { selector: a, start, end }, b: { selector: b, start, end } };
}

const METRIC_NAMES: Record<string, string> = {
  ttft: "TTFT",
  tpot: "Time per output token",
  e2e: "End-to-end",
  error_rate: "Error rate",
};

function metricTitle(name: string): string {
  const q = /^(ttft|tpot|e2e)_p(\d+)$/.exec(name);
  if (q) return `${METRIC_NAMES[q[1]]} p${q[2]}`;
  if (METRIC_NAMES[name]) return METRIC_NAMES[name];
  if (name === "cost_per_1m_output_tokens") return "$ per 1M output tokens";
  const d = /^(.*)_per_dollar$/.exec(name);
  if (d) return `${d[1]} mean per $ (per 1M output tokens)`;
  const s = /^(.*)_(mean|flagged_rate)$/.exec(name);
  if (s) return `${s[1]} ${s[2] === "mean" ? "mean score" : "flagged rate"}`;
  return name;
}

function fmtValue(v: number | null | undefined, unit: string, signed = false): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const sign = signed && v > 0 ? "+" : "";
  if (unit === "seconds") return sign + fmtNumber(v, "s");
  if (unit === "ratio") return sign + fmtNumber(v, "%");
  if (unit === "dollars") return sign + fmtDollars(v);
  return sign + (Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));
}

function fmtP(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return "–";
  return p < 0.0001 ? "< 0.0001" : p.toFixed(p < 0.01 ? 4 : 3);
}

/** The verdict in words, with the smallest effect the data could have seen when it saw none. */
function verdictText(o: Outcome): string {
  switch (o.verdict) {
    case "better":
      return "B better";
    case "worse":
      return "B worse";
    case "no_detectable_difference":
      return `no detectable difference${o.min_detectable_effect !== null ? ` (could see ±${fmtValue(o.min_detectable_effect, o.unit)})` : ""}`;
    case "not_enough_data":
      return `not enough data (n = ${Math.round(Math.min(o.n_a, o.n_b))}${o.n_needed !== null ? `, need ≈ ${o.n_needed}` : ""})`;
    default:
      return o.reason ? `not tested: ${o.reason}` : "not tested";
  }
}

function resultTable(c: Comparison, names: { a: string; b: string }): HTMLElement {
  const rows = c.metrics.map((o) =>
    h(
      "tr",
      { "data-metric": o.name, "data-verdict": o.verdict },
      h("td", { title: `${o.name}: ${o.test.replace(/_/g, " ")}, ${o.direction.replace(/_/g, " ")}` }, metricTitle(o.name)),
      h("td", { class: "num" }, fmtValue(o.a, o.unit)),
      h("td", { class: "num" }, fmtValue(o.b, o.unit)),
      h("td", { class: "num" }, fmtValue(o.difference, o.unit, true), o.relative_difference !== null && Number.isFinite(o.relative_difference) ? h("span", { class: "muted" }, ` (${o.relative_difference > 0 ? "+" : ""}${(o.relative_difference * 100).toFixed(1)}%)`) : null),
      h("td", { class: "num" }, o.ci_low !== null && o.ci_high !== null ? `${fmtValue(o.ci_low, o.unit, true)} … ${fmtValue(o.ci_high, o.unit, true)}` : "–"),
      h("td", { class: "num", title: `unadjusted p = ${fmtP(o.p_value)}; ${c.correction} over ${c.metrics.filter((m) => m.p_value !== null).length} tested metrics` }, fmtP(o.p_adjusted ?? o.p_value)),
      h("td", { class: "num" }, `${fmtNumber(Math.round(o.n_a))} / ${fmtNumber(Math.round(o.n_b))}`),
      h("td", { class: `verdict ${o.verdict}`, title: o.verdict === "better" || o.verdict === "worse" ? `${names.b} ${o.verdict} than ${names.a}` : undefined }, verdictText(o)),
    ),
  );
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "compare" },
      h("thead", {}, h("tr", {}, ...["Metric", `A: ${names.a}`, `B: ${names.b}`, "B − A", "95% CI of B − A", "p (Holm)", "n A / B", "Verdict"].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...rows),
    ),
  );
}

function summary(c: Comparison, names: { a: string; b: string }): HTMLElement {
  const count = (v: Outcome["verdict"]) => c.metrics.filter((m) => m.verdict === v).length;
  const worse = c.metrics.filter((m) => m.verdict === "worse").map((m) => metricTitle(m.name));
  const better = c.metrics.filter((m) => m.verdict === "better").map((m) => metricTitle(m.name));
  return h(
    "p",
    { class: "compare-summary", "data-worse": count("worse"), "data-better": count("better") },
    h("strong", {}, names.b),
    ` against ${names.a}: better on ${count("better")}${better.length ? ` (${better.join(", ")})` : ""}, worse on ${count("worse")}${worse.length ? ` (${worse.join(", ")})` : ""}, no detectable difference on ${count("no_detectable_difference")} of ${c.metrics.length} metrics. `,
    h(
      "span",
      { class: "muted" },
      `${fmtNumber(Math.round(c.a.requests))} and ${fmtNumber(Math.round(c.b.requests))} requests; ${c.paired ? "paired" : "unpaired"} blocks of ${c.step_seconds} s; α = ${c.options.alpha}, ${c.correction} correction across metrics.`,
    ),
  );
}

function controls(ctx: Ctx, models: string[], markers: Annotation[], cohorts: Cohorts | string): HTMLElement {
  const x = ctx.state.extra;
  const byMarker = Boolean(x.marker);
  const current = typeof cohorts === "string" ? null : cohorts;
  const options = (values: string[], selected: string) => values.map((v) => h("option", { value: v, selected: v === selected }, v));
  const aSel = current && !byMarker ? String(current.params.a) : "";
  const bSel = current && !byMarker ? String(current.params.b) : "";
  const aInput = h("input", { name: "a", class: "selector", value: aSel, spellcheck: "false", "aria-label": "Cohort A selector", list: "compare-models" }) as HTMLInputElement;
  const bInput = h("input", { name: "b", class: "selector", value: bSel, spellcheck: "false", "aria-label": "Cohort B selector", list: "compare-models" }) as HTMLInputElement;
  const datalist = h("datalist", { id: "compare-models" }, ...models.map((m) => h("option", { value: modelSelector(m) })));
  const pick = (input: HTMLInputElement, label: string) =>
    h(
      "select",
      { "aria-label": label, onchange: (e: Event) => ((input.value = modelSelector((e.target as HTMLSelectElement).value)), undefined) },
      h("option", { value: "" }, "model…"),
      ...options(models, cohortName(input.value)),
    );
  const markerSelect = h(
    "select",
    { name: "marker", "aria-label": "Deploy marker" },
    ...markers.map((m) => h("option", { value: String(Math.floor(m.time_ms / 1000)), selected: String(Math.floor(m.time_ms / 1000)) === x.marker }, `${fmtTime(m.time_ms)} · ${m.text}`)),
  ) as HTMLSelectElement;
  const family = (() => {
    const d = defaultCohorts(models, markers);
    return d ? `{gen_ai_request_model=~${quote(`${d.a.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*`)}}` : "{}";
  })();
  const selInput = h("input", { name: "sel", class: "selector", value: x.sel || family, spellcheck: "false", "aria-label": "Traffic selector" }) as HTMLInputElement;
  const go = (extra: Record<string, string>) => ctx.nav({ extra: { ...extra, ...(x.score ? { score: x.score } : {}) } });
  return h(
    "div",
    { class: "compare-controls" },
    h(
      "form",
      { class: "cohorts", "data-mode": "cohorts", onsubmit: (e: Event) => (e.preventDefault(), go({ a: aInput.value.trim(), b: bInput.value.trim() })) },
      h("strong", {}, "Two cohorts"),
      h("label", { class: "field" }, h("span", {}, "A"), aInput, pick(aInput, "Model for A")),
      h("label", { class: "field" }, h("span", {}, "B"), bInput, pick(bInput, "Model for B")),
      datalist,
      h("button", { type: "submit", "data-action": "compare" }, "Compare"),
      h("span", { class: "muted" }, "a model, an upstream or any label set, e.g. {deployment=\"canary\"}, over the range above"),
    ),
    h(
      "form",
      { class: "cohorts", "data-mode": "marker", onsubmit: (e: Event) => (e.preventDefault(), go({ marker: markerSelect.value, sel: selInput.value.trim() })) },
      h("strong", {}, "Before and after a marker"),
      markers.length ? h("label", { class: "field" }, h("span", {}, "Marker"), markerSelect) : h("span", { class: "muted" }, "No deploy markers in the last day: POST /api/v1/infersight/annotations with a time and text to add one."),
      h("label", { class: "field" }, h("span", {}, "Traffic"), selInput),
      h("button", { type: "submit", disabled: !markers.length, "data-action": "compare-marker" }, "Compare"),
    ),
  );
}

async function vector(expr: string, time: number, signal: AbortSignal): Promise<Sample[]> {
  const r = await query(expr, time, signal);
  return Array.isArray(r.result) ? (r.result as Sample[]) : [];
}

async function distribution(ctx: Ctx, c: Cohorts, d: (typeof DISTRIBUTIONS)[number]): Promise<Cumulative[]> {
  const one = async (cohort: Cohorts["a"], label: string): Promise<Cumulative> => {
    const span = Math.max(60, Math.round(cohort.end - cohort.start));
    const rows = await vector(`sum by (le) (increase(${d.metric}{${withClient(cohort.selector, d.filter)}}[${span}s]))`, cohort.end, ctx.signal);
    const buckets: [number, number][] = rows.map((r) => [r.metric.le === "+Inf" ? Infinity : Number(r.metric.le), Number(r.value[1])]);
    return { label, buckets: buckets.filter(([le, v]) => !Number.isNaN(le) && Number.isFinite(v)) };
  };
  return Promise.all([one(c.a, `A: ${c.aName}`), one(c.b, `B: ${c.bName}`)]);
}

/** Every model's mean score, $ per 1M output tokens and TTFT p95 over the range. */
async function tradeoff(ctx: Ctx, score: string): Promise<TradeoffPoint[]> {
  const span = `${Math.max(60, Math.round(ctx.range.end - ctx.range.start))}s`;
  const by = "sum by (gen_ai_request_model)";
  const scoreSel = `{gen_ai_evaluation_name=${quote(score)}}`;
  const [cost, quality, latency] = await Promise.all([
    vector(`avg by (gen_ai_request_model) (avg_over_time(infersight:cost_dollars_per_1m_output_tokens[${span}]))`, ctx.range.end, ctx.signal),
    vector(`${by} (increase(gen_ai_evaluation_score_sum${scoreSel}[${span}])) / (${by} (increase(gen_ai_evaluation_score_count${scoreSel}[${span}])) > 0)`, ctx.range.end, ctx.signal),
    vector(`histogram_quantile(0.95, sum by (le, gen_ai_request_model) (increase(gen_ai_server_time_to_first_token_seconds_bucket{infersight_client=""}[${span}])))`, ctx.range.end, ctx.signal),
  ]);
  const of = (rows: Sample[]) => new Map(rows.map((r) => [r.metric.gen_ai_request_model ?? "", Number(r.value[1])]));
  const [c, q, l] = [of(cost), of(quality), of(latency)];
  return [...c.keys()]
    .filter((m) => m && q.has(m))
    .sort()
    .map((m) => ({ label: m, cost: c.get(m) as number, quality: q.get(m) as number, latency: Number.isFinite(l.get(m)) ? (l.get(m) as number) : null }));
}

/** The quality scores with observations in the range; a judge's helpfulness first, as it is what money buys. */
async function scores(ctx: Ctx): Promise<string[]> {
  const span = `${Math.max(60, Math.round(ctx.range.end - ctx.range.start))}s`;
  const rows = await vector(`sum by (gen_ai_evaluation_name) (increase(gen_ai_evaluation_score_count[${span}])) > 0`, ctx.range.end, ctx.signal);
  const names = rows.map((r) => r.metric.gen_ai_evaluation_name ?? "").filter((n) => n && !LOWER_IS_BETTER.includes(n));
  const rank = (n: string) => (n === "judge_helpfulness" ? 0 : n.startsWith("judge_") ? 1 : 2);
  return names.sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
}

export async function compare(ctx: Ctx): Promise<void> {
  const day = Math.max(86400, parseDuration(ctx.state.range));
  let markers: Annotation[] = [];
  let markerError = "";
  try {
    markers = await annotations({ start: ctx.range.end - day, end: ctx.range.end }, ctx.signal);
  } catch (e) {
    if (isAbort(e)) return;
    markerError = errorText(e);
  }
  const models = ctx.options.model;
  const cohorts = cohortsFrom(ctx, models, markers);
  const table = panel("Cohort B against cohort A", { full: true, id: "compare-table", help: "GET /api/v1/infersight/compare: every metric tested per block of time, Holm-corrected across metrics" });
  table.body.append(controls(ctx, models, markers, cohorts));
  if (markerError) table.note(`Deploy markers: ${markerError}`, true);
  const dists = DISTRIBUTIONS.map((d) => ({ d, p: panel(`${d.title}: distributions`, { id: `dist-${d.metric}`, unit: "s", help: `Share of each cohort's requests at or below each bucket bound of ${d.metric}` }) }));
  const trade = panel("Models: quality against $ per 1M output tokens", { wide: true, id: "tradeoff", help: "Each model's mean score and dollars per 1M output tokens over the range; a point's size is its TTFT p95; the Pareto front (nothing is both cheaper and better) is ringed and joined" });
  ctx.root.append(
    section("Compare", table.el),
    section("Latency distributions", ...dists.map((x) => x.p.el)),
    section("Speed, quality and cost of every model", trade.el),
  );
  const work: Promise<void>[] = [];
  if (typeof cohorts === "string") {
    table.body.append(emptyNote(cohorts));
    dists.forEach((x) => x.p.body.append(emptyNote(cohorts)));
  } else {
    work.push(
      (async () => {
        try {
          const result = await compareApi(cohorts.params, ctx.signal);
          table.body.append(summary(result, { a: cohorts.aName, b: cohorts.bName }), resultTable(result, { a: cohorts.aName, b: cohorts.bName }));
        } catch (e) {
          if (isAbort(e)) return;
          // Too few requests is an answer, not a failure: the API says how many there are and how many it needs.
          if (/not enough data|empty_cohort|no requests/i.test(errorText(e))) table.body.append(h("div", { class: "nodata ok" }, errorText(e)));
          else table.note(errorText(e), true);
        }
      })(),
    );
    for (const { d, p } of dists) {
      const chart = h("div", { class: "chart" });
      p.body.append(chart);
      work.push(
        distribution(ctx, cohorts, d).then(
          (data) => void distributionChart(chart, data, "s", 200, EMPTY.gateway),
          (e) => void (isAbort(e) ? undefined : p.note(errorText(e), true)),
        ),
      );
    }
  }
  work.push(
    (async () => {
      try {
        const names = await scores(ctx);
        const score = ctx.state.extra.score && names.includes(ctx.state.extra.score) ? ctx.state.extra.score : names[0];
        const chart = h("div", { class: "chart tall" });
        if (names.length > 1) {
          trade.body.append(
            h(
              "label",
              { class: "field" },
              h("span", {}, "Quality score"),
              h("select", { name: "score", onchange: (e: Event) => ctx.nav({ extra: { ...ctx.state.extra, score: (e.target as HTMLSelectElement).value } }) }, ...names.map((n) => h("option", { value: n, selected: n === score }, n))),
            ),
          );
        }
        trade.body.append(chart);
        if (!score) {
          tradeoffChart(chart, [], "", 260, EMPTY.scores);
          return;
        }
        const points = await tradeoff(ctx, score);
        tradeoffChart(chart, points, `${score} mean`, 260, EMPTY.cost);
        if (points.length) trade.body.append(tradeoffTable(points, score));
      } catch (e) {
        if (!isAbort(e)) trade.note(errorText(e), true);
      }
    })(),
  );
  await Promise.all(work);
}

function tradeoffTable(points: TradeoffPoint[], score: string): HTMLElement {
  const fmtUnit = (v: number | null, unit: Unit) => (unit === "s" ? fmtNumber(v, "s") : fmtNumber(v));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "tradeoff" },
      h("thead", {}, h("tr", {}, ...["Model", "$ per 1M output tokens", `${score} mean`, `${score} per $ (per 1M tokens)`, "TTFT p95"].map((t) => h("th", {}, t)))),
      h(
        "tbody",
        {},
        ...points.map((p) =>
          h(
            "tr",
            {},
            h("td", {}, p.label),
            h("td", { class: "num" }, fmtDollars(p.cost)),
            h("td", { class: "num" }, fmtUnit(p.quality, "score")),
            h("td", { class: "num" }, p.cost > 0 ? fmtNumber(p.quality / p.cost) : "–"),
            h("td", { class: "num" }, fmtUnit(p.latency, "s")),
          ),
        ),
      ),
    ),
  );
}
