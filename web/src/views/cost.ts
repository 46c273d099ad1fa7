// Cost: what the fleet spends, by model and by upstream (GPU pool), the share
// of it GPUs spent idle, and what a million output tokens cost, from the
// recording rules infersight generates from [[cost.model]] and [[cost.gpu]].
import { query, type Sample } from "../api";
import { fmtDollars } from "../charts";
import { fmtNumber, h } from "../dom";
import { EMPTY } from "../help";
import { quote } from "../state";
import { chartPanel, emptyNote, errorText, isAbort, panel, section, withFleet, type Ctx } from "../view";

export async function cost(ctx: Ctx): Promise<void> {
  const s = ctx.state;
  const model = s.model ? `{gen_ai_request_model=${quote(s.model)}}` : "";
  const perHour = (expr: string) => `(${expr}) * 3600`;
  const table = panel("Spend over the range", { full: true, id: "cost-table", help: "avg_over_time of the cost rules over the range, times its length" });
  ctx.root.append(
    section("Spend", table.el),
    section(
      "Spend over time",
      chartPanel(ctx, "Spend by model", [{ query: perHour(withFleet(`sum by (gen_ai_request_model) (infersight:cost_dollars_per_second${model})`, `sum(infersight:cost_dollars_per_second${model})`, "gen_ai_request_model")) }], {
        unit: "$/h",
        min: 0,
        emptyText: EMPTY.cost,
        wide: true,
      }),
      chartPanel(ctx, "Spend by upstream (GPU pool)", [{ query: perHour(`sum by (gpu_pool) (infersight:gpu_cost_dollars_per_second${model})`) }], { unit: "$/h", min: 0, emptyText: EMPTY.costGpu }),
      chartPanel(ctx, "Spend by source", [{ query: perHour(`sum by (cost_source) (infersight:cost_dollars_per_second${model})`) }], { unit: "$/h", min: 0, emptyText: EMPTY.cost }),
      chartPanel(
        ctx,
        "GPU idle cost",
        [
          { query: perHour(`sum by (gpu_pool) (infersight:gpu_idle_cost_dollars_per_second${model})`) },
          { query: perHour(`label_replace(sum(infersight:gpu_idle_cost_dollars_per_second${model}), "gpu_pool", "all pools", "", "")`), dash: true },
        ],
        { unit: "$/h", min: 0, emptyText: EMPTY.costGpu, help: "What the GPUs cost while idle: each pool's price times (1 − utilisation)" },
      ),
    ),
    section(
      "Unit cost",
      chartPanel(ctx, "$ per 1M output tokens by model", [{ query: `infersight:cost_dollars_per_1m_output_tokens${model}` }], { unit: "$/1M", min: 0, emptyText: EMPTY.cost }),
      chartPanel(ctx, "$ per 1M requests by model", [{ query: `infersight:cost_dollars_per_1m_requests${model}` }], { unit: "$/1M", min: 0, emptyText: EMPTY.cost }),
      chartPanel(ctx, "Quality per dollar (judge scores)", [{ query: `infersight:quality_per_dollar{gen_ai_evaluation_name=~"judge_.*"${s.model ? `,gen_ai_request_model=${quote(s.model)}` : ""}}` }], {
        unit: "score",
        min: 0,
        emptyText: `${EMPTY.cost} Quality per dollar also needs a [[quality.judge]].`,
        help: "Mean judge score divided by $ per 1M output tokens: higher is more quality for the money",
      }),
    ),
  );
  await spendTable(ctx, table, model);
}

/** Per model: spend over the range, its idle share, $ per 1M output tokens. */
async function spendTable(ctx: Ctx, table: ReturnType<typeof panel>, model: string): Promise<void> {
  const length = Math.max(60, Math.round(ctx.range.end - ctx.range.start));
  const span = `${length}s`;
  const by = "sum by (gen_ai_request_model)";
  const at = ctx.range.end;
  let rows: Sample[][];
  try {
    rows = await Promise.all(
      [
        `${by} (avg_over_time(infersight:cost_dollars_per_second${model}[${span}])) * ${length}`,
        `${by} (avg_over_time(infersight:gpu_idle_cost_dollars_per_second${model}[${span}])) * ${length}`,
        `avg by (gen_ai_request_model) (avg_over_time(infersight:cost_dollars_per_1m_output_tokens${model}[${span}]))`,
        `${by} (increase(gen_ai_client_token_usage_sum{gen_ai_token_type="output"${model ? `,${model.slice(1, -1)}` : ""}}[${span}]))`,
      ].map(async (expr) => {
        const r = await query(expr, at, ctx.signal);
        return Array.isArray(r.result) ? (r.result as Sample[]) : [];
      }),
    );
  } catch (e) {
    if (!isAbort(e)) table.note(errorText(e), true);
    return;
  }
  const of = (r: Sample[]) => new Map(r.map((x) => [x.metric.gen_ai_request_model ?? "", Number(x.value[1])]));
  const [spend, idle, perM, tokens] = rows.map(of);
  if (!spend.size) {
    table.body.append(emptyNote(EMPTY.cost));
    return;
  }
  const total = [...spend.values()].reduce((a, b) => a + b, 0);
  const models = [...spend.keys()].sort((a, b) => (spend.get(b) ?? 0) - (spend.get(a) ?? 0));
  const tr = (name: string, s: number, i: number | undefined, p: number | undefined, t: number | undefined) =>
    h(
      "tr",
      {},
      h("td", {}, name || "(no model)"),
      h("td", { class: "num" }, fmtDollars(s)),
      h("td", { class: "num" }, total > 0 ? `${((s / total) * 100).toFixed(1)}%` : "–"),
      h("td", { class: "num" }, i === undefined ? "–" : `${fmtDollars(i)} (${s > 0 ? ((i / s) * 100).toFixed(0) : 0}%)`),
      h("td", { class: "num" }, fmtNumber(t ?? null)),
      h("td", { class: "num" }, fmtDollars(p ?? null)),
    );
  table.body.append(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "spend" },
        h("thead", {}, h("tr", {}, ...["Model", "Spend", "Share", "of it GPUs idle", "Output tokens", "$ per 1M output tokens"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...models.map((m) => tr(m, spend.get(m) ?? 0, idle.get(m), perM.get(m), tokens.get(m))), tr("All models", total, [...idle.values()].reduce((a, b) => a + b, 0), undefined, [...tokens.values()].reduce((a, b) => a + b, 0))),
      ),
    ),
  );
}
