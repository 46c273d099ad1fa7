// Judges and golden probes on the quality view: judge scores, agreement, spend against budget; probe pass rate and latency.
import { query } from "../api";
import { format } from "../charts";
import { h } from "../dom";
import { matchers } from "../state";
import { EMPTY } from "../help";
import { chartPanel, dot, errorText, health, isAbort, panel, section, type Ctx } from "../view";

const JUDGE_HELP = EMPTY.judge;
const PROBE_HELP = EMPTY.probe;

/** Judge verdicts as scores (higher is better), their agreement with the deterministic scorers and users, and spend. */
export function judgeSection(ctx: Ctx): HTMLElement {
  const { state: s, rw } = ctx;
  const judged = matchers(s, "gateway", ['gen_ai_evaluation_name=~"judge_.*"']);
  const by = "gen_ai_request_model, gen_ai_evaluation_name";
  const agree = (metric: string, keys: string) =>
    `sum by (${keys}) (rate(${metric}{agreement="agree"}[${rw}])) / sum by (${keys}) (rate(${metric}[${rw}]))`;
  return section(
    "Judges",
    chartPanel(ctx, "Judge score by model and rubric (higher is better)", [
      { query: `sum by (${by}) (rate(gen_ai_evaluation_score_sum${judged}[${rw}])) / sum by (${by}) (rate(gen_ai_evaluation_score_count${judged}[${rw}]))` },
    ], { wide: true, unit: "score", min: 0, max: 1, emptyText: JUDGE_HELP }),
    chartPanel(ctx, "Judge agreement with the deterministic scorer", [
      { query: agree("infersight_judge_agreement_total", "gen_ai_evaluation_name, scorer"), keys: ["gen_ai_evaluation_name", "scorer"] },
      { query: agree("infersight_feedback_judge_agreement_total", "gen_ai_evaluation_name"), prefix: "users vs ", keys: ["gen_ai_evaluation_name"], dash: true },
    ], { unit: "%", min: 0, max: 1, emptyText: EMPTY.judgeAgreement }),
    chartPanel(ctx, "Judge spend against budget", [
      { query: "infersight_judge_budget_used / infersight_judge_budget_limit", keys: ["judge", "limit"] },
    ], { unit: "%", min: 0, emptyText: EMPTY.budget }),
    chartPanel(ctx, "Judge calls per second by outcome", [
      { query: `sum by (judge, outcome) (rate(infersight_judge_requests_total[${rw}]))`, keys: ["judge", "outcome"] },
    ], { unit: "/s", emptyText: JUDGE_HELP }),
  );
}

interface ProbeRow {
  probe: string;
  model: string;
  passRate: number | null;
  last: number | null;
  duration: number | null;
  ttft: number | null;
}

/** Golden probes: a table of pass rate and latency per model and probe, and the same over time. */
export function probeSection(ctx: Ctx): { el: HTMLElement; load: () => Promise<void> } {
  const { state: s } = ctx;
  const sel = matchers(s, "gateway");
  const table = panel("Probes by model", { full: true, id: "probes", help: PROBE_HELP });
  const el = section(
    "Golden probes",
    table.el,
    chartPanel(ctx, "Probe pass rate by model", [
      { query: `avg by (gen_ai_request_model, probe) (infersight_probe_success${sel})`, keys: ["gen_ai_request_model", "probe"] },
    ], { unit: "%", min: 0, max: 1, emptyText: PROBE_HELP }),
    chartPanel(ctx, "Probe duration by model (end to end, through the gateway)", [
      { query: `max by (gen_ai_request_model, probe) (infersight_probe_duration_seconds${sel})`, keys: ["gen_ai_request_model", "probe"] },
    ], { unit: "s", min: 0, emptyText: PROBE_HELP }),
  );
  const load = async () => {
    const span = `${Math.max(60, Math.round(ctx.range.end - ctx.range.start))}s`;
    const at = ctx.range.end;
    const keys = "probe, gen_ai_request_model";
    const [passRate, lastRun, duration, ttft] = await Promise.all(
      [
        `avg by (${keys}) (avg_over_time(infersight_probe_success${sel}[${span}]))`,
        `avg by (${keys}) (last_over_time(infersight_probe_success${sel}[${span}]))`,
        `avg by (${keys}) (avg_over_time(infersight_probe_duration_seconds${sel}[${span}]))`,
        `avg by (${keys}) (avg_over_time(infersight_probe_time_to_first_token_seconds${sel}[${span}]))`,
      ].map((q) => query(q, at, ctx.signal)),
    );
    const rows = new Map<string, ProbeRow>();
    const fill = (result: unknown, field: "passRate" | "last" | "duration" | "ttft") => {
      for (const sample of (result as { metric: Record<string, string>; value: [number, string] }[]) ?? []) {
        const probe = sample.metric.probe ?? "?";
        const model = sample.metric.gen_ai_request_model ?? "?";
        const key = `${probe}\u0000${model}`;
        const row = rows.get(key) ?? { probe, model, passRate: null, last: null, duration: null, ttft: null };
        const v = Number(sample.value[1]);
        row[field] = Number.isFinite(v) ? v : null;
        rows.set(key, row);
      }
    };
    fill(passRate.result, "passRate");
    fill(lastRun.result, "last");
    fill(duration.result, "duration");
    fill(ttft.result, "ttft");
    if (!rows.size) {
      table.body.append(h("div", { class: "nodata ok" }, PROBE_HELP));
      return;
    }
    const sorted = [...rows.values()].sort((a, b) => a.probe.localeCompare(b.probe) || a.model.localeCompare(b.model));
    table.body.append(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "probes" },
          h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "Probe"), h("th", {}, "Model"), h("th", {}, "Pass rate"), h("th", {}, "Last run"), h("th", {}, "Duration"), h("th", {}, "TTFT"))),
          h(
            "tbody",
            {},
            ...sorted.map((r) =>
              h(
                "tr",
                { "data-probe": r.probe, "data-model": r.model },
                h("td", {}, dot(health(r.passRate, 0.9, 0.7, true))),
                h("td", {}, r.probe),
                h("td", {}, r.model),
                h("td", { class: "num" }, format(r.passRate, "%")),
                h("td", {}, r.last === null ? "–" : r.last >= 1 ? "passed" : "failed"),
                h("td", { class: "num" }, format(r.duration, "s")),
                h("td", { class: "num" }, format(r.ttft, "s")),
              ),
            ),
          ),
        ),
      ),
    );
  };
  return {
    el,
    load: () => load().catch((e) => void (!isAbort(e) && table.note(errorText(e), true))),
  };
}
