// Overview: per model and for the fleet, the numbers that say whether inference is healthy.
import { exchanges, queryRange, type RangeSeries } from "../api";
import { format, sparkline, type Unit } from "../charts";
import { fmtTime, h } from "../dom";
import { linkTo, matchers } from "../state";
import { EMPTY } from "../help";
import { dot, emptyNote, errorText, FLEET, health, isAbort, isForbidden, last, panel, section, withFleet, worst, type Ctx, type Health } from "../view";
import { guide } from "./guide";

interface Metric {
  key: string;
  title: string;
  unit: Unit;
  query: string;
  /** The label that names the model in this query's result. */
  by: string;
  /** Splits one query into several metrics by a label value. */
  split?: { label: string; value: string };
  status?: (v: number | null) => Health;
  link?: "performance" | "reliability" | "capacity" | "quality";
  /** Only meaningful for the whole fleet (GPUs are not per model). */
  fleetOnly?: boolean;
}

export function overviewMetrics(ctx: Ctx): Metric[] {
  const { state: s, rw } = ctx;
  const gw = (extra: string[] = []) => matchers(s, "gateway", extra);
  const M = "gen_ai_request_model";
  const dur = "gen_ai_client_operation_duration_seconds_count";
  const q = (phi: number, hist: string) =>
    withFleet(
      `histogram_quantile(${phi}, sum by (le, ${M}) (rate(${hist}_bucket${gw()}[${rw}])))`,
      `histogram_quantile(${phi}, sum by (le) (rate(${hist}_bucket${gw()}[${rw}])))`,
      M,
    );
  const kv = `{__name__=~"vllm:kv_cache_usage_perc|sglang:token_usage"${matchers(s, "engine").replace(/^\{/, ",").replace(/\}$/, "")}}`;
  return [
    {
      key: "rps",
      title: "Requests/s",
      unit: "",
      by: M,
      query: withFleet(`sum by (${M}) (rate(${dur}${gw()}[${rw}]))`, `sum(rate(${dur}${gw()}[${rw}]))`, M),
      link: "performance",
    },
    {
      key: "err",
      title: "Error ratio",
      unit: "%",
      by: M,
      query: withFleet(
        `(sum by (${M}) (rate(${dur}${gw(['error_type!=""'])}[${rw}])) or 0 * sum by (${M}) (rate(${dur}${gw()}[${rw}]))) / sum by (${M}) (rate(${dur}${gw()}[${rw}]))`,
        `(sum(rate(${dur}${gw(['error_type!=""'])}[${rw}])) or 0 * sum(rate(${dur}${gw()}[${rw}]))) / sum(rate(${dur}${gw()}[${rw}]))`,
        M,
      ),
      status: (v) => health(v, 0.01, 0.05),
      link: "reliability",
    },
    { key: "ttft50", title: "TTFT p50", unit: "s", by: M, query: q(0.5, "gen_ai_server_time_to_first_token_seconds"), link: "performance" },
    {
      key: "ttft95",
      title: "TTFT p95",
      unit: "s",
      by: M,
      query: q(0.95, "gen_ai_server_time_to_first_token_seconds"),
      status: (v) => health(v, 1, 2.5),
      link: "performance",
    },
    {
      key: "itl95",
      title: "ITL p95",
      unit: "s",
      by: M,
      query: q(0.95, "gen_ai_server_time_per_output_token_seconds"),
      status: (v) => health(v, 0.1, 0.25),
      link: "performance",
    },
    {
      key: "tokin",
      title: "Tokens/s in",
      unit: "",
      by: M,
      split: { label: "gen_ai_token_type", value: "input" },
      query: withFleet(
        `sum by (${M}, gen_ai_token_type) (rate(gen_ai_client_token_usage_sum${gw()}[${rw}]))`,
        `sum by (gen_ai_token_type) (rate(gen_ai_client_token_usage_sum${gw()}[${rw}]))`,
        M,
      ),
      link: "performance",
    },
    { key: "tokout", title: "Tokens/s out", unit: "", by: M, split: { label: "gen_ai_token_type", value: "output" }, query: "", link: "performance" },
    {
      key: "kv",
      title: "KV cache",
      unit: "%",
      by: "model_name",
      query: withFleet(`avg by (model_name) (${kv})`, `avg(${kv})`, "model_name"),
      status: (v) => health(v, 0.85, 0.97),
      link: "capacity",
    },
    {
      key: "gpu",
      title: "GPU util",
      unit: "pct",
      by: "model_name",
      query: `label_replace(avg(DCGM_FI_DEV_GPU_UTIL${matchers(s, "gpu")}), "model_name", "${FLEET}", "", "")`,
      fleetOnly: true,
      link: "capacity",
    },
    {
      // Scores mean "more of the thing named" (toxicity, PII, ...), so their
      // mean is not a quality figure; the share of scores flagged is.
      key: "quality",
      title: "Flagged share",
      unit: "%",
      by: M,
      query: withFleet(
        `sum by (${M}) (rate(infersight_quality_flagged_total${gw()}[${rw}])) / sum by (${M}) (rate(gen_ai_evaluation_score_count${gw()}[${rw}]))`,
        `sum(rate(infersight_quality_flagged_total${gw()}[${rw}])) / sum(rate(gen_ai_evaluation_score_count${gw()}[${rw}]))`,
        M,
      ),
      status: (v) => health(v, 0.05, 0.2),
      link: "quality",
    },
    {
      key: "flagged",
      title: "Flagged/min",
      unit: "",
      by: M,
      query: withFleet(
        `60 * sum by (${M}) (rate(infersight_quality_flagged_total${gw()}[${rw}]))`,
        `60 * sum(rate(infersight_quality_flagged_total${gw()}[${rw}]))`,
        M,
      ),
      link: "quality",
    },
  ];
}

