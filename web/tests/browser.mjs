// Browser test: drives Chromium (playwright-core) through every view of the dashboard.
//
//   node tests/browser.mjs             uses tests/fixture-server.mjs for the API
//   INFERSIGHT_BIN=../target/release/infersight node tests/browser.mjs
//                                      runs `infersight demo --backfill 1h` and proxies to it
//   SCREENSHOTS=1                      also writes docs/images/<view>-<theme>.png, exchange-<theme>.png
//                                      and empty-capacity-<theme>.png (nothing configured)
//   SCREENSHOTS=compare,cost           only those views' screenshots (whole pages), and empty-cost-<theme>.png
//
// Skips (exit 0, with a note) when Chromium is missing. Needs `npm run build` first.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { start } from "./fixture-server.mjs";

const WEB = fileURLToPath(new URL("..", import.meta.url));
const IMAGES = fileURLToPath(new URL("../../docs/images/", import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const VIEWS = ["overview", "performance", "capacity", "reliability", "quality", "compare", "cost", "correlation", "explore", "status"];
const failures = [];
const fail = (what) => {
  failures.push(what);
  console.log(`  FAIL ${what}`);
};
const pass = (what) => console.log(`  ok   ${what}`);
const check = (cond, what) => (cond ? pass(what) : fail(what));

if (!existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} not found; install it (apt-get install -y chromium) or set CHROMIUM.`);
  process.exit(0);
}
if (!existsSync(`${WEB}/dist/index.html`)) {
  console.log("FAIL: web/dist is missing; run `npm run build` first.");
  process.exit(1);
}
const { chromium } = await import("playwright-core");

// Bundle size: every asset gzipped.
const assets = readdirSync(`${WEB}/dist/assets`);
const gz = assets.reduce((n, f) => n + gzipSync(readFileSync(`${WEB}/dist/assets/${f}`), { level: 9 }).length, 0) + gzipSync(readFileSync(`${WEB}/dist/index.html`)).length;
console.log(`bundle: ${assets.length} assets, ${(gz / 1024).toFixed(1)} KiB gzipped`);
check(gz <= 300 * 1024, "bundle is at most 300 KB gzipped");

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The API: `infersight demo` when asked for and available, else the fixture server.
let demo = null;
let upstream = process.env.API_UPSTREAM;
const bin = process.env.INFERSIGHT_BIN;
if (bin && existsSync(bin) && spawnSync(bin, ["demo", "--help"]).status === 0) {
  const port = await freePort();
  demo = spawn(bin, ["demo", "--listen", `127.0.0.1:${port}`, "--backfill", "1h"], { stdio: ["ignore", "ignore", "inherit"] });
  upstream = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    const ready = await fetch(`${upstream}/-/ready`).then((r) => r.ok).catch(() => false);
    if (ready) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  // The demo serves at once and writes its history beside the live data: the views are checked once it is written.
  for (let i = 0; i < 1200; i++) {
    const body = await fetch(`${upstream}/api/v1/infersight/backfill`).then((r) => r.json()).catch(() => null);
    if (body?.data && body.data.state !== "running") break;
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`api: infersight demo on ${upstream}`);
} else if (upstream) console.log(`api: proxied to ${upstream}`);
else console.log(`api: fixture server${bin ? ` (${bin} has no demo command)` : ""}`);
const server = await start({ upstream });
const base = server.url;

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, deviceScaleFactor: 1 });
const page = await context.newPage();
const log = { console: [], failed: [], api: [], bad: [], dialogs: [] };
page.on("console", (m) => m.type() === "error" && log.console.push(m.text()));
page.on("pageerror", (e) => log.console.push(String(e)));
page.on("requestfailed", (r) => log.failed.push(`${r.url()} ${r.failure()?.errorText}`));
page.on("request", (r) => r.url().includes("/api/") && log.api.push(r.url()));
page.on("response", (r) => r.status() >= 400 && log.bad.push(`${r.status()} ${r.url()}`));
page.on("dialog", (d) => {
  log.dialogs.push(d.message());
  void d.dismiss();
});
const reset = () => Object.values(log).forEach((a) => (a.length = 0));

async function settled() {
  await page.waitForFunction(() => document.body.dataset.loading === "false", null, { timeout: 30000 });
}

/** Loads the app afresh (not a same-document hash change) at `hash`. */
async function open(hash) {
  await page.goto("about:blank");
  reset();
  await page.goto(`${base}/${hash}`);
  await settled();
}

async function noErrors(what, { allowStatus = [] } = {}) {
  const bad = log.bad.filter((b) => !allowStatus.some((s) => b.startsWith(String(s))));
  const consoleErrors = log.console.filter((c) => !allowStatus.some((s) => c.includes(`status of ${s}`)));
  check(consoleErrors.length === 0, `${what}: no console error${consoleErrors.length ? ` (${consoleErrors.slice(0, 3).join(" | ")})` : ""}`);
  check(log.failed.length === 0 && bad.length === 0, `${what}: no failed request${log.failed.length + bad.length ? ` (${[...log.failed, ...bad].slice(0, 3).join(" | ")})` : ""}`);
}

async function chartsHaveData(what) {
  const charts = await page.$$eval("[data-chart]", (els) => els.map((e) => ({ points: Number(e.dataset.points), ok: e.dataset.emptyOk !== undefined, title: e.closest(".panel")?.querySelector("h3")?.textContent ?? "?" })));
  const empty = charts.filter((c) => !(c.points > 0) && !c.ok).map((c) => c.title);
  const emptyPanels = await page.$$eval(".panel .nodata:not(.ok)", (els) => els.map((e) => e.closest(".panel")?.querySelector("h3")?.textContent ?? "?"));
  const errors = await page.$$eval(".panel-note.error", (els) => els.map((e) => e.textContent));
  check(empty.length === 0, `${what}: every chart has data (${charts.length} charts${empty.length ? `; empty: ${empty.join(", ")}` : ""})`);
  check(emptyPanels.length === 0, `${what}: no empty panel${emptyPanels.length ? ` (${emptyPanels.join(", ")})` : ""}`);
  check(errors.length === 0, `${what}: no panel error${errors.length ? ` (${errors.join(" | ").slice(0, 300)})` : ""}`);
}

// A raw scrape or upstream address, which should only ever be a tooltip where a readable name exists
// (error messages, which quote the URL, excepted).
const ADDRESS = /\b(?:\d{1,3}\.){3}\d{1,3}:\d{2,5}\b|\blocalhost:\d{2,5}\b|\[[0-9a-f:]+\]:\d{2,5}/i;

/** Legends and tables show readable names; the addresses behind them are tooltips. */
async function namesAreReadable(what) {
  const found = await page.evaluate((source) => {
    const re = new RegExp(source, "i");
    const shown = [...document.querySelectorAll(".u-legend .u-series th, .scatter-legend span, main table:not(.result) td:not(.error), main table:not(.result) th")]
      .filter((e) => e.offsetParent !== null || e.closest(".u-legend"))
      .map((e) => e.textContent ?? "")
      .filter((t) => re.test(t));
    const tooltips = [...document.querySelectorAll("main [title]")].filter((e) => re.test(e.getAttribute("title") ?? "") && !e.closest("h3")).length;
    return { shown, tooltips };
  }, ADDRESS.source);
  check(found.shown.length === 0, `${what}: no raw address in legends or tables${found.shown.length ? ` (${found.shown.slice(0, 3).join(" | ")})` : ""}`);
  return found.tooltips;
}

/** Every time chart says its unit (one per axis) and has a legend. */
async function unitsAndLegends(what) {
  const charts = await page.$$eval('[data-chart="time"]', (els) =>
    els.map((e) => ({
      title: e.closest(".panel")?.querySelector("h3")?.firstChild?.textContent ?? "?",
      unit: e.dataset.unit ?? "",
      caption: e.closest(".panel")?.querySelector("h3 .unit")?.textContent ?? "",
      points: Number(e.dataset.points),
      legend: e.querySelectorAll(".u-legend .u-series").length,
    })),
  );
  const noUnit = charts.filter((c) => !c.unit || !c.caption).map((c) => c.title);
  const noLegend = charts.filter((c) => c.points > 0 && c.legend < 2).map((c) => c.title);
  check(noUnit.length === 0, `${what}: every chart names its unit${noUnit.length ? ` (missing: ${noUnit.join(", ")})` : ""}`);
  check(noLegend.length === 0, `${what}: every chart with data has a legend${noLegend.length ? ` (missing: ${noLegend.join(", ")})` : ""}`);
  return charts;
}

const shots = Boolean(process.env.SCREENSHOTS) && process.env.SCREENSHOTS !== "0";
// SCREENSHOTS=1 takes every view; a list of views takes only those, as whole pages.
const shotViews = process.env.SCREENSHOTS === "1" ? VIEWS : (process.env.SCREENSHOTS ?? "").split(",").filter((v) => VIEWS.includes(v));
if (shots) mkdirSync(IMAGES, { recursive: true });

console.log("views:");
let overviewMs = null;
const tooltips = {};
for (const view of VIEWS) {
  const hash = view === "explore" ? `#/explore?range=1h&q=${encodeURIComponent("sum by (gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_count[5m]))")}` : `#/${view}?range=1h`;
  await open(hash);
  if (view === "overview") {
    overviewMs = Number(await page.evaluate(() => document.body.dataset.renderMs));
    const tiles = await page.$$eval(".tile", (ts) => ts.map((t) => ({ name: t.dataset.metric, points: Number(t.querySelector("svg.spark")?.dataset.points ?? 0) })));
    const flat = tiles.filter((t) => t.points < 2).map((t) => t.name);
    check(tiles.length > 0 && flat.length === 0, `overview: every fleet tile has a sparkline${flat.length ? ` (missing: ${flat.join(", ")})` : ""}`);
  }
  await noErrors(view);
  check(log.api.length <= 30, `${view}: ${log.api.length} API requests on load (at most 30)`);
  await chartsHaveData(view);
  // An ad-hoc query's unit is unknown; every built-in chart names its own.
  if (view !== "explore") await unitsAndLegends(view);
  if (view !== "explore") tooltips[view] = await namesAreReadable(view);
  const links = await page.$$eval("nav.tabs a", (as) => as.map((a) => a.dataset.view));
  check(VIEWS.every((v) => links.includes(v)), `${view}: every view is one click away`);
}
console.log(`overview fully rendered in ${overviewMs} ms (navigation start to last panel)`);
check(["performance", "capacity", "reliability", "status"].every((v) => tooltips[v] > 0), `raw addresses are tooltips behind readable names (${Object.entries(tooltips).map(([v, n]) => `${v} ${n}`).join(", ")})`);

async function section(name, body) {
  console.log(`${name}:`);
  try {
    await body();
  } catch (e) {
    fail(`${name}: ${String(e).split("\n")[0]}`);
  }
}

await section("backfill banner", async () => {
  // The server reports a backfill in progress, then done: the banner shows percent and time left, then goes.
  let status = { state: "running", progress: 0.42, from_ms: Date.now() - 6 * 3600e3, to_ms: Date.now(), elapsed_seconds: 12, remaining_seconds: 16.5 };
  await page.route("**/api/v1/infersight/backfill", (route) => route.fulfill({ contentType: "application/json", body: JSON.stringify({ status: "success", data: status }) }));
  await open("#/overview?range=1h");
  const text = await page.waitForSelector("#backfill", { timeout: 5000 }).then((e) => e.textContent());
  check(/42%/.test(text) && /17 s left/.test(text) && /6 h/.test(text), `a banner shows the backfill's percent and time left (${text})`);
  status = { ...status, state: "done", progress: 1, remaining_seconds: 0 };
  await page.waitForSelector("#backfill", { state: "detached", timeout: 5000 }).then(() => pass("the banner goes when the backfill is done"), () => fail("the banner stays after the backfill is done"));
  await settled();
  await page.unroute("**/api/v1/infersight/backfill");
});

await section("filters", async () => {
await open("#/overview?range=1h");
const modelsBefore = await page.$$eval("table.models tbody tr", (r) => r.length);
const models = await page.$$eval('select[name="model"] option', (os) => os.map((o) => o.value).filter(Boolean));
const requestModel = models.find((m) => m.includes("/")) ?? models[0];
reset();
await page.selectOption('select[name="model"]', requestModel);
await page.waitForFunction((m) => location.hash.includes(`model=${encodeURIComponent(m)}`), requestModel);
await settled();
const modelsAfter = await page.$$eval("table.models tbody tr", (r) => r.length);
check(modelsBefore > 1 && modelsAfter === 1, `model filter narrows the per-model table (${modelsBefore} -> ${modelsAfter} rows)`);
check(log.api.some((u) => decodeURIComponent(u).includes(`gen_ai_request_model="${requestModel}"`)), "model filter reaches the queries");
await noErrors("filtered overview");
await open("#/capacity?range=1h");
const zones = await page.$$eval('select[name="zone"] option', (os) => os.map((o) => o.value).filter(Boolean));
const gpusBefore = await page.$$eval('[data-panel="gpus"] tbody tr', (r) => r.length);
reset();
await page.selectOption('select[name="zone"]', zones[0]);
await page.waitForFunction(() => location.hash.includes("zone="));
await settled();
const gpusAfter = await page.$$eval('[data-panel="gpus"] tbody tr', (r) => r.length);
check(gpusAfter > 0 && gpusAfter < gpusBefore, `zone filter narrows the GPU table (${gpusBefore} -> ${gpusAfter})`);

});

await section("zoom", async () => {
  await open("#/performance?range=1h");
  const box = await page.locator(".chart .u-over").first().boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => /[?&]end=\d+/.test(location.hash), null, { timeout: 5000 });
  const hash = await page.evaluate(() => location.hash);
  check(/range=\d+s/.test(hash), `dragging across a chart zooms and puts the window in the URL (${hash.slice(0, 60)})`);
  await settled();
  await chartsHaveData("zoomed performance");
});

