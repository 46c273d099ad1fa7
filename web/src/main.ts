// The app shell: header, navigation, filter bar, theme, refresh, routing and the backfill banner.
import "./style.css";
import { backfill, labelValues, type Backfill } from "./api";
import { clear, h } from "./dom";
import { formatHash, linkTo, parseDuration, parseHash, RANGES, REFRESHES, VIEWS, type State, type View } from "./state";
import { isAbort, type Ctx, type ViewFn } from "./view";
import { overview } from "./views/overview";
import { performance as performanceView } from "./views/performance";
import { capacity } from "./views/capacity";
import { reliability } from "./views/reliability";
import { quality } from "./views/quality";
import { correlation } from "./views/correlation";
import { compare } from "./views/compare";
import { cost } from "./views/cost";
import { explore } from "./views/explore";
import { status } from "./views/status";

const RENDER: Record<View, ViewFn> = { overview, performance: performanceView, capacity, reliability, quality, compare, cost, correlation, explore, status };
const TITLES: Record<View, string> = {
  overview: "Overview",
  performance: "Performance",
  capacity: "Capacity",
  reliability: "Reliability",
  quality: "Quality",
  compare: "Compare",
  cost: "Cost",
  correlation: "Correlation",
  explore: "Explore",
  status: "Status",
};

const app = document.getElementById("app") as HTMLElement;
let controller: AbortController | null = null;
let timer: number | undefined;
let optionsKey = "";
let options: Ctx["options"] = { model: [], engine: [], zone: [], instance: [] };

