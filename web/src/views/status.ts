// Status: what infersight collects and whether it works: scrape targets, gateway upstreams,
// the quality queue, judge budgets, probes, storage, receivers and the build.
import { buildInfo, query, targets, tsdbStatus, type Sample, type Target } from "../api";
import { format } from "../charts";
import { fmtNumber, fmtTime, h } from "../dom";
import { EMPTY } from "../help";
import { disambiguate, displayName } from "../names";
import { matchers } from "../state";
import { chartPanel, dot, emptyNote, errorText, isAbort, names, panel, section, type Ctx, type Panel } from "../view";

export async function status(ctx: Ctx): Promise<void> {
  const { state: s, rw } = ctx;
  const dur = `gen_ai_client_operation_duration_seconds_count${matchers(s, "gateway")}`;
  const errs = `gen_ai_client_operation_duration_seconds_count${matchers(s, "gateway", ['error_type!=""'])}`;
  const targetsPanel = panel("Scrape targets", { full: true, id: "targets" });
  const upstreams = panel("Gateway upstreams", { wide: true, id: "upstreams" });
  const store = panel("Store", { id: "store" });
  const largest = panel("Largest metrics", { id: "largest", help: "Series per metric name in the store (top 10)" });
  const build = panel("Build", { id: "build" });
  const remote = panel("Remote write out", { id: "remote-write" });
  const exposed = h("div", { class: "warning", id: "unauthenticated", hidden: true });
  ctx.root.append(
    exposed,
    section(
      "Scraping",
      targetsPanel.el,
      chartPanel(ctx, "Scrape duration by job", [{ query: "max by (job) (scrape_duration_seconds)" }], { unit: "s", min: 0, emptyText: EMPTY.targets }),
      chartPanel(ctx, "Scrape failures/s by job and reason", [
        { query: `sum by (exported_job, reason) (rate(infersight_scrape_failures_total[${rw}]))`, keys: ["exported_job", "reason"] },
      ], { unit: "/s", min: 0, emptyText: EMPTY.noFailures }),
    ),
    section(
      "Gateway",
      upstreams.el,
      chartPanel(ctx, "Requests/s by upstream", [{ query: `sum by (server_address) (rate(${dur}[${rw}]))` }], { unit: "req/s", min: 0, emptyText: EMPTY.gateway }),
      chartPanel(ctx, "Error ratio by upstream", [
        { query: `sum by (server_address) (rate(${errs}[${rw}])) / sum by (server_address) (rate(${dur}[${rw}]))` },
      ], { unit: "%", min: 0, emptyText: EMPTY.noErrors }),
      chartPanel(ctx, "Connection errors/s by upstream", [
        { query: `sum by (upstream) (rate(infersight_gateway_upstream_connect_errors_total[${rw}]))` },
      ], { unit: "err/s", min: 0, emptyText: EMPTY.noFailures }),
    ),
    section(
      "Quality queue",
      chartPanel(ctx, "Exchanges kept/s by reason", [
        { query: `sum by (reason) (rate(infersight_exchanges_sampled_total${matchers(s, "gateway")}[${rw}]))` },
      ], { unit: "/s", min: 0, emptyText: EMPTY.scores }),
      chartPanel(ctx, "Exchanges lost/s: queue full, or a stage failed", [
        { query: `sum(rate(infersight_gateway_exchanges_dropped_total[${rw}]))`, prefix: "queue full" },
        { query: `sum by (stage) (rate(infersight_quality_failures_total[${rw}]))`, prefix: "failed · ", dash: true },
      ], { unit: "/s", min: 0, emptyText: EMPTY.noLoss }),
      chartPanel(ctx, "Judge budget used", [
        { query: "infersight_judge_budget_used / infersight_judge_budget_limit", keys: ["judge", "limit"] },
      ], { unit: "%", min: 0, emptyText: EMPTY.budget }),
      chartPanel(ctx, "Judge calls/s by outcome", [
        { query: `sum by (judge, outcome) (rate(infersight_judge_requests_total[${rw}]))`, keys: ["judge", "outcome"] },
      ], { unit: "/s", min: 0, emptyText: EMPTY.judge }),
      chartPanel(ctx, "Probe pass rate by probe and model", [
        { query: `avg by (probe, gen_ai_request_model) (infersight_probe_success${matchers(s, "gateway")})`, keys: ["probe", "gen_ai_request_model"] },
      ], { unit: "%", min: 0, max: 1, emptyText: EMPTY.probe }),
      chartPanel(ctx, "Probe failures/s by reason", [
        { query: `sum by (probe, reason) (rate(infersight_probe_failures_total[${rw}]))`, keys: ["probe", "reason"] },
      ], { unit: "/s", min: 0, emptyText: EMPTY.noFailures }),
    ),
    section(
      "Storage",
      store.el,
      largest.el,
      chartPanel(ctx, "Series in the head", [{ query: "sum(infersight_tsdb_head_series)", prefix: "head series" }], { unit: "count", min: 0, emptyText: EMPTY.self }),
      chartPanel(ctx, "On disk: blocks and write-ahead log", [
        { query: "sum(infersight_tsdb_blocks_bytes)", prefix: "blocks" },
        { query: "sum(infersight_tsdb_wal_bytes)", prefix: "WAL", dash: true },
      ], { unit: "bytes", min: 0, emptyText: EMPTY.self }),
      chartPanel(ctx, "Samples received/s: remote write and OTLP", [
        {
          query: `label_replace(sum(rate(infersight_remote_write_samples_total[${rw}])), "via", "remote write", "", "") or label_replace(sum(rate(infersight_otlp_samples_total[${rw}])), "via", "OTLP", "", "")`,
          keys: ["via"],
        },
      ], { unit: "/s", min: 0, emptyText: EMPTY.received }),
      remote.el,
      build.el,
    ),
  );
  const guard = (p: Panel) => (e: unknown) => void (!isAbort(e) && p.note(errorText(e), true));
  await Promise.all([
    targetTable(ctx, targetsPanel).catch(guard(targetsPanel)),
    upstreamTable(ctx, upstreams, dur, errs).catch(guard(upstreams)),
    storeStatus(ctx, store, largest).catch(guard(store)),
    remoteWrite(ctx, remote).catch(guard(remote)),
    query("infersight_listener_unauthenticated == 1", ctx.range.end, ctx.signal)
      .then((r) => {
        const listeners = ((r.result as Sample[]) ?? []).map((x) => x.metric.listen).filter(Boolean);
        if (!listeners.length) return;
        exposed.textContent = `Serving without authentication on ${listeners.join(", ")} ([server] allow_unauthenticated = true): anyone who reaches it can read every stored prompt. Set [server] web_config with basic_auth_users or add [[auth.token]].`;
        exposed.hidden = false;
      })
      .catch(() => undefined),
    buildInfo(ctx.signal)
      .then((b) => build.body.append(kv([["Version", b.version], ["Revision", b.revision], ["Branch", b.branch], ["Built", b.buildDate], ["Built by", b.buildUser]])))
      .catch(guard(build)),
  ]);
}

