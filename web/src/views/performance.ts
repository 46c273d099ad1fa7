// Performance: TTFT, ITL and e2e over time, gateway-measured next to engine-reported; heatmaps; throughput.
import { queryRange } from "../api";
import { heatmap } from "../charts";
import { h } from "../dom";
import { matchers } from "../state";
import { EMPTY } from "../help";
import { chartPanel, errorText, isAbort, panel, section, type Ctx } from "../view";
import { ENGINE, engineQuantile, gatewayQuantile, sel } from "./queries";

export async function performance(ctx: Ctx): Promise<void> {
  const { state: s, rw } = ctx;
  const gwTtft = "gen_ai_server_time_to_first_token_seconds";
  const gwTpot = "gen_ai_server_time_per_output_token_seconds";
  const gwE2e = "gen_ai_client_operation_duration_seconds";
  const pair = (title: string, gw: string, engine: string[]) =>
    chartPanel(
      ctx,
      title,
      [
        { query: gatewayQuantile(s, 0.95, gw, rw), prefix: "gateway · " },
        { query: engineQuantile(s, 0.95, engine, rw, "model_name, serving_engine"), prefix: "engine · ", dash: true },
      ],
      { unit: "s", emptyText: EMPTY.gateway },
    );
  const heat = (title: string, hist: string) => {
    const p = panel(title, { help: `sum by (le) (rate(${hist}_bucket[...]))`, unit: "s" });
    const el = h("div", { class: "chart heat" });
    p.body.append(el);
    void queryRange(`sum by (le) (rate(${hist}_bucket${matchers(s, "gateway")}[${rw}]))`, ctx.range, ctx.signal)
      .then((r) => heatmap(el, r, ctx.range, 200, EMPTY.gateway))
      .catch((e) => !isAbort(e) && p.note(errorText(e), true));
    return p.el;
  };
  ctx.root.append(
    section(
      "Latency, gateway (solid) and engine (dashed), one measure per chart",
      pair("Time to first token (TTFT) p95", gwTtft, ENGINE.ttft),
      pair("Inter-token latency (ITL, time per output token) p95", gwTpot, ENGINE.itl),
      pair("End-to-end latency p95", gwE2e, ENGINE.e2e),
      chartPanel(
        ctx,
        "Time to first token (TTFT) p50",
        [
          { query: gatewayQuantile(s, 0.5, gwTtft, rw), prefix: "gateway · " },
          { query: engineQuantile(s, 0.5, ENGINE.ttft, rw, "model_name, serving_engine"), prefix: "engine · ", dash: true },
        ],
        { unit: "s", emptyText: EMPTY.gateway },
      ),
    ),
    section(
      "Per replica",
      chartPanel(ctx, "TTFT p95 by replica", [{ query: engineQuantile(s, 0.95, ENGINE.ttft, rw, "instance, serving_engine") }], { unit: "s", emptyText: EMPTY.engineLatency }),
      chartPanel(ctx, "ITL p95 by replica", [{ query: engineQuantile(s, 0.95, ENGINE.itl, rw, "instance, serving_engine") }], { unit: "s", emptyText: EMPTY.engineLatency }),
    ),
    section("Latency distribution (gateway)", heat("Time to first token heatmap", gwTtft), heat("End-to-end latency heatmap", gwE2e)),
    section(
      "Throughput",
      chartPanel(ctx, "Requests/s by model and operation", [
        { query: `sum by (gen_ai_request_model, gen_ai_operation_name) (rate(${gwE2e}_count${matchers(s, "gateway")}[${rw}]))` },
      ], { unit: "req/s", emptyText: EMPTY.gateway }),
      chartPanel(ctx, "Gateway tokens/s by model", [
        { query: `sum by (gen_ai_request_model, gen_ai_token_type) (rate(gen_ai_client_token_usage_sum${matchers(s, "gateway")}[${rw}]))` },
      ], { unit: "tok/s", emptyText: EMPTY.gateway }),
      chartPanel(ctx, "Engine tokens/s by replica (prompt dashed)", [
        { query: `sum by (instance) (rate(${sel(s, ENGINE.generation, "engine")}[${rw}]))`, prefix: "generated · " },
        { query: `sum by (instance) (rate(${sel(s, ENGINE.prompt, "engine")}[${rw}]))`, prefix: "prompt · ", dash: true },
      ], { unit: "tok/s", emptyText: EMPTY.engine }),
    ),
  );
}