function theme(): "light" | "dark" {
  const saved = localStorage.getItem("infersight-theme");
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function applyTheme(t: "light" | "dark"): void {
  document.documentElement.dataset.theme = t;
}

function nav(update: Partial<State>): void {
  const next = { ...parseHash(location.hash), ...update };
  location.hash = formatHash(next);
}

async function loadOptions(state: State, r: { start: number; end: number }, signal: AbortSignal): Promise<void> {
  const key = `${state.range}|${state.end ?? ""}`;
  if (key === optionsKey) return;
  const names = ["gen_ai_request_model", "model_name", "serving_engine", "availability_zone", "instance"];
  const got = await Promise.all(names.map((n) => labelValues(n, r, signal).catch(() => [] as string[])));
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  options = {
    model: uniq([...got[0], ...got[1]]),
    engine: uniq(got[2]),
    zone: uniq(got[3]),
    instance: uniq(got[4]),
  };
  optionsKey = key;
}

function select(name: string, label: string, values: string[], current: string, onChange: (v: string) => void, allLabel = "All"): HTMLElement {
  const s = h("select", { name, "aria-label": label, onchange: (e: Event) => onChange((e.target as HTMLSelectElement).value) });
  const all = allLabel ? [["", allLabel], ...values.map((v) => [v, v])] : values.map((v) => [v, v]);
  if (current && !values.includes(current)) all.push([current, current]);
  for (const [v, text] of all) {
    const o = h("option", { value: v }, text);
    if (v === current) o.selected = true;
    s.appendChild(o);
  }
  return h("label", { class: "field" }, h("span", {}, label), s);
}

function header(state: State): HTMLElement {
  const tabs = h(
    "nav",
    { class: "tabs", "aria-label": "Views" },
    ...VIEWS.map((v) => h("a", { href: linkTo(state, v, v === state.view ? state.extra : {}), class: v === state.view ? "active" : "", "data-view": v }, TITLES[v])),
  );
  const filters = h(
    "div",
    { class: "filters" },
    select("range", "Range", RANGES, state.range, (v) => nav({ range: v }), ""),
    state.end !== undefined ? h("button", { class: "chip", onclick: () => nav({ end: undefined }), title: "Back to now" }, "⟲ until now") : null,
    select("refresh", "Refresh", REFRESHES, state.refresh, (v) => nav({ refresh: v }), ""),
    select("model", "Model", options.model, state.model, (v) => nav({ model: v })),
    select("engine", "Engine", options.engine, state.engine, (v) => nav({ engine: v })),
    select("zone", "Zone", options.zone, state.zone, (v) => nav({ zone: v })),
    select("instance", "Instance", options.instance, state.instance, (v) => nav({ instance: v })),
    h(
      "button",
      {
        class: "theme",
        title: "Switch light/dark theme",
        "aria-label": "Switch theme",
        onclick: () => {
          const t = theme() === "dark" ? "light" : "dark";
          localStorage.setItem("infersight-theme", t);
          applyTheme(t);
          render();
        },
      },
      theme() === "dark" ? "☀" : "☾",
    ),
  );
  return h("header", { class: "top" }, h("a", { class: "brand", href: linkTo(state, "overview") }, "infersight"), tabs, filters);
}

async function render(): Promise<void> {
  controller?.abort();
  window.clearTimeout(timer);
  const ctl = new AbortController();
  controller = ctl;
  const state = parseHash(location.hash);
  applyTheme(theme());
  if (location.hash !== formatHash(state) && !location.hash.startsWith(`#/${state.view}`)) {
    history.replaceState(null, "", formatHash(state));
  }
  const lookback = parseDuration(state.range);
  const end = state.end ?? Math.floor(Date.now() / 1000);
  const start = end - lookback;
  const step = Math.max(15, Math.ceil(lookback / 240 / 15) * 15);
  const range = { start, end: end - ((end - start) % step), step };
  const rw = `${Math.max(2 * step, 60)}s`;
  document.body.dataset.loading = "true";
  await loadOptions(state, range, ctl.signal).catch(() => undefined);
  if (ctl.signal.aborted) return;
  document.title = `${TITLES[state.view]} · infersight`;
  const main = h("main", { class: `view view-${state.view}` });
  clear(app);
  app.append(header(state), main);
  const ctx: Ctx = { state, range, rw, signal: ctl.signal, root: main, nav, options };
  try {
    await RENDER[state.view](ctx);
  } catch (e) {
    if (!isAbort(e)) main.append(h("div", { class: "panel-note error" }, String(e)));
  }
  await settle(ctl.signal);
  if (ctl.signal.aborted) return;
  document.body.dataset.loading = "false";
  document.body.dataset.rendered = String(Date.now());
  // Time from navigation start to this view fully rendered, for the browser test.
  document.body.dataset.renderMs = String(Math.round(window.performance.now()));
  const every = parseDuration(state.refresh);
  if (every > 0) timer = window.setTimeout(() => void render(), every * 1000);
}

/** Resolves when no API request has been in flight for a moment. */
async function settle(signal: AbortSignal): Promise<void> {
  for (let i = 0; i < 600 && !signal.aborted; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (inFlight === 0) {
      await new Promise((r) => setTimeout(r, 60));
      if (inFlight === 0) return;
    }
  }
}

let inFlight = 0;
const realFetch = window.fetch.bind(window);
window.fetch = async (...args: Parameters<typeof fetch>) => {
  inFlight++;
  try {
    return await realFetch(...args);
  } finally {
    inFlight--;
  }
};

// While a backfill writes history beside the live data (`infersight demo`),
// a banner shows how far it has got, and the view re-renders every
// BACKFILL_RENDER_MS (unless it refreshes as often itself) so charts fill as
// it goes, and once more when it is done.
const BACKFILL_POLL_MS = 2000;
const BACKFILL_RENDER_MS = 10000;
let backfillSeen = false;

function span(ms: number): string {
  const minutes = Math.round(ms / 60000);
  return minutes >= 60 && minutes % 60 === 0 ? `${minutes / 60} h` : minutes >= 60 ? `${(minutes / 60).toFixed(1)} h` : `${minutes} min`;
}

function showBackfill(status: Backfill): void {
  let banner = document.getElementById("backfill");
  if (status.state !== "running") {
    banner?.remove();
    return;
  }
  const pct = Math.floor((status.progress ?? 0) * 100);
  const left = status.remaining_seconds == null ? "" : `, about ${Math.max(1, Math.round(status.remaining_seconds))} s left`;
  const total = status.to_ms !== undefined && status.from_ms !== undefined ? `${span(status.to_ms - status.from_ms)} of ` : "";
  const text = `Writing ${total}simulated history beside the live data: ${pct}%${left}. Charts fill as it goes.`;
  if (!banner) {
    banner = h("div", { id: "backfill", class: "backfill", role: "status" }, h("span", { class: "backfill-text" }), h("div", { class: "backfill-bar" }, h("div", {})));
    document.body.insertBefore(banner, app);
  }
  banner.dataset.progress = String(status.progress ?? 0);
  (banner.querySelector(".backfill-text") as HTMLElement).textContent = text;
  (banner.querySelector(".backfill-bar > div") as HTMLElement).style.width = `${pct}%`;
}

async function pollBackfill(): Promise<void> {
  let status: Backfill;
  try {
    status = await backfill();
  } catch {
    status = { state: "none" };
  }
  showBackfill(status);
  if (status.state !== "running") {
    if (backfillSeen) void render();
    return;
  }
  backfillSeen = true;
  const state = parseHash(location.hash);
  const every = parseDuration(state.refresh);
  const lastRender = Number(document.body.dataset.rendered ?? 0);
  const idle = document.body.dataset.loading === "false";
  // Explore keeps what is typed in its query box: no re-render under the user's hands.
  if (state.view !== "explore" && idle && (every === 0 || every * 1000 > BACKFILL_RENDER_MS) && Date.now() - lastRender >= BACKFILL_RENDER_MS) void render();
  window.setTimeout(() => void pollBackfill(), BACKFILL_POLL_MS);
}

applyTheme(theme());
window.addEventListener("hashchange", () => void render());
if (!location.hash) history.replaceState(null, "", formatHash(parseHash("")));
void render();
void pollBackfill();