/** A definition list; empty values show as a dash. */
function kv(rows: [string, string | number | undefined][]): HTMLElement {
  return h("dl", { class: "kv" }, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v === undefined || v === "" ? "–" : String(v))]));
}

function ago(rfc3339: string): string {
  const t = Date.parse(rfc3339);
  if (!Number.isFinite(t) || t <= 0) return "never";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

/** Every target from `/api/v1/targets`; from the `up` series where the API has no such endpoint. */
async function targetTable(ctx: Ctx, p: Panel): Promise<void> {
  let list: Target[];
  try {
    [list] = await Promise.all([targets(ctx.signal), names(ctx)]);
  } catch (e) {
    if (isAbort(e)) throw e;
    const up = await query("up", ctx.range.end, ctx.signal);
    list = ((up.result as Sample[]) ?? []).map((x) => ({
      discoveredLabels: {},
      labels: x.metric,
      scrapePool: x.metric.job ?? "",
      scrapeUrl: x.metric.instance ?? "",
      lastError: "",
      lastScrape: "",
      lastScrapeDuration: NaN,
      health: x.value[1] === "1" ? "up" : "down",
      scrapeInterval: "",
    }));
  }
  if (!list.length) {
    p.body.append(emptyNote(EMPTY.targets));
    return;
  }
  const order = { down: 0, unknown: 1, up: 2 };
  list.sort((a, b) => order[a.health] - order[b.health] || a.scrapePool.localeCompare(b.scrapePool) || a.scrapeUrl.localeCompare(b.scrapeUrl));
  const down = list.filter((t) => t.health === "down").length;
  p.note(`${list.length} targets, ${down} down`, false);
  // Names are made distinct within a job (a replica's engine and GPU exporter may share one).
  const named = disambiguate(list.map((t) => displayName(t.labels)), (i) => list[i].scrapePool);
  const rows = list.map((t, i) => {
    const name = named[i];
    return h(
      "tr",
      { "data-health": t.health },
      h("td", {}, dot(t.health === "up" ? "ok" : t.health === "down" ? "bad" : "unknown"), ` ${t.health}`),
      h("td", {}, t.scrapePool || "–"),
      h("td", { title: t.scrapeUrl || name.title }, name.text || "–"),
      h("td", {}, t.labels.serving_engine ?? "–"),
      h("td", {}, t.labels.availability_zone ?? "–"),
      h("td", {}, t.lastScrape ? ago(t.lastScrape) : "–"),
      h("td", { class: "num" }, format(t.lastScrapeDuration, "s")),
      h("td", { class: "error" }, t.lastError),
    );
  });
  p.body.append(
    h(
      "div",
      { class: "table-wrap short" },
      h(
        "table",
        { class: "targets" },
        h("thead", {}, h("tr", {}, ...["State", "Job", "Target", "Engine", "Zone", "Last scrape", "Took", "Last error"].map((x) => h("th", {}, x)))),
        h("tbody", {}, ...rows),
      ),
    ),
  );
}

/** Requests/s and error ratio per upstream (`server_address`), averaged over the range. */
async function upstreamTable(ctx: Ctx, p: Panel, dur: string, errs: string): Promise<void> {
  const span = `${Math.max(60, Math.round(ctx.range.end - ctx.range.start))}s`;
  const [requests, errors] = await Promise.all([
    query(`sum by (server_address) (rate(${dur}[${span}]))`, ctx.range.end, ctx.signal),
    query(`sum by (server_address) (rate(${errs}[${span}]))`, ctx.range.end, ctx.signal),
    names(ctx),
  ]);
  const rate = (r: unknown) => new Map(((r as Sample[]) ?? []).map((x) => [x.metric.server_address ?? "", Number(x.value[1])]));
  const req = rate(requests.result);
  const err = rate(errors.result);
  if (!req.size) {
    p.body.append(emptyNote(EMPTY.gateway));
    return;
  }
  const entries = [...req.entries()].sort((a, b) => b[1] - a[1]);
  const labels = disambiguate(entries.map(([address]) => displayName({ server_address: address }, "server_address")));
  const rows = entries
    .map(([address, r], i) => {
      const name = labels[i];
      const ratio = r > 0 ? (err.get(address) ?? 0) / r : null;
      return h(
        "tr",
        {},
        h("td", { title: name.title }, name.text || "(no upstream)"),
        h("td", { class: "num" }, format(r, "req/s")),
        h("td", { class: `num ${ratio !== null && ratio >= 0.05 ? "bad" : ratio !== null && ratio >= 0.01 ? "warn" : ""}` }, h("div", {}, format(ratio, "%"))),
      );
    });
  p.body.append(
    h("div", { class: "table-wrap short" }, h("table", { class: "upstreams" }, h("thead", {}, h("tr", {}, h("th", {}, "Upstream"), h("th", { title: "Averaged over the range" }, "Requests/s"), h("th", { title: "Share of requests that failed, over the range" }, "Errors"))), h("tbody", {}, ...rows))),
  );
}

async function storeStatus(ctx: Ctx, p: Panel, largest: Panel): Promise<void> {
  const st = await tsdbStatus(ctx.signal);
  const head = st.headStats;
  const time = (ms: number) => (Number.isFinite(ms) && ms > 0 && ms < 8.64e15 ? fmtTime(ms) : "–");
  p.body.append(
    kv([
      ["Series in the head", fmtNumber(head.numSeries)],
      ["Label pairs", fmtNumber(head.numLabelPairs)],
      ["Chunks in the head", fmtNumber(head.chunkCount)],
      ["Oldest head sample", time(head.minTime)],
      ["Newest head sample", time(head.maxTime)],
    ]),
  );
  const top = st.seriesCountByMetricName ?? [];
  largest.body.append(
    top.length
      ? h("div", { class: "table-wrap short" }, h("table", { class: "largest" }, h("tbody", {}, ...top.map((x) => h("tr", {}, h("td", { class: "series" }, x.name), h("td", { class: "num" }, fmtNumber(x.value)))))))
      : emptyNote(EMPTY.targets),
  );
}

/** The lag of remote write out, only where infersight reports one. */
async function remoteWrite(ctx: Ctx, p: Panel): Promise<void> {
  const span = `${Math.max(60, Math.round(ctx.range.end - ctx.range.start))}s`;
  const r = await query(`count(last_over_time(infersight_remote_storage_highest_timestamp_in_seconds[${span}]))`, ctx.range.end, ctx.signal);
  if (!Array.isArray(r.result) || !r.result.length) {
    p.el.dataset.configured = "false";
    p.body.append(emptyNote(EMPTY.remoteWrite));
    return;
  }
  p.el.dataset.configured = "true";
  p.el.replaceWith(
    chartPanel(ctx, "Remote write out: seconds behind", [
      { query: "time() - max by (remote_name, url) (infersight_remote_storage_highest_timestamp_in_seconds)", keys: ["remote_name", "url"] },
    ], { unit: "s", min: 0, emptyText: EMPTY.remoteWrite, id: "remote-write" }),
  );
}
