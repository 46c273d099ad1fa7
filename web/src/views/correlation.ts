// Correlation: for one model, latency, load, GPU and quality on one shared time axis,
// and quality against latency and load per replica.
import { queryRange, type RangeSeries } from "../api";
import { lines, scatter, timeChart, type Line, type ScatterGroup, type TimeChartOptions, type Unit } from "../charts";
import { h } from "../dom";
import { EMPTY } from "../help";
import { displayName } from "../names";
import { quote } from "../state";
import { errorText, isAbort, names, panel, section, type Ctx } from "../view";
import { ENGINE, sel } from "./queries";

export async function correlation(ctx: Ctx): Promise<void> {
  const { rw, range } = ctx;
  const model = ctx.state.model || ctx.options.model[0] || "";
  const s = { ...ctx.state, model };
  const picker = h(
    "label",
    { class: "field" },
    h("span", {}, "Model"),
    h(
      "select",
      { name: "correlation-model", onchange: (e: Event) => ctx.nav({ model: (e.target as HTMLSelectElement).value }) },
      ...ctx.options.model.map((m) => {
        const o = h("option", { value: m }, m);
        o.selected = m === model;
        return o;
      }),
    ),
  );
  const gw = `{gen_ai_request_model=${quote(model)}}`;
  const queries = {
    ttft: `histogram_quantile(0.95, sum by (le) (rate(gen_ai_server_time_to_first_token_seconds_bucket${gw}[${rw}])))`,
    e2e: `histogram_quantile(0.95, sum by (le) (rate(gen_ai_client_operation_duration_seconds_bucket${gw}[${rw}])))`,
    engineTtft: `histogram_quantile(0.95, sum by (le, instance) (rate(${sel(s, ENGINE.ttft, "engine")}[${rw}])))`,
    rps: `sum(rate(gen_ai_client_operation_duration_seconds_count${gw}[${rw}]))`,
    running: `sum by (instance) (${sel(s, ENGINE.running, "engine")})`,
    waiting: `sum by (instance) (${sel(s, ENGINE.waiting, "engine")})`,
    gpu: `avg(${sel(s, "DCGM_FI_DEV_GPU_UTIL", "gpu")})`,
    kv: `avg by (instance) (${sel(s, ENGINE.kv, "engine")})`,
    quality: `sum by (gen_ai_evaluation_name) (rate(gen_ai_evaluation_score_sum${gw}[${rw}])) / sum by (gen_ai_evaluation_name) (rate(gen_ai_evaluation_score_count${gw}[${rw}]))`,
    flaggedShare: `sum(rate(infersight_quality_flagged_total${gw}[${rw}])) / sum(rate(gen_ai_evaluation_score_count${gw}[${rw}]))`,
  };
  const keys = Object.keys(queries) as (keyof typeof queries)[];
  const [, ...settled] = await Promise.allSettled([names(ctx), ...keys.map((k) => queryRange(queries[k], range, ctx.signal))]);
  if (ctx.signal.aborted) return;
  const data = {} as Record<keyof typeof queries, RangeSeries[]>;
  const errors: string[] = [];
  keys.forEach((k, i) => {
    const r = settled[i];
    data[k] = r.status === "fulfilled" ? (r.value as RangeSeries[]) : [];
    if (r.status === "rejected" && !isAbort(r.reason)) errors.push(errorText(r.reason));
  });
  const sync = "correlation";
  const chart = (title: string, ls: Line[], opts: TimeChartOptions & { unit: Unit; emptyText: string }) => {
    const p = panel(title, { full: true, unit: opts.unit });
    const el = h("div", { class: "chart" });
    p.body.append(el);
    queueMicrotask(() => timeChart(el, ls, range, { ...opts, sync, height: 140 }));
    return p.el;
  };
  const tag = (rs: RangeSeries[], prefix: string, dash = false) => lines(rs, undefined, prefix).map((l) => ({ ...l, dash }));
  const top = h("div", { class: "inline-filters" }, picker, h("span", { class: "muted" }, "Hover one chart to see the same moment in all."));
  const stack = section(
    `Shared time axis: ${model || "no model"}`,
    chart("Time to first token (TTFT) p95: gateway (solid), engine by replica (dashed)", [...tag(data.ttft, "gateway TTFT"), ...tag(data.engineTtft, "engine TTFT · ", true)], { unit: "s", emptyText: EMPTY.gateway }),
    chart("End-to-end latency p95 (gateway)", tag(data.e2e, "gateway e2e"), { unit: "s", emptyText: EMPTY.gateway }),
    chart("Requests/s (gateway)", tag(data.rps, "requests/s"), { unit: "req/s", emptyText: EMPTY.gateway }),
    chart("Running (solid) and waiting (dashed) requests by replica", [...tag(data.running, "running · "), ...tag(data.waiting, "waiting · ", true)], { unit: "req", emptyText: EMPTY.engine }),
    chart("GPU utilisation (solid) and KV cache by replica (dashed)", [...tag(data.gpu, "GPU util").map((l) => ({ ...l, values: l.values.map(([t, v]) => [t, String(Number(v) / 100)] as [number, string]) })), ...tag(data.kv, "KV · ", true)], { unit: "%", min: 0, max: 1, emptyText: EMPTY.gpu }),
    chart("Flagged share", tag(data.flaggedShare, "flagged share"), { unit: "%", min: 0, emptyText: EMPTY.flagged }),
    chart("Mean score by scorer (higher = more of what the scorer detects)", tag(data.quality, ""), { unit: "score", min: 0, max: 1, emptyText: EMPTY.scores }),
  );
  // Scatter: at each step, a replica's latency or load against the model's flagged share then.
  const quality = new Map((data.flaggedShare[0]?.values ?? []).map(([t, v]) => [t, Number(v)]));
  const pointsOf = (rs: RangeSeries[]): ScatterGroup[] =>
    rs.map((r) => ({
      label: displayName(r.metric).text || "replica",
      title: displayName(r.metric).title,
      points: r.values.filter(([t]) => quality.has(t)).map(([t, v]) => [Number(v), quality.get(t) as number] as [number, number]),
    }));
  const sc1 = panel("Flagged share against TTFT p95, per replica", { wide: true });
  const sc2 = panel("Flagged share against running requests, per replica", { wide: true });
  const el1 = h("div", { class: "chart" });
  const el2 = h("div", { class: "chart" });
  sc1.body.append(el1);
  sc2.body.append(el2);
  ctx.root.append(top, stack, section("Quality against latency and load", sc1.el, sc2.el));
  if (errors.length) sc2.note([...new Set(errors)].join("; "), true);
  scatter(el1, pointsOf(data.engineTtft), "s", "%", "TTFT p95", "flagged share", 220, EMPTY.engineLatency);
  scatter(el2, pointsOf(data.running), "req", "%", "running requests", "flagged share", 220, EMPTY.engine);
  await new Promise((r) => setTimeout(r, 0));
}