await section("quality click-through", async () => {
await open("#/quality?range=1h");
const probeRows = await page.$$eval("table.probes tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
const probeModels = new Set(probeRows.map((r) => r[2]));
check(probeRows.length > 0 && probeRows.every((r) => /%$/.test(r[3]) && /s$/.test(r[5])), `the probes panel has pass rate and latency per probe and model (${probeRows.length} rows, ${probeModels.size} models)`);
const judgeCharts = await page.$$eval(".panel h3", (hs) => hs.map((x) => x.textContent ?? "").filter((t) => /^Judge/.test(t)));
check(judgeCharts.some((t) => /budget/.test(t)) && judgeCharts.some((t) => /agreement/.test(t)), `judge scores, agreement and spend against budget are on the quality view (${judgeCharts.length} panels)`);
const rows = await page.$$("table.flagged tr.clickable");
check(rows.length > 0, `flagged exchanges are listed (${rows.length})`);
if (rows.length) {
  reset();
  await rows[0].click();
  await page.waitForSelector(".drawer .exchange", { timeout: 15000 });
  await settled();
  check(/[?&]x=\d+/.test(await page.evaluate(() => location.hash)), "the open exchange is in the URL");
  const detail = await page.$eval(".drawer .exchange", (e) => ({
    text: e.textContent ?? "",
    scores: e.querySelectorAll("table.scores tbody tr").length,
    evidence: [...e.querySelectorAll("table.scores tbody tr td:last-child")].filter((td) => td.textContent !== "–").length,
    marks: e.querySelectorAll("mark.evidence").length,
  }));
  check(detail.scores > 0 && /TTFT/.test(detail.text) && /Input tokens/.test(detail.text), `the exchange shows timings, tokens and ${detail.scores} scores`);
  check(detail.evidence === 0 || detail.marks > 0, `evidence is highlighted (${detail.evidence} scores with evidence, ${detail.marks} highlights)`);
  await noErrors("exchange detail");
}

});

await section("a metrics user", async () => {
// What the access guard answers an account without the `exchanges` role,
// on every exchange route (crates/access; tested on the real binary in
// crates/infersight/tests/it/auth.rs).
const refuse = (route) => route.fulfill({ status: 403, contentType: "text/plain", body: '"bob" lacks the "exchanges" role this endpoint needs\n' });
// Every answer the page gets is kept, to search for exchange text; the
// refusal is routed last, so it takes precedence.
const texts = [];
await page.route("**/api/v1/**", async (route) => {
  const response = await route.fetch();
  texts.push(await response.text());
  await route.fulfill({ response });
});
await page.route("**/api/v1/infersight/exchanges**", refuse);
for (const view of ["overview", "quality"]) {
  reset();
  await open(`#/${view}?range=1h`);
  await chartsHaveData(`${view} for a metrics user`);
  const seen = await page.evaluate(() => ({
    rows: document.querySelectorAll("table.flagged tr.clickable, ul.recent li").length,
    notes: [...document.querySelectorAll(".panel-note")].map((n) => n.textContent ?? ""),
    errors: document.querySelectorAll(".panel-note.error").length,
  }));
  check(seen.rows === 0, `${view}: no exchange is listed for a metrics user (${seen.rows})`);
  check(seen.notes.some((n) => /Hidden from this account/.test(n) && /exchanges/.test(n)), `${view}: says the exchanges role is needed`);
  check(seen.errors === 0, `${view}: a missing role is no error (${seen.errors} error notes)`);
  await noErrors(`${view} for a metrics user`, { allowStatus: [403] });
}
const html = await page.content();
check(!/"prompt"|"response"/.test(texts.join("")) && !/tok0 tok1/.test(html), "no exchange text reached the page");
await page.unroute("**/api/v1/**");
await page.unroute("**/api/v1/infersight/exchanges**");
});

await section("serving without authentication", async () => {
await open("#/status?range=1h");
check(await page.$eval("#unauthenticated", (e) => e.hidden), "no warning while every listener is authenticated or on loopback");
await page.route("**/api/v1/query?**", async (route) => {
  if (!new URL(route.request().url()).searchParams.get("query")?.startsWith("infersight_listener_unauthenticated")) return route.fallback();
  await route.fulfill({ json: { status: "success", data: { resultType: "vector", result: [{ metric: { __name__: "infersight_listener_unauthenticated", listen: "0.0.0.0:8490" }, value: [Date.now() / 1000, "1"] }] } } });
});
await open("#/status?range=1h");
const warning = await page.$eval("#unauthenticated", (e) => ({ hidden: e.hidden, text: e.textContent ?? "" }));
check(!warning.hidden && /0\.0\.0\.0:8490/.test(warning.text) && /allow_unauthenticated/.test(warning.text), `the status view warns of a listener open to everyone (${warning.text.slice(0, 60)}…)`);
await page.unroute("**/api/v1/query?**");
});

await section("escaping", async () => {
const evil = '<script>alert(1)</script> and <img src=x onerror="window.__xss=1;alert(2)"> done';
const evilExchange = {
  id: 999999, time_ms: Date.now(), operation: "chat", request_model: "evil-model", response_model: "evil-model", upstream: "<b>up</b>", provider: "openai", stream: false,
  status: 200, error_type: null, finish_reason: "stop", timings: { ttft: 0.1, e2e: 0.5, gaps: { count: 3, mean: 0.01, max: 0.02 } }, usage: { input_tokens: 3, output_tokens: 9 },
  prompt: "<i>hello</i> 🙂 <svg onload=alert(3)>", response: evil,
  scores: [{ scorer: "<img src=y onerror=alert(4)>", target: "response", value: 0.1, label: true, evidence: [{ start: 0, end: 25, type: "script" }, { start: 30, end: 73, type: "html" }] }],
  judgements: [{ judge: "<b>j</b>", rubric: "relevance", rubric_version: 1, judge_model: "<i>m</i>", score: 0.2, label: "irrelevant", failed: true,
    reason: '<img src=z onerror="window.__xss=2">The answer <b>ignores</b> the question.', input_tokens: 100, output_tokens: 20, dollars: null, cached: false, time_ms: Date.now() }],
  feedback: [{ time_ms: Date.now(), value: "down", score: null, comment: '<svg onload="window.__xss=3">nope</svg>' }],
};
await page.route("**/api/v1/infersight/exchanges?**", async (route) => {
  const response = await route.fetch();
  const body = await response.json();
  body.data.exchanges.unshift(evilExchange);
  await route.fulfill({ response, json: body });
});
await page.route("**/api/v1/infersight/exchanges/999999", (route) => route.fulfill({ json: { status: "success", data: evilExchange } }));
await open("#/quality?range=1h");
await page.click('tr.clickable[data-id="999999"]');
await page.waitForSelector('.drawer .exchange[data-exchange="999999"]');
await page.waitForTimeout(300);
const evilDom = await page.$eval(".drawer .exchange", (e) => ({
  response: e.querySelector('pre.text[data-target="response"]')?.textContent,
  prompt: e.querySelector('pre.text[data-target="prompt"]')?.textContent,
  elements: e.querySelectorAll("script, img, svg, i, b").length,
  marks: [...e.querySelectorAll('pre[data-target="response"] mark.evidence')].map((m) => m.textContent),
  reason: e.querySelector("table.judgements td.reason")?.textContent,
  feedback: e.querySelector("ul.feedback li")?.textContent,
}));
const xss = await page.evaluate(() => window.__xss);
check(evilDom.response === evil && evilDom.prompt === evilExchange.prompt, "prompt and response render as their exact text");
check(evilDom.elements === 0 && log.dialogs.length === 0 && xss === undefined, `no markup from the exchange became elements and no script ran (dialogs: ${log.dialogs.length})`);
check(evilDom.marks[0] === "<script>alert(1)</script>", `evidence spans highlight the right code points (${JSON.stringify(evilDom.marks)})`);
check(evilDom.reason === evilExchange.judgements[0].reason, "a judge's reason shows as its exact text");
check(evilDom.feedback?.endsWith(evilExchange.feedback[0].comment), "a user's feedback comment shows as its exact text");
await page.unroute("**/api/v1/infersight/exchanges?**");
await page.unroute("**/api/v1/infersight/exchanges/999999");

});

await section("explore", async () => {
await open(`#/explore?range=1h&tab=table&q=${encodeURIComponent("sum by (gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_count[5m]))")}`);
const tableRows = await page.$$eval("table.result tbody tr", (r) => r.length);
check(tableRows > 0, `table output has rows (${tableRows})`);
await page.fill("textarea.editor-input", "");
await page.type("textarea.editor-input", "gen_ai_client_op");
await page.waitForSelector(".completions li", { timeout: 5000 }).catch(() => null);
const suggestions = await page.$$eval(".completions li", (ls) => ls.map((l) => l.textContent));
check(suggestions.some((s) => s?.startsWith("gen_ai_client_operation_duration_seconds")), `metric names complete from the API (${suggestions.slice(0, 3).join(", ")})`);
await page.keyboard.press("Tab");
await page.type("textarea.editor-input", "_count{gen_ai_request_model=\"");
await page.waitForSelector(".completions li", { timeout: 5000 }).catch(() => null);
const valueSuggestions = await page.$$eval(".completions li", (ls) => ls.map((l) => l.textContent));
check(valueSuggestions.length > 0, `label values complete from the API (${valueSuggestions.slice(0, 2).join(", ")})`);
const broken = "sum(rate(gen_ai_client_operation_duration_seconds_count[5m])";
await page.fill("textarea.editor-input", broken);
reset();
await page.press("textarea.editor-input", "Enter");
await page.waitForSelector(".query-error:not([hidden])", { timeout: 15000 });
await settled();
const err = await page.evaluate(() => ({
  message: document.querySelector(".query-error")?.textContent ?? "",
  at: document.querySelector(".tok-error")?.getAttribute("data-error-at"),
  marked: document.querySelector(".tok-error")?.textContent,
}));
console.log(`  (API said: ${err.message.slice(0, 160)})`);
check(err.at === "3", `the syntax error is marked in the editor at character ${err.at} (${JSON.stringify(err.marked)})`);
await noErrors("explore error", { allowStatus: [400, 422] });

});


await section("compare", async () => {
  // Opens with two cohorts chosen: the demo's deploy marker's model (the FP8 build) against the model it was built from.
  await open("#/compare?range=1h");
  const st = await page.evaluate(() => ({
    a: document.querySelector('input[name="a"]')?.value ?? "",
    b: document.querySelector('input[name="b"]')?.value ?? "",
    head: [...document.querySelectorAll("table.compare thead th")].map((th) => th.textContent ?? ""),
    rows: [...document.querySelectorAll("table.compare tbody tr")].map((tr) => ({ metric: tr.dataset.metric, verdict: tr.dataset.verdict, cells: [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "") })),
    summary: document.querySelector(".compare-summary")?.textContent ?? "",
    dists: [...document.querySelectorAll('[data-chart="distribution"]')].map((c) => ({ points: Number(c.dataset.points), legend: c.querySelectorAll(".scatter-legend span").length })),
    trade: (() => {
      const c = document.querySelector('[data-panel="tradeoff"] [data-chart="scatter"]');
      return c && { points: Number(c.dataset.points), pareto: Number(c.dataset.pareto), legend: [...c.querySelectorAll(".scatter-legend span")].map((s) => s.textContent ?? "") };
    })(),
    markers: [...document.querySelectorAll('select[name="marker"] option')].map((o) => o.textContent ?? ""),
  }));
  if (upstream) check(/Llama-3\.1-8B-Instruct"/.test(st.a) && /Llama-3\.1-8B-Instruct-FP8"/.test(st.b), `compare opens on the deploy's two configurations (A ${st.a}, B ${st.b})`);
  else check(st.a.includes("gen_ai_request_model") && st.b.includes("gen_ai_request_model") && st.a !== st.b, `compare opens on two models (A ${st.a}, B ${st.b})`);
  check(["B − A", "95% CI", "p (Holm)", "n A / B", "Verdict"].every((x) => st.head.some((t) => t.includes(x))) && st.head.some((t) => t.startsWith("A: ")) && st.head.some((t) => t.startsWith("B: ")), `the table has both values, the difference, 95 % CI, p-value, sample sizes and verdict (${st.head.join(" | ")})`);
  const tested = st.rows.filter((r) => r.verdict !== "not_enough_data" && r.verdict !== "not_tested");
  check(st.rows.length >= 8 && tested.every((r) => r.cells.length === 8 && r.cells[6].includes("/") && r.cells[3] !== "–"), `a row per metric, each with its figures (${st.rows.length} metrics, ${tested.length} tested)`);
  const verdicts = (v) => st.rows.filter((r) => r.verdict === v).map((r) => r.metric);
  check(verdicts("better").some((m) => m.startsWith("ttft")) && verdicts("worse").length > 0, `the trade-off shows on first open: B better on ${verdicts("better").join(", ")}; worse on ${verdicts("worse").join(", ")}`);
  check(/better on \d+/.test(st.summary) && /requests/.test(st.summary), `a one-line summary of the verdicts (${st.summary.slice(0, 120)}…)`);
  check(st.dists.length === 3 && st.dists.every((d) => d.points > 0 && d.legend === 2), `TTFT, ITL and end-to-end distributions of both cohorts overlaid (${st.dists.map((d) => d.points).join(", ")} points)`);
  check(st.trade && st.trade.points >= 2 && st.trade.pareto >= 1, `models on quality against $ per 1M output tokens, the Pareto front marked (${st.trade?.points} models, ${st.trade?.pareto} on the front: ${st.trade?.legend.join(", ")})`);
  if (upstream) check(st.trade?.legend.some((l) => l.includes("FP8")), "the FP8 build is on the trade-off chart");
  check(st.markers.length > 0, `deploy markers to compare before and after (${st.markers[0] ?? "none"})`);
  await noErrors("compare");

  // Before and after the deploy marker.
  reset();
  await page.click('form[data-mode="marker"] button[type="submit"]');
  await page.waitForFunction(() => /[?&]marker=\d+/.test(location.hash), null, { timeout: 5000 });
  await settled();
  const after = await page.evaluate(() => ({
    head: [...document.querySelectorAll("table.compare thead th")].map((th) => th.textContent ?? ""),
    rows: document.querySelectorAll("table.compare tbody tr").length,
    note: document.querySelector('[data-panel="compare-table"] .nodata')?.textContent ?? "",
  }));
  check(after.head.some((t) => t.startsWith("A: before")) && (after.rows > 0 || /not enough data|no requests/.test(after.note)), `before and after a marker: ${after.rows} metrics${after.note ? ` (${after.note.slice(0, 80)})` : ""}`);
  await noErrors("compare before and after");

  // A cohort without traffic: the API's precise answer, shown as such, not a verdict.
  await open(`#/compare?range=1h&a=${encodeURIComponent('{gen_ai_request_model="no-such-model"}')}&b=${encodeURIComponent('{gen_ai_request_model="nope"}')}`);
  const empty = await page.evaluate(() => ({ rows: document.querySelectorAll("table.compare tbody tr").length, note: document.querySelector('[data-panel="compare-table"] .nodata')?.textContent ?? "", errors: document.querySelectorAll(".panel-note.error").length }));
  check(empty.rows === 0 && /no requests|not enough data/.test(empty.note) && empty.errors === 0, `an empty cohort gets the API's answer, no table (${empty.note.slice(0, 100)})`);

  // Model-derived text (metric names, marker text) renders as text.
  const evilName = '<img src=x onerror="window.__xss=5">_mean';
  await page.route("**/api/v1/infersight/compare?**", async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    body.data.metrics.push({ ...body.data.metrics[0], name: evilName, verdict: "not_tested", reason: "<b>bold</b>" });
    await route.fulfill({ response, json: body });
  });
  await page.route("**/api/v1/infersight/annotations**", (route) => route.fulfill({ json: { status: "success", data: [{ id: 9, time_ms: Date.now() - 1800e3, text: '<svg onload="window.__xss=6">deploy</svg>', tags: ["deploy"], model: "<i>m</i>" }] } }));
  await open("#/compare?range=1h");
  const evil = await page.evaluate((name) => ({
    cell: [...document.querySelectorAll("table.compare tbody td")].some((td) => td.textContent?.includes(name.replace(/_mean$/, ""))),
    marker: document.querySelector('select[name="marker"] option')?.textContent ?? "",
    elements: document.querySelectorAll("main img, main svg, table.compare b, main i:not(.scatter-legend i)").length,
    xss: window.__xss,
  }), evilName);
  check(evil.cell && evil.marker.includes("<svg") && evil.elements === 0 && evil.xss === undefined, `metric names and marker text render as text (${evil.elements} elements made, xss ${evil.xss})`);
  await page.unroute("**/api/v1/infersight/compare?**");
  await page.unroute("**/api/v1/infersight/annotations**");
});

