// Quality: scores per model and scorer over time, drift per model, flagged exchanges and their detail.
import { exchange, exchanges, type Exchange } from "../api";
import { h, fmtNumber, fmtTime } from "../dom";
import { exchangeDetail } from "../exchange";
import { judgeSection, probeSection } from "./judging";
import { driftSection } from "./overview";
import { matchers } from "../state";
import { EMPTY } from "../help";
import { chartPanel, errorText, isAbort, isForbidden, panel, section, type Ctx } from "../view";

export async function quality(ctx: Ctx): Promise<void> {
  const { state: s, rw } = ctx;
  const scorer = s.extra.scorer ?? "";
  const sel = matchers(s, "gateway", scorer ? [`gen_ai_evaluation_name="${scorer.replace(/["\\]/g, "")}"`] : []);
  // The deterministic scorers' scores (higher = more of what they detect);
  // the judges' scores (higher is better) have a section of their own.
  const scorers = matchers(s, "gateway", [scorer ? `gen_ai_evaluation_name="${scorer.replace(/["\\]/g, "")}"` : 'gen_ai_evaluation_name!~"judge_.*"']);
  const by = "gen_ai_request_model, gen_ai_evaluation_name";
  const flaggedPanel = panel("Flagged exchanges", { full: true, id: "flagged" });
  const drift = panel("Drift status by model", { id: "drift" });
  const probes = probeSection(ctx);
  ctx.root.append(
    section(
      "Scores",
      chartPanel(ctx, "Mean score by model and scorer (higher = more of what the scorer detects)", [
        { query: `sum by (${by}) (rate(gen_ai_evaluation_score_sum${scorers}[${rw}])) / sum by (${by}) (rate(gen_ai_evaluation_score_count${scorers}[${rw}]))` },
      ], { wide: true, unit: "score", min: 0, max: 1, emptyText: EMPTY.scores }),
      chartPanel(ctx, "Flagged per minute by scorer", [{ query: `60 * sum by (gen_ai_evaluation_name) (rate(infersight_quality_flagged_total${sel}[${rw}]))` }], { unit: "/min", emptyText: EMPTY.flagged }),
      chartPanel(ctx, "Flagged share by model", [
        { query: `sum by (gen_ai_request_model) (rate(infersight_quality_flagged_total${sel}[${rw}])) / sum by (gen_ai_request_model) (rate(gen_ai_evaluation_score_count${sel}[${rw}]))` },
      ], { unit: "%", min: 0, emptyText: EMPTY.flagged }),
      drift.el,
      chartPanel(ctx, "Drift p-value by model (below 0.01 is drift)", [
        { query: `infersight_quality_drift_p_value${matchers(s, "gateway")}`, keys: ["gen_ai_request_model"] },
      ], { unit: "p", min: 0, max: 1, emptyText: EMPTY.drift }),
      chartPanel(ctx, "Drift detected (1 = drift)", [{ query: `max by (gen_ai_request_model) (infersight_quality_drift_detected${matchers(s, "gateway")}) or max(infersight_quality_drift_detected)`, prefix: "drift " }], { unit: "count", min: 0, max: 1, emptyText: EMPTY.drift }),
      chartPanel(ctx, "Scores per second by scorer", [{ query: `sum by (gen_ai_evaluation_name) (rate(gen_ai_evaluation_score_count${sel}[${rw}]))` }], { unit: "/s", emptyText: EMPTY.scores }),
    ),
    judgeSection(ctx),
    probes.el,
    section("Flagged exchanges", flaggedPanel.el),
  );
  const filterBar = h(
    "div",
    { class: "inline-filters" },
    h(
      "label",
      { class: "field" },
      h("span", {}, "Scorer"),
      h("input", {
        name: "scorer",
        value: scorer,
        placeholder: "any",
        onchange: (e: Event) => ctx.nav({ extra: { ...s.extra, scorer: (e.target as HTMLInputElement).value.trim() } }),
      }),
    ),
  );
  flaggedPanel.body.append(filterBar);
  const tbody = h("tbody", {});
  const more = h("button", { class: "more", hidden: true }, "Older…");
  flaggedPanel.body.append(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "flagged" },
        h("thead", {}, h("tr", {}, h("th", {}, "Time"), h("th", {}, "Model"), h("th", {}, "Flagged by"), h("th", {}, "Status"), h("th", {}, "E2E"), h("th", {}, "Response"))),
        tbody,
      ),
    ),
    more,
  );
  const open = (id: number) => ctx.nav({ extra: { ...s.extra, x: String(id) } });
  const load = async (before?: number) => {
    const page = await exchanges(
      { flagged: scorer || "any", model: s.model, start: ctx.range.start, end: ctx.range.end, limit: 50, before },
      ctx.signal,
    );
    for (const x of page.exchanges) tbody.append(row(x, open));
    if (!tbody.children.length) tbody.append(h("tr", {}, h("td", { colspan: 6, class: "nodata ok" }, EMPTY.flagged)));
    more.hidden = page.next_before === null;
    more.onclick = () => void load(page.next_before ?? undefined);
  };
  const jobs: Promise<unknown>[] = [
    load().catch((e) => !isAbort(e) && flaggedPanel.note(errorText(e), !isForbidden(e))),
    driftSection(ctx, drift).catch((e) => !isAbort(e) && drift.note(errorText(e), true)),
    probes.load(),
  ];
  if (s.extra.x) jobs.push(showExchange(ctx, s.extra.x));
  await Promise.all(jobs);
}

function row(x: Exchange, open: (id: number) => void): HTMLElement {
  const flaggedBy = (x.scores ?? []).filter((sc) => sc.label).map((sc) => sc.scorer);
  const preview = (x.response ?? "").slice(0, 90);
  return h(
    "tr",
    { class: "clickable", tabindex: 0, "data-id": String(x.id), onclick: () => open(x.id), onkeydown: (e: Event) => (e as KeyboardEvent).key === "Enter" && open(x.id) },
    h("td", {}, fmtTime(x.time_ms)),
    h("td", {}, x.request_model ?? "–"),
    h("td", {}, flaggedBy.join(", ") || "–"),
    h("td", {}, x.status === null ? "–" : String(x.status)),
    h("td", { class: "num" }, fmtNumber(x.timings?.e2e ?? null, "s")),
    h("td", { class: "preview" }, preview),
  );
}

async function showExchange(ctx: Ctx, id: string): Promise<void> {
  const close = () => {
    const extra = { ...ctx.state.extra };
    delete extra.x;
    ctx.nav({ extra });
  };
  const box = h("div", { class: "drawer-body" }, h("div", { class: "muted" }, "Loading…"));
  const overlay = h(
    "div",
    { class: "drawer", role: "dialog", "aria-modal": "true", "aria-label": `Exchange ${id}` },
    h("button", { class: "close", onclick: close, "aria-label": "Close" }, "✕"),
    box,
  );
  overlay.addEventListener("keydown", (e) => (e as KeyboardEvent).key === "Escape" && close());
  ctx.root.append(h("div", { class: "backdrop", onclick: close }), overlay);
  try {
    const x = await exchange(id, ctx.signal);
    box.replaceChildren(exchangeDetail(x));
  } catch (e) {
    if (!isAbort(e)) box.replaceChildren(h("div", { class: "panel-note error" }, errorText(e)));
  }
}
