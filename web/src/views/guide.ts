// The first visit: a dismissible panel on the overview that says where to look first,
// and, when the fleet is `infersight demo`'s simulated one, where each scripted incident shows.
import { query } from "../api";
import { h } from "../dom";
import { linkTo, VIEWS, type View } from "../state";
import type { Ctx } from "../view";

/** Set once the guide is closed; it never shows again in this browser. */
export const GUIDE_KEY = "infersight-guide-dismissed";

const VIEW_HELP: Record<View, [string, string]> = {
  overview: ["Overview", "is anything unhealthy now? Red, amber and green per model; every tile links to the view behind it."],
  performance: ["Performance", "how fast: time to first token, inter-token and end-to-end latency, as the gateway and the engines see them."],
  capacity: ["Capacity", "how full: GPUs, KV cache, queues and running batches per replica, traffic per zone."],
  reliability: ["Reliability", "what fails: gateway errors by type and upstream, targets down, preemptions, GPU XID errors."],
  quality: ["Quality", "how well: scores, drift, judges and golden probes, and the flagged exchanges themselves (click one)."],
  compare: ["Compare", "should this traffic move? Two models, label sets or the time before and after a deploy side by side: each metric's difference, 95 % interval, p-value and verdict, and every model's quality against its cost."],
  cost: ["Cost", "what it costs: spend by model and upstream over time, GPU idle cost, $ per 1M output tokens and quality per dollar (needs [[cost.model]] or [[cost.gpu]] prices)."],
  correlation: ["Correlation", "one model's latency, load, GPU and quality on one time axis."],
  explore: ["Explore", "any PromQL query, with completion, as a graph or a table."],
  status: ["Status", "what infersight itself collects and whether it works: targets, upstreams, quality queue, judge budget, storage."],
};

/** The replicas of `infersight demo`'s fleet (crates/sim/src/demo.rs), which name its targets by their `replica` label. */
const DEMO_REPLICAS = ["vllm-llama-1a", "vllm-llama-1b", "vllm-llama-fp8-1b", "vllm-qwen-1a", "sglang-qwen-1b", "sglang-r1-1a", "sglang-r1-1b"];

/** The demo's scripted incidents in the past (crates/sim/src/demo.rs), and where each shows. */
const DEMO_INCIDENTS: { what: string; view: View; extra?: Record<string, string>; where: string; range?: string }[] = [
  { what: "KV-cache saturation on vllm-llama-1a (5 h before the demo started)", view: "capacity", where: "KV-cache usage and queue depth by instance; TTFT p95 by replica on Performance" },
  { what: "GPU thermal throttling on sglang-r1-1a, GPU 1 (4 h before the demo started)", view: "capacity", where: "Temperature, power and SM clock of that GPU" },
  { what: "A traffic burst to Qwen 2.5 14B (3 h before the demo started)", view: "performance", where: "Requests/s by model and TTFT p95" },
  { what: "An XID error that crashes vllm-qwen-1a (2 h 30 min before the demo started)", view: "reliability", where: "GPU XID errors, targets down, scrape targets on Status" },
  { what: "A PII leak from vllm-llama-1b (1 h 45 min before the demo started)", view: "quality", extra: { scorer: "pii" }, where: "Flagged per minute by scorer, and the flagged exchanges" },
  { what: "Traffic shifting away from zone us-east-1a (1 h before the demo started)", view: "capacity", where: "Requests/s and tokens/s by zone" },
  { what: "A silent model swap on sglang-qwen-1b (40 min before the demo started)", view: "quality", where: "Drift p-value and the golden probes' pass rate; speed stays the same" },
  { what: "A deploy: Llama 3.1 8B's FP8 build takes half its traffic (2 h before the demo started, a deploy marker)", view: "compare", where: "the FP8 build against the full-precision model, faster and cheaper but worse on quality; spend per model on Cost", range: "1h" },
];

export function isGuideDismissed(): boolean {
  try {
    return localStorage.getItem(GUIDE_KEY) === "1";
  } catch {
    return false;
  }
}

/** The guide, or null once dismissed; `load` adds the demo's incidents when the fleet is the demo's. */
export function guide(ctx: Ctx): { el: HTMLElement; load: () => Promise<void> } | null {
  if (isGuideDismissed()) return null;
  const demo = h("div", { class: "guide-demo", hidden: true });
  const el = h(
    "section",
    { class: "guide", "data-guide": "", role: "region", "aria-label": "Where to look first" },
    h(
      "button",
      {
        class: "close",
        "data-action": "dismiss-guide",
        title: "Close this guide for good",
        onclick: () => {
          try {
            localStorage.setItem(GUIDE_KEY, "1");
          } catch {
            /* Private mode: closed for this page only. */
          }
          el.remove();
        },
      },
      "Got it ✕",
    ),
    h("h2", {}, "New here? Where to look first"),
    h(
      "p",
      {},
      "infersight watches how fast your models answer (engines, GPUs, the gateway) and how well (scores, drift, judges, probes). Each view answers one question; the filters above narrow every view to a model, engine, zone or instance, and dragging across a chart zooms in.",
    ),
    h(
      "ul",
      { class: "guide-views" },
      ...VIEWS.map((v) => h("li", {}, h("a", { href: linkTo(ctx.state, v), "data-view": v }, VIEW_HELP[v][0]), ": ", VIEW_HELP[v][1])),
    ),
    demo,
  );
  const load = async () => {
    const span = `${Math.max(60, Math.round(ctx.range.end - ctx.range.start))}s`;
    try {
      const r = await query(`count(last_over_time(up{replica=~"${DEMO_REPLICAS.join("|")}"}[${span}]))`, ctx.range.end, ctx.signal);
      if (!Array.isArray(r.result) || !r.result.length) return;
    } catch {
      return;
    }
    demo.append(
      h("h3", {}, "This is the simulated demo fleet: its scripted incidents"),
      h("p", { class: "muted" }, "infersight demo printed their times when it started; its default 6 h of history holds all of them. Each link opens the last 6 h; drag across a chart to zoom in on one."),
      h(
        "ol",
        {},
        ...DEMO_INCIDENTS.map((x) => h("li", {}, x.what, " → ", h("a", { href: linkTo({ ...ctx.state, range: x.range ?? "6h" }, x.view, x.extra ?? {}) }, VIEW_HELP[x.view][0]), h("span", { class: "muted" }, `: ${x.where}`))),
      ),
    );
    demo.hidden = false;
  };
  return { el, load };
}