export async function overview(ctx: Ctx): Promise<void> {
  const { state: s, rw, range, signal } = ctx;
  const metrics = overviewMetrics(ctx);
  const fleetTiles = h("div", { class: "tiles" });
  const table = panel("Per model", { full: true });
  const scorers = panel("Quality per scorer", { wide: true });
  const drift = panel("Drift", {});
  const recent = panel("Recently flagged exchanges", { wide: true });
  const welcome = guide(ctx);
  if (welcome) ctx.root.append(welcome.el);
  ctx.root.append(section("Fleet", fleetTiles), section("Models", table.el), section("Quality", scorers.el, drift.el, recent.el));

  // Rows: model -> metric key -> series values.
  const data = new Map<string, Map<string, [number, string][]>>();
  const put = (model: string, key: string, values: [number, string][]) => {
    const row = data.get(model) ?? new Map();
    row.set(key, values);
    data.set(model, row);
  };
  const jobs = metrics
    .filter((m) => m.query)
    .map(async (m) => {
      const result = await queryRange(m.query, range, signal);
      for (const series of result) {
        const model = series.metric[m.by] ?? FLEET;
        if (m.split) {
          const target = metrics.find((x) => x.split?.label === m.split?.label && x.split?.value === series.metric[m.split!.label]);
          if (target) put(model, target.key, series.values);
        } else put(model, m.key, series.values);
      }
    });
  const scorerQuery = withFleet(
    `sum by (gen_ai_request_model, gen_ai_evaluation_name) (rate(gen_ai_evaluation_score_sum${matchers(s, "gateway")}[${rw}])) / sum by (gen_ai_request_model, gen_ai_evaluation_name) (rate(gen_ai_evaluation_score_count${matchers(s, "gateway")}[${rw}]))`,
    `sum by (gen_ai_evaluation_name) (rate(gen_ai_evaluation_score_sum${matchers(s, "gateway")}[${rw}])) / sum by (gen_ai_evaluation_name) (rate(gen_ai_evaluation_score_count${matchers(s, "gateway")}[${rw}]))`,
    "gen_ai_request_model",
  );
  const flaggedQuery = `60 * sum by (gen_ai_evaluation_name) (rate(infersight_quality_flagged_total${matchers(s, "gateway")}[${rw}]))`;
  const shareQuery = `sum by (gen_ai_evaluation_name) (rate(infersight_quality_flagged_total${matchers(s, "gateway")}[${rw}])) / sum by (gen_ai_evaluation_name) (rate(gen_ai_evaluation_score_count${matchers(s, "gateway")}[${rw}]))`;
  const results = await Promise.allSettled([
    ...jobs,
    scorerSection(ctx, scorers, scorerQuery, flaggedQuery, shareQuery),
    driftSection(ctx, drift),
    recentFlagged(ctx, recent).catch((e) => {
      if (!isForbidden(e)) throw e;
      recent.note(errorText(e));
    }),
    welcome?.load(),
  ]);
  const errors = results.filter((r) => r.status === "rejected" && !isAbort(r.reason)).map((r) => errorText((r as PromiseRejectedResult).reason));
  if (signal.aborted) return;
  if (errors.length) table.note([...new Set(errors)].join("; "), true);

  const fleet = data.get(FLEET) ?? new Map();
  for (const m of metrics) {
    const values = fleet.get(m.key);
    const v = last(values);
    const st = m.status ? m.status(v) : v === null ? "unknown" : "ok";
    fleetTiles.append(
      h(
        "a",
        { class: `tile ${st}`, href: linkTo(s, m.link ?? "performance"), "data-metric": m.key },
        h("div", { class: "tile-title" }, m.title, " ", dot(st)),
        h("div", { class: "tile-value" }, format(v, m.unit)),
        values ? sparkline(values) : h("div", { class: "spark" }),
      ),
    );
  }

  const models = [...data.keys()].filter((k) => k !== FLEET).sort();
  const columns = metrics.filter((m) => !m.fleetOnly);
  const head = h("tr", {}, h("th", {}, "Model"), h("th", {}, "Status"), ...columns.map((m) => h("th", {}, m.title)));
  const rows = models.map((model) => {
    const row = data.get(model) as Map<string, [number, string][]>;
    const statuses = columns.map((m) => (m.status ? m.status(last(row.get(m.key))) : "unknown"));
    return h(
      "tr",
      {},
      h("th", {}, h("a", { href: linkTo({ ...s, model }, "performance") }, model)),
      h("td", {}, dot(worst(statuses))),
      ...columns.map((m, i) => {
        const values = row.get(m.key);
        return h("td", { class: `num ${statuses[i]}` }, h("div", {}, format(last(values), m.unit)), values ? sparkline(values) : null);
      }),
    );
  });
  if (!rows.length) table.body.append(emptyNote(EMPTY.gateway));
  else table.body.append(h("div", { class: "table-wrap" }, h("table", { class: "models" }, h("thead", {}, head), h("tbody", {}, ...rows))));
}

