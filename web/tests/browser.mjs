// Browser test: drives Chromium (playwright-core) through every view of the dashboard.
//
//   node tests/browser.mjs             uses tests/fixture-server.mjs for the API
//   INFERSIGHT_BIN=../target/release/infersight node tests/browser.mjs
//                                      runs `infersight demo --backfill 1h` and proxies to it
//   SCREENSHOTS=1                      also writes docs/images/<view>-<theme>.png
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
const VIEWS = ["overview", "performance", "capacity", "reliability", "quality", "correlation", "explore"];
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

const shots = process.env.SCREENSHOTS === "1";
if (shots) mkdirSync(IMAGES, { recursive: true });

console.log("views:");
let overviewMs = null;
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
  const links = await page.$$eval("nav.tabs a", (as) => as.map((a) => a.dataset.view));
  check(VIEWS.every((v) => links.includes(v)), `${view}: every view is one click away`);
}
console.log(`overview fully rendered in ${overviewMs} ms (navigation start to last panel)`);

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

if (shots) {
  console.log("screenshots:");
  for (const theme of ["light", "dark"]) {
    await page.evaluate((t) => localStorage.setItem("infersight-theme", t), theme);
    for (const view of VIEWS) {
      const hash = view === "explore" ? `#/explore?range=1h&q=${encodeURIComponent("histogram_quantile(0.95, sum by (le, gen_ai_request_model) (rate(gen_ai_server_time_to_first_token_seconds_bucket[5m])))")}` : `#/${view}?range=1h`;
      await open(hash);
      await page.waitForTimeout(150);
      await page.screenshot({ path: `${IMAGES}${view}-${theme}.png` });
    }
    await open(`#/quality?range=1h&x=1003`);
    await page.waitForTimeout(150);
    await page.screenshot({ path: `${IMAGES}exchange-${theme}.png` });
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
