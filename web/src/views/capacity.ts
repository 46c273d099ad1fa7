// Capacity: per GPU and per instance, how full things are, and where traffic goes.
import { queryRange, type RangeSeries } from "../api";
import { format } from "../charts";
import { h } from "../dom";
import { EMPTY } from "../help";
import { displayName } from "../names";
import { chartPanel, emptyNote, errorText, isAbort, last, names, panel, section, type Ctx } from "../view";
import { ENGINE, sel } from "./queries";

export async function capacity(ctx: Ctx): Promise<void> {
  const { state: s, rw } = ctx;
  const g = (name: string) => sel(s, name, "gpu");
  const gpuKeys = ["Hostname", "gpu"];
  const table = panel("GPUs", { full: true, id: "gpus" });
  ctx.root.append(
    section("GPUs", table.el),
    section(
      "GPU over time",
      chartPanel(ctx, "GPU utilisation", [{ query: g("DCGM_FI_DEV_GPU_UTIL"), keys: gpuKeys }], { unit: "pct", min: 0, max: 100, emptyText: EMPTY.gpu }),
      chartPanel(ctx, "GPU memory used", [{ query: `${g("DCGM_FI_DEV_FB_USED")} * 1048576`, keys: gpuKeys }], { unit: "bytes", emptyText: EMPTY.gpu }),
      chartPanel(ctx, "GPU memory used (of total)", [
        { query: `100 * ${g("DCGM_FI_DEV_FB_USED")} / (${g("DCGM_FI_DEV_FB_USED")} + ${g("DCGM_FI_DEV_FB_FREE")})`, keys: gpuKeys },
      ], { unit: "pct", min: 0, max: 100, emptyText: EMPTY.gpu }),
      chartPanel(ctx, "Power", [{ query: g("DCGM_FI_DEV_POWER_USAGE"), keys: gpuKeys }], { unit: "W", emptyText: EMPTY.gpu }),
      chartPanel(ctx, "Temperature", [{ query: g("DCGM_FI_DEV_GPU_TEMP"), keys: gpuKeys }], { unit: "°C", emptyText: EMPTY.gpu }),
    ),
    section(
      "Engines",
      chartPanel(ctx, "KV-cache usage by instance", [{ query: `max by (instance, model_name) (${sel(s, ENGINE.kv, "engine")})` }], { unit: "%", min: 0, max: 1, emptyText: EMPTY.engine }),
      chartPanel(ctx, "Queue depth by instance", [{ query: `sum by (instance) (${sel(s, ENGINE.waiting, "engine")})` }], { unit: "req", emptyText: EMPTY.engine }),
      chartPanel(ctx, "Running batch by instance", [{ query: `sum by (instance) (${sel(s, ENGINE.running, "engine")})` }], { unit: "req", emptyText: EMPTY.engine }),
    ),
    section(
      "Availability zones",
      chartPanel(ctx, "Requests/s by zone", [{ query: `sum by (availability_zone) (rate(${sel(s, ENGINE.requests, "engine")}[${rw}]))` }], { unit: "req/s", emptyText: EMPTY.zone }),
      chartPanel(ctx, "Generated tokens/s by zone", [{ query: `sum by (availability_zone) (rate(${sel(s, ENGINE.generation, "engine")}[${rw}]))` }], { unit: "tok/s", emptyText: EMPTY.zone }),
    ),
  );
  // The GPU table: the latest of each figure, from one batched query.
  const metricNames = ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_SM_CLOCK"];
  let result: RangeSeries[] = [];
  try {
    [result] = await Promise.all([queryRange(sel(s, metricNames, "gpu"), ctx.range, ctx.signal), names(ctx)]);
  } catch (e) {
    if (!isAbort(e)) table.note(errorText(e), true);
    return;
  }
  const gpus = new Map<string, { labels: Record<string, string>; v: Record<string, number | null> }>();
  for (const r of result) {
    const key = `${r.metric.Hostname ?? r.metric.instance}/${r.metric.gpu}`;
    const row = gpus.get(key) ?? { labels: r.metric, v: {} };
    row.v[r.metric.__name__ ?? ""] = last(r.values);
    gpus.set(key, row);
  }
  if (!gpus.size) {
    table.body.append(emptyNote(EMPTY.gpu));
    return;
  }
  const mib = 1048576;
  const rows = [...gpus.entries()].sort().map(([, { labels, v }]) => {
    const used = v.DCGM_FI_DEV_FB_USED;
    const total = used !== undefined && used !== null && v.DCGM_FI_DEV_FB_FREE != null ? used + v.DCGM_FI_DEV_FB_FREE : null;
    const frac = total ? (used ?? 0) / total : null;
    const host = labels.Hostname ? { text: labels.Hostname, title: labels.instance } : displayName(labels);
    return h(
      "tr",
      {},
      h("td", { title: host.title }, host.text || "–"),
      h("td", {}, labels.gpu ?? "–"),
      h("td", {}, labels.modelName ?? "–"),
      h("td", {}, labels.availability_zone ?? "–"),
      h("td", { class: "num" }, format(v.DCGM_FI_DEV_GPU_UTIL, "pct")),
      h("td", { class: "num" }, `${format(used == null ? null : used * mib, "bytes")} / ${format(total === null ? null : total * mib, "bytes")}`, h("meter", { min: 0, max: 1, value: frac ?? 0, high: 0.9 })),
      h("td", { class: "num" }, format(v.DCGM_FI_DEV_GPU_TEMP, "°C")),
      h("td", { class: "num" }, format(v.DCGM_FI_DEV_POWER_USAGE, "W")),
      h("td", { class: "num" }, format(v.DCGM_FI_DEV_SM_CLOCK, "MHz")),
    );
  });
  table.body.append(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ...["Host", "GPU", "Model", "Zone", "Util", "Memory", "Temp", "Power", "SM clock"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...rows),
      ),
    ),
  );
}