async function scorerSection(ctx: Ctx, p: ReturnType<typeof panel>, scoreQuery: string, flaggedQuery: string, shareQuery: string): Promise<void> {
  const [scores, flagged, shares] = await Promise.all([
    queryRange(scoreQuery, ctx.range, ctx.signal),
    queryRange(flaggedQuery, ctx.range, ctx.signal),
    queryRange(shareQuery, ctx.range, ctx.signal),
  ]);
  const byScorer = new Map<string, { mean?: RangeSeries; flagged?: RangeSeries; share?: RangeSeries }>();
  for (const series of scores) {
    if (series.metric.gen_ai_request_model !== FLEET) continue;
    const name = series.metric.gen_ai_evaluation_name ?? "?";
    byScorer.set(name, { ...byScorer.get(name), mean: series });
  }
  for (const series of flagged) {
    const name = series.metric.gen_ai_evaluation_name ?? "?";
    byScorer.set(name, { ...byScorer.get(name), flagged: series });
  }
  for (const series of shares) {
    const name = series.metric.gen_ai_evaluation_name ?? "?";
    byScorer.set(name, { ...byScorer.get(name), share: series });
  }
  if (!byScorer.size) {
    p.body.append(emptyNote(EMPTY.scores));
    return;
  }
  const rows = [...byScorer.entries()].sort().map(([name, v]) => {
    const share = last(v.share?.values);
    const st = health(share, 0.05, 0.2);
    return h(
      "tr",
      {},
      h("th", {}, dot(st), " ", h("a", { href: linkTo(ctx.state, "quality", { scorer: name }) }, name)),
      h("td", { class: "num" }, h("div", {}, format(last(v.mean?.values), "")), v.mean ? sparkline(v.mean.values) : null),
      h("td", { class: `num ${st}` }, h("div", {}, format(share ?? 0, "%")), v.share ? sparkline(v.share.values, "var(--bad)") : null),
      h("td", { class: "num" }, h("div", {}, format(last(v.flagged?.values) ?? 0, "")), v.flagged ? sparkline(v.flagged.values, "var(--bad)") : null),
    );
  });
  p.body.append(
    h(
      "table",
      { class: "scorers" },
      h("thead", {}, h("tr", {}, h("th", {}, "Scorer"), h("th", { title: "Higher means more of what the scorer detects" }, "Mean score"), h("th", {}, "Flagged share"), h("th", {}, "Flagged/min"))),
      h("tbody", {}, ...rows),
    ),
  );
}

/** Drift per model: the latest p-value and whether it is below the alarm level. */
export async function driftSection(ctx: Ctx, p: ReturnType<typeof panel>): Promise<void> {
  const result = await queryRange(`infersight_quality_drift_p_value${matchers(ctx.state, "gateway")}`, ctx.range, ctx.signal);
  if (!result.length) {
    p.body.append(emptyNote(EMPTY.drift));
    return;
  }
  p.body.append(
    h(
      "ul",
      { class: "drift" },
      ...result.map((series) => {
        const pv = last(series.values);
        const st = health(pv, 0.05, 0.01, true);
        return h("li", {}, dot(st), " ", series.metric.gen_ai_request_model ?? "?", h("span", { class: "muted" }, ` p=${format(pv, "")}`), st === "bad" ? h("strong", {}, " drift") : null);
      }),
    ),
  );
}

async function recentFlagged(ctx: Ctx, p: ReturnType<typeof panel>): Promise<void> {
  const page = await exchanges({ flagged: "any", limit: 5, model: ctx.state.model, start: ctx.range.start, end: ctx.range.end }, ctx.signal);
  if (!page.exchanges.length) {
    p.body.append(emptyNote(EMPTY.flagged));
    return;
  }
  p.body.append(
    h(
      "ul",
      { class: "recent" },
      ...page.exchanges.map((x) =>
        h(
          "li",
          {},
          h("a", { href: linkTo(ctx.state, "quality", { x: String(x.id) }) }, fmtTime(x.time_ms)),
          " ",
          x.request_model,
          " ",
          h("span", { class: "muted" }, x.scores.filter((sc) => sc.label).map((sc) => sc.scorer).join(", ")),
        ),
      ),
    ),
  );
}
