// Reliability: errors by type and upstream, scrape targets, preemptions, GPU XID errors.
import { queryRange } from "../api";
import { h } from "../dom";
import { quote } from "../state";
import { EMPTY } from "../help";
import { disambiguate, displayName } from "../names";
import { chartPanel, dot, emptyNote, errorText, isAbort, last, names, panel, section, type Ctx } from "../view";
import { sel } from "./queries";

export async function reliability(ctx: Ctx): Promise<void> {
  const { state: s, rw } = ctx;
  const dur = "gen_ai_client_operation_duration_seconds_count";
  const errSel = sel(s, dur, "gateway", ['error_type!=""']);
  const targets = panel("Scrape targets", { wide: true, id: "targets" });
  ctx.root.append(
    section(
      "Gateway errors",
      chartPanel(ctx, "Errors/s by type", [{ query: `sum by (error_type) (rate(${errSel}[${rw}]))` }], { unit: "err/s", emptyText: EMPTY.noErrors }),
      chartPanel(ctx, "Errors/s by upstream", [{ query: `sum by (server_address, gen_ai_provider_name) (rate(${errSel}[${rw}]))` }], { unit: "err/s", emptyText: EMPTY.noErrors }),
      chartPanel(ctx, "Requests/s by status class", [{ query: `sum by (status_class) (rate(${sel(s, "infersight_gateway_requests_total", "gateway")}[${rw}]))` }], { unit: "req/s", emptyText: EMPTY.gateway }),
    ),
    section(
      "Targets and engines",
      targets.el,
      chartPanel(ctx, "Targets down by job", [{ query: `count by (job) (${upSel(s)} == 0) or sum by (job) (0 * ${upSel(s)})` }], { unit: "count", min: 0, emptyText: EMPTY.targets }),
      chartPanel(ctx, "Preemptions and retractions/s by instance", [
        { query: `sum by (instance) (rate(${sel(s, "vllm:num_preemptions_total", "engine")}[${rw}]))`, prefix: "vllm preempted · " },
        { query: `sum by (instance) (rate(${sel(s, "sglang:num_retracted_requests_total", "engine")}[${rw}]))`, prefix: "sglang retracted · " },
      ], { unit: "/s", emptyText: EMPTY.engine }),
      chartPanel(ctx, "GPU XID errors (last code)", [{ query: `max by (Hostname, gpu) (${sel(s, "DCGM_FI_DEV_XID_ERRORS", "gpu")})` }], { unit: "code", min: 0, emptyText: EMPTY.gpu }),
    ),
  );
  try {
    const [result] = await Promise.all([queryRange(upSel(s), ctx.range, ctx.signal), names(ctx)]);
    const sorted = result
      .map((r) => ({ m: r.metric, v: last(r.values) }))
      .sort((a, b) => (a.v ?? 0) - (b.v ?? 0) || `${a.m.job}${a.m.instance}`.localeCompare(`${b.m.job}${b.m.instance}`));
    const named = disambiguate(sorted.map(({ m }) => displayName(m)), (i) => sorted[i].m.job ?? "");
    const rows = sorted
      .map(({ m, v }, i) => {
        const name = named[i];
        return h("tr", {}, h("td", {}, dot(v === 1 ? "ok" : v === null ? "unknown" : "bad"), v === 1 ? " up" : " down"), h("td", {}, m.job ?? "–"), h("td", { title: name.title }, name.text || "–"), h("td", {}, m.serving_engine ?? "–"));
      });
    targets.body.append(
      rows.length
        ? h("div", { class: "table-wrap short" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "State"), h("th", {}, "Job"), h("th", {}, "Target"), h("th", {}, "Engine"))), h("tbody", {}, ...rows)))
        : emptyNote(EMPTY.targets),
    );
  } catch (e) {
    if (!isAbort(e)) targets.note(errorText(e), true);
  }
}

function upSel(s: Ctx["state"]): string {
  return s.instance ? `up{instance=${quote(s.instance)}}` : "up";
}