await section("cost", async () => {
  await open("#/cost?range=1h");
  const st = await page.evaluate(() => {
    const chart = (title) => {
      const p = [...document.querySelectorAll(".panel")].find((x) => x.querySelector("h3")?.firstChild?.textContent === title);
      const c = p?.querySelector('[data-chart="time"]');
      return c ? { points: Number(c.dataset.points), unit: c.dataset.unit, legend: [...p.querySelectorAll(".u-legend .u-series th")].slice(1).map((th) => th.textContent ?? "") } : null;
    };
    return {
      model: chart("Spend by model"),
      upstream: chart("Spend by upstream (GPU pool)"),
      idle: chart("GPU idle cost"),
      perM: chart("$ per 1M output tokens by model"),
      rows: [...document.querySelectorAll("table.spend tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    };
  });
  check(st.model?.points > 0 && st.model.unit === "$/h" && st.model.legend.length >= 2, `spend by model over time, in $/h (${st.model?.legend.join(", ")})`);
  check(st.upstream?.points > 0 && st.upstream.legend.length >= 2, `spend by upstream (${st.upstream?.legend.length} pools)`);
  check(st.idle?.points > 0, `GPU idle cost over time (${st.idle?.legend.join(", ")})`);
  check(st.perM?.points > 0 && st.perM.legend.length >= 2, `$ per 1M output tokens by model (${st.perM?.legend.join(", ")})`);
  check(st.rows.length >= 3 && st.rows.every((r) => /^\$/.test(r[1])), `spend over the range per model, with its share idle (${st.rows.map((r) => `${r[0].split("/").pop()} ${r[1]}`).join(", ")})`);
  if (upstream) {
    const perM = (name) => Number(st.rows.find((r) => r[0] === name)?.[5].replace("$", ""));
    const [base, fp8] = [perM("meta-llama/Llama-3.1-8B-Instruct"), perM("meta-llama/Llama-3.1-8B-Instruct-FP8")];
    check(fp8 > 0 && base > 0 && fp8 < base, `the FP8 build costs less per 1M output tokens ($${fp8} against $${base})`);
  }
  await noErrors("cost");
});

await section("readable names", async () => {
  // The fixture names its targets as the demo does (`replica`), by Kubernetes (`kubernetes_pod_name`), by DCGM's
  // `Hostname`, or not at all (infersight's self-scrape); the demo names every engine and GPU exporter by `replica`.
  const fixture = !upstream;
  await open("#/performance?range=1h");
  const legend = await page.$$eval('[data-panel="TTFT p95 by replica"] .u-legend .u-series', (rows) => rows.slice(1).map((r) => ({ text: r.querySelector("th")?.textContent ?? "", title: r.getAttribute("title") ?? "" })));
  const readable = legend.every((l) => ADDRESS.test(l.title) && !ADDRESS.test(l.text)) && new Set(legend.map((l) => l.text)).size === legend.length;
  check(legend.length > 0 && readable, `each replica's legend entry has its own readable name, the address as tooltip (${legend.slice(0, 2).map((l) => `${l.text} [${l.title}]`).join(", ")})`);
  if (fixture) {
    check(legend.find((l) => l.title === "10.0.1.11:8000")?.text.startsWith("vllm-llama-1a"), "a target is named by its replica label");
    check(legend.find((l) => l.title === "10.0.1.21:30000")?.text.startsWith("sglang-qwen-5f7c9-x2k4q"), "a pod is named by kubernetes_pod_name");
  } else check(legend.every((l) => /^(vllm|sglang)-/.test(l.text)), "the demo's replicas are named by their replica label");
  await open("#/status?range=1h");
  const cells = await page.$$eval("table.targets tbody tr td:nth-child(3)", (tds) => tds.map((td) => ({ text: td.textContent ?? "", title: td.getAttribute("title") ?? "" })));
  check(cells.length > 0 && cells.every((c) => !ADDRESS.test(c.text) && /^https?:\/\//.test(c.title)), `every scrape target shows a name, its URL as tooltip (${cells.length} targets)`);
  const upstreams = await page.$$eval("table.upstreams tbody td:first-child", (tds) => tds.map((td) => ({ text: td.textContent ?? "", title: td.getAttribute("title") ?? "" })));
  check(upstreams.length > 0 && upstreams.every((u) => !ADDRESS.test(u.text)) && new Set(upstreams.map((u) => u.text)).size === upstreams.length, `each gateway upstream (server_address) has its own readable name (${upstreams.map((u) => u.text).join(", ")})`);
  if (fixture) {
    check(cells.find((c) => c.title.includes("127.0.0.1:8490"))?.text === "infersight on 127.0.0.1", "a target without a naming label shows its job and host");
    check(cells.find((c) => c.title.includes("ip-10-0-1-17:9400"))?.text === "ip-10-0-1-17", "a GPU exporter is named by its DCGM Hostname");
    check(upstreams.some((u) => u.text === "vllm-llama-1a" && u.title === "10.0.1.11:8000"), "an upstream is named after the target at its address");
  }
});

await section("latency units", async () => {
  for (const view of ["performance", "correlation"]) {
    await open(`#/${view}?range=1h`);
    const panels = await page.$$eval(".panel", (ps) =>
      ps
        .filter((p) => p.querySelector('[data-chart="time"]'))
        .map((p) => ({
          title: p.querySelector("h3")?.firstChild?.textContent ?? "",
          unit: p.querySelector('[data-chart="time"]').dataset.unit,
          legend: [...p.querySelectorAll(".u-legend .u-series th")].map((th) => th.textContent ?? "").join(" | "),
        })),
    );
    const measures = (text) => [/TTFT|first token/i.test(text) && "ttft", /\bITL\b|inter-token|per output token|TPOT/i.test(text) && "itl", /e2e|end-to-end/i.test(text) && "e2e"].filter(Boolean);
    const latency = panels.filter((p) => measures(p.title).length);
    const mixed = latency.filter((p) => new Set([...measures(p.title), ...measures(p.legend)]).size > 1).map((p) => p.title);
    const notSeconds = latency.filter((p) => p.unit !== "s").map((p) => `${p.title} (${p.unit})`);
    check(latency.length >= (view === "performance" ? 5 : 2) && mixed.length === 0, `${view}: TTFT, ITL and end-to-end latency each on their own panel (${latency.length} latency panels${mixed.length ? `; mixed: ${mixed.join(", ")}` : ""})`);
    check(notSeconds.length === 0, `${view}: every latency panel has one unit, seconds${notSeconds.length ? ` (${notSeconds.join(", ")})` : ""}`);
    if (view === "performance") {
      const kinds = new Set(latency.flatMap((p) => measures(p.title)));
      check(kinds.size === 3, `performance: separate panels for TTFT, ITL and end-to-end latency (${[...kinds].join(", ")})`);
    }
  }
});

await section("status", async () => {
  await open("#/status?range=1h");
  const st = await page.evaluate(() => {
    const panels = [...document.querySelectorAll("main .panel")].map((p) => {
      const chart = p.querySelector("[data-chart]");
      const filled =
        (chart && (Number(chart.dataset.points) > 0 || chart.dataset.emptyOk !== undefined)) ||
        p.querySelectorAll("tbody tr").length > 0 ||
        p.querySelectorAll("dl.kv dd").length > 0 ||
        p.querySelector(".nodata.ok") !== null;
      return { title: p.querySelector("h3")?.firstChild?.textContent ?? "?", filled: Boolean(filled), error: p.querySelector(".panel-note.error")?.textContent ?? "" };
    });
    return {
      panels,
      targets: document.querySelectorAll("table.targets tbody tr").length,
      down: [...document.querySelectorAll('table.targets tr[data-health="down"] td.error')].map((td) => td.textContent ?? ""),
      upstreams: document.querySelectorAll("table.upstreams tbody tr").length,
      series: document.querySelector('[data-panel="store"] dd')?.textContent ?? "",
      version: document.querySelector('[data-panel="build"] dd')?.textContent ?? "",
      remote: document.querySelector('[data-panel="remote-write"]')?.textContent ?? "",
      sections: [...document.querySelectorAll("main .section > h2")].map((h) => h.textContent),
    };
  });
  const unfilled = st.panels.filter((p) => !p.filled || p.error).map((p) => p.title);
  check(st.panels.length >= 15 && unfilled.length === 0, `status: every panel has data or a configured empty state (${st.panels.length} panels${unfilled.length ? `; not: ${unfilled.join(", ")}` : ""})`);
  // The fixture has one target down; the demo has one only during its crash incidents.
  check(st.targets > 0 && (st.down.length > 0 || upstream) && st.down.every((e) => e.length > 0), `status: the scrape targets are listed, with why each down one fails (${st.targets} targets, ${st.down.length} down)`);
  check(st.upstreams > 0, `status: gateway upstreams with requests and errors (${st.upstreams})`);
  check(/^\d/.test(st.series) && /^\d+\.\d+/.test(st.version), `status: storage and build info (${st.series} head series, version ${st.version})`);
  check(/Not configured/.test(st.remote), `status: remote write out says it is not configured`);
  check(["Scraping", "Gateway", "Quality queue", "Storage"].every((x) => st.sections.some((s) => s?.toLowerCase() === x.toLowerCase())), `status: sections ${st.sections.join(", ")}`);
});

await section("guided first visit", async () => {
  const fresh = await browser.newContext({ viewport: { width: 1366, height: 860 }, deviceScaleFactor: 1 });
  const p = await fresh.newPage();
  const errors = [];
  p.on("pageerror", (e) => errors.push(String(e)));
  const ready = () => p.waitForFunction(() => document.body.dataset.loading === "false", null, { timeout: 30000 });
  await p.goto(`${base}/#/overview?range=1h`);
  await ready();
  const first = await p.evaluate(() => {
    const g = document.querySelector("[data-guide]");
    return g && { visible: g.offsetParent !== null, views: [...g.querySelectorAll(".guide-views a")].map((a) => a.dataset.view), demo: !g.querySelector(".guide-demo")?.hidden, incidents: g.querySelectorAll(".guide-demo li a").length };
  });
  check(first?.visible && VIEWS.every((v) => first.views.includes(v)), `the first visit shows the guide on the overview, linking every view (${first?.views.length ?? 0} links)`);
  check(first?.demo && first.incidents > 0, `the guide points at the demo's scripted incidents (${first?.incidents ?? 0})`);
  await p.click('[data-action="dismiss-guide"]');
  check((await p.$("[data-guide]")) === null, "the guide closes");
  await p.reload();
  await ready();
  check((await p.$("[data-guide]")) === null, "the guide stays dismissed after a reload");
  await p.goto(`${base}/#/capacity?range=1h`);
  await ready();
  await p.goto(`${base}/#/overview?range=6h`);
  await ready();
  check((await p.$("[data-guide]")) === null && errors.length === 0, `the guide stays dismissed on later visits${errors.length ? ` (${errors[0]})` : ""}`);
  await fresh.close();
});

/** A context whose API knows no series at all: what a fresh install with nothing configured shows. */
async function emptyContext() {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 860 }, deviceScaleFactor: 1 });
  await ctx.addInitScript(() => localStorage.setItem("infersight-guide-dismissed", "1"));
  const empty = (data) => (route) => route.fulfill({ json: { status: "success", data } });
  await ctx.route("**/api/v1/query_range?**", empty({ resultType: "matrix", result: [] }));
  await ctx.route("**/api/v1/query?**", empty({ resultType: "vector", result: [] }));
  await ctx.route("**/api/v1/series?**", empty([]));
  await ctx.route("**/api/v1/label/*/values**", empty([]));
  await ctx.route("**/api/v1/targets**", empty({ activeTargets: [], droppedTargets: [], droppedTargetCounts: {} }));
  await ctx.route("**/api/v1/infersight/exchanges?**", empty({ exchanges: [], next_before: null }));
  await ctx.route("**/api/v1/infersight/annotations**", empty([]));
  return ctx;
}

await section("empty states", async () => {
  const ctx = await emptyContext();
  const p = await ctx.newPage();
  for (const view of VIEWS.filter((v) => v !== "explore")) {
    await p.goto(`${base}/#/${view}?range=1h`);
    await p.waitForFunction(() => document.body.dataset.loading === "false", null, { timeout: 30000 });
    const st = await p.evaluate(() => {
      const charts = [...document.querySelectorAll("[data-chart]")];
      const notes = [...document.querySelectorAll("main .nodata")];
      return {
        charts: charts.length,
        unexplained: charts.filter((c) => c.dataset.emptyOk === undefined).map((c) => c.closest(".panel")?.querySelector("h3")?.firstChild?.textContent ?? "?"),
        bare: notes.filter((n) => !n.classList.contains("ok")).map((n) => n.textContent),
        texts: [...new Set(notes.map((n) => n.textContent ?? ""))],
        errors: [...document.querySelectorAll(".panel-note.error")].map((e) => e.textContent),
      };
    });
    const configs = st.texts.filter((t) => /\[\[?[a-z_.]+\]\]?|serve --scrape|self_scrape/.test(t)).length;
    check(st.unexplained.length === 0 && st.bare.length === 0 && st.errors.length === 0, `${view} with no data: every empty panel says why (${st.charts} charts, ${st.texts.length} distinct texts, ${configs} name the config${st.unexplained.length + st.bare.length ? `; unexplained: ${[...st.unexplained, ...st.bare].slice(0, 4).join(", ")}` : ""}${st.errors.length ? `; errors: ${st.errors[0]}` : ""})`);
    if (view === "capacity") {
      check(st.texts.some((t) => t.includes("[collectors] nvml") && t.includes('preset = "dcgm"')), "capacity with no GPUs names [collectors] nvml and the dcgm scrape preset");
      check(st.texts.some((t) => t.includes("[[scrape]]") && t.includes("vllm")), "capacity with no engines names the [[scrape]] presets");
    }
    if (view === "performance") check(st.texts.some((t) => t.includes("[[gateway.upstream]]")), "performance with no traffic names [[gateway.upstream]]");
    if (view === "status") check(st.texts.some((t) => t.includes("self_scrape")), "status with no self-metrics names [server] self_scrape");
    if (view === "cost") check(st.texts.some((t) => t.includes("[[cost.model]]") && t.includes("[[cost.gpu]]")) && st.texts.some((t) => t.includes("per_hour")), "cost with no prices says what to configure ([[cost.model]], [[cost.gpu]] per_hour)");
  }
  if (shots) {
    for (const theme of ["light", "dark"]) {
      await p.evaluate((t) => localStorage.setItem("infersight-theme", t), theme);
      await p.goto("about:blank");
      await p.goto(`${base}/#/capacity?range=1h`);
      await p.waitForFunction(() => document.body.dataset.loading === "false", null, { timeout: 30000 });
      await p.waitForTimeout(150);
      if (shotViews.includes("capacity")) await p.screenshot({ path: `${IMAGES}empty-capacity-${theme}.png` });
      if (shotViews.includes("cost")) {
        await p.goto("about:blank");
        await p.goto(`${base}/#/cost?range=1h`);
        await p.waitForFunction(() => document.body.dataset.loading === "false", null, { timeout: 30000 });
        await p.waitForTimeout(150);
        await p.screenshot({ path: `${IMAGES}empty-cost-${theme}.png` });
      }
    }
  }
  await ctx.close();
});

if (shots) {
  console.log("screenshots:");
  await page.evaluate(() => localStorage.setItem("infersight-guide-dismissed", "1"));
  for (const theme of ["light", "dark"]) {
    await page.evaluate((t) => localStorage.setItem("infersight-theme", t), theme);
    for (const view of shotViews) {
      const hash = view === "explore" ? `#/explore?range=1h&q=${encodeURIComponent("histogram_quantile(0.95, sum by (le, gen_ai_request_model) (rate(gen_ai_server_time_to_first_token_seconds_bucket[5m])))")}` : `#/${view}?range=1h`;
      await open(hash);
      await page.waitForTimeout(150);
      await page.screenshot({ path: `${IMAGES}${view}-${theme}.png`, fullPage: ["compare", "cost"].includes(view) });
    }
    if (shotViews.includes("quality")) {
      await open(`#/quality?range=1h&x=1003`);
      await page.waitForTimeout(150);
      await page.screenshot({ path: `${IMAGES}exchange-${theme}.png` });
    }
  }
  pass(`screenshots in ${IMAGES}`);
}

await browser.close();
await server.close();
if (demo && demo.exitCode === null) {
  const exited = new Promise((r) => demo.once("exit", r));
  demo.kill("SIGTERM");
  const timedOut = await Promise.race([exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 10000))]);
  if (timedOut) {
    console.log("note: infersight demo did not exit within 10 s of SIGTERM; killed");
    demo.kill("SIGKILL");
  }
}
console.log(failures.length ? `\n${failures.length} check(s) failed` : "\nall checks passed");
process.exit(failures.length ? 1 : 0);
