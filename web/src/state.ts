// URL state: the view and every setting live in the hash, so a URL is shareable.
//   #/overview?range=1h&end=1732370000&refresh=30s&model=m&engine=vllm&zone=z&instance=i

export const VIEWS = ["overview", "performance", "capacity", "reliability", "quality", "compare", "cost", "correlation", "explore", "status"] as const;
export type View = (typeof VIEWS)[number];

export interface State {
  view: View;
  /** Lookback, as a duration such as `1h`. */
  range: string;
  /** The end of the window in Unix seconds; absent means now. */
  end?: number;
  refresh: string;
  model: string;
  engine: string;
  zone: string;
  instance: string;
  /** View-specific parameters (explore query, open exchange, scorer, ...). */
  extra: Record<string, string>;
}

export const RANGES = ["15m", "1h", "3h", "6h", "12h", "24h", "2d", "7d"];
export const REFRESHES = ["off", "10s", "30s", "1m", "5m"];
const FILTERS = ["model", "engine", "zone", "instance"] as const;
export type FilterName = (typeof FILTERS)[number];

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as "s"];
  return n * unit;
}

export function parseHash(hash: string): State {
  const raw = hash.replace(/^#\/?/, "");
  const [path, qs = ""] = raw.split("?", 2);
  const p = new URLSearchParams(qs);
  const view = (VIEWS as readonly string[]).includes(path) ? (path as View) : "overview";
  const range = p.get("range") ?? "1h";
  const end = p.get("end");
  const extra: Record<string, string> = {};
  for (const [k, v] of p) {
    if (!["range", "end", "refresh", ...FILTERS].includes(k)) extra[k] = v;
  }
  return {
    view,
    range: parseDuration(range) > 0 ? range : "1h",
    end: end && Number.isFinite(Number(end)) ? Number(end) : undefined,
    refresh: REFRESHES.includes(p.get("refresh") ?? "") ? (p.get("refresh") as string) : "off",
    model: p.get("model") ?? "",
    engine: p.get("engine") ?? "",
    zone: p.get("zone") ?? "",
    instance: p.get("instance") ?? "",
    extra,
  };
}

export function formatHash(s: State): string {
  const p = new URLSearchParams();
  p.set("range", s.range);
  if (s.end !== undefined) p.set("end", String(s.end));
  if (s.refresh !== "off") p.set("refresh", s.refresh);
  for (const f of FILTERS) if (s[f]) p.set(f, s[f]);
  for (const [k, v] of Object.entries(s.extra)) if (v !== "") p.set(k, v);
  return `#/${s.view}?${p.toString()}`;
}

/** A link to `view` keeping the time range and filters, with `extra` replacing the view's own parameters. */
export function linkTo(s: State, view: View, extra: Record<string, string> = {}): string {
  return formatHash({ ...s, view, extra });
}

/** Escapes a label value for a PromQL string literal. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/**
 * Label matchers for the filters, for one family of series:
 * `gateway` (gateway and quality series: model only), `engine` (vLLM and
 * SGLang: model, engine, zone, instance) and `gpu` (DCGM: zone, instance).
 */
export function matchers(s: State, family: "gateway" | "engine" | "gpu", extra: string[] = []): string {
  const m: string[] = [...extra];
  if (family === "gateway" && s.model) m.push(`gen_ai_request_model=${quote(s.model)}`);
  if (family === "engine") {
    if (s.model) m.push(`model_name=${quote(s.model)}`);
    if (s.engine) m.push(`serving_engine=${quote(s.engine)}`);
  }
  if (family !== "gateway") {
    if (s.zone) m.push(`availability_zone=${quote(s.zone)}`);
    if (s.instance) m.push(`instance=${quote(s.instance)}`);
  }
  return m.length ? `{${m.join(",")}}` : "";
}
