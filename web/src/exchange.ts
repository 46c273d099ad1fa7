// One exchange in full: prompt and response as text with evidence highlighted, timings, tokens, scores.
// Nothing from the exchange is ever parsed as HTML: text goes in through text nodes only.
import type { Evidence, Exchange, FeedbackGiven, Judgement, Score } from "./api";
import { fmtNumber, fmtTime, h } from "./dom";

interface Span extends Evidence {
  scorer: string;
}

/**
 * `text` as a fragment of text nodes, with each evidence span (Unicode code
 * point offsets, end exclusive) wrapped in a `<mark>` naming its scorer and type.
 */
export function highlighted(text: string, spans: Span[]): DocumentFragment {
  const chars = Array.from(text);
  const n = chars.length;
  const valid = spans.filter((s) => Number.isInteger(s.start) && Number.isInteger(s.end) && s.start < s.end && s.start >= 0 && s.start < n);
  const cuts = new Set<number>([0, n]);
  for (const s of valid) {
    cuts.add(s.start);
    cuts.add(Math.min(s.end, n));
  }
  const points = [...cuts].sort((a, b) => a - b);
  const frag = document.createDocumentFragment();
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    const piece = chars.slice(a, b).join("");
    const covering = valid.filter((s) => s.start <= a && Math.min(s.end, n) >= b);
    if (!covering.length) {
      frag.appendChild(document.createTextNode(piece));
      continue;
    }
    const mark = document.createElement("mark");
    mark.className = `evidence ev-${covering[0].type.replace(/[^a-z0-9_-]/gi, "")}`;
    mark.title = covering.map((s) => `${s.scorer}: ${s.type}`).join("\n");
    mark.dataset.start = String(a);
    mark.dataset.end = String(b);
    mark.textContent = piece;
    frag.appendChild(mark);
  }
  return frag;
}

function spansFor(scores: Score[], target: Score["target"]): Span[] {
  return scores.filter((s) => s.target === target).flatMap((s) => (s.evidence ?? []).map((e) => ({ ...e, scorer: s.scorer })));
}

function kv(rows: [string, string | HTMLElement][]): HTMLElement {
  return h("dl", { class: "kv" }, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/** The judges' verdicts with their reasons (model text, as text nodes). */
function judgements(list: Judgement[]): HTMLElement[] {
  if (!list.length) return [];
  return [
    h("h3", {}, "Judges"),
    h(
      "table",
      { class: "judgements" },
      h("thead", {}, h("tr", {}, h("th", {}, "Rubric"), h("th", {}, "Judge"), h("th", {}, "Score"), h("th", {}, "Label"), h("th", {}, "Reason"))),
      h(
        "tbody",
        {},
        ...list.map((j) =>
          h(
            "tr",
            { class: j.failed ? "flagged" : "" },
            h("td", {}, `${j.rubric} v${j.rubric_version}`),
            h("td", { class: "muted" }, `${j.judge} (${j.judge_model})${j.cached ? ", cached" : ""}`),
            h("td", { class: "num" }, fmtNumber(j.score)),
            h("td", {}, j.label),
            h("td", { class: "reason" }, j.reason || "–"),
          ),
        ),
      ),
    ),
  ];
}

/** End users' feedback, next to the judges' verdicts (comments as text). */
function feedbackGiven(list: FeedbackGiven[]): HTMLElement[] {
  if (!list.length) return [];
  const shown = (f: FeedbackGiven) => (f.value === "score" ? `score ${fmtNumber(f.score ?? 0)}` : f.value === "up" ? "👍 up" : "👎 down");
  return [
    h("h3", {}, "Feedback"),
    h("ul", { class: "feedback" }, ...list.map((f) => h("li", {}, `${fmtTime(f.time_ms)} ${shown(f)}${f.comment ? ": " : ""}`, f.comment))),
  ];
}

/** The detail of one exchange, as an element. */
export function exchangeDetail(x: Exchange): HTMLElement {
  const scores = x.scores ?? [];
  // A learned scorer's evidence is the text that drove its verdict (its
  // type is the scorer's name): quoted, so a reader sees why at a glance.
  const describe = (s: Score, e: Evidence): string => {
    if (e.type !== s.scorer) return `${e.type} [${e.start}, ${e.end})`;
    const piece = Array.from((s.target === "prompt" ? x.prompt : x.response) ?? "").slice(e.start, e.end);
    return `“${piece.slice(0, 60).join("")}${piece.length > 60 ? "…" : ""}”`;
  };
  const text = (t: string | null | undefined, target: Score["target"]) => {
    const pre = h("pre", { class: "text", "data-target": target });
    if (t === null || t === undefined || t === "") pre.appendChild(h("span", { class: "muted" }, "(not stored)"));
    else pre.appendChild(highlighted(t, spansFor(scores, target)));
    return pre;
  };
  const gaps = x.timings?.gaps;
  const status = x.status === null || x.status === undefined ? "–" : String(x.status);
  return h(
    "article",
    { class: "exchange", "data-exchange": String(x.id) },
    h("h2", {}, `Exchange ${x.id}`),
    h(
      "div",
      { class: "exchange-meta" },
      kv([
        ["Time", fmtTime(x.time_ms)],
        ["Operation", x.operation ?? "–"],
        ["Model", `${x.request_model ?? "–"}${x.response_model && x.response_model !== x.request_model ? ` → ${x.response_model}` : ""}`],
        ["Upstream", [x.provider, x.upstream].filter(Boolean).join(" · ") || "–"],
        ["Status", `${status}${x.error_type ? ` (${x.error_type})` : ""}${x.finish_reason ? ` · finish: ${x.finish_reason}` : ""}${x.stream ? " · stream" : ""}`],
      ]),
      kv([
        ["TTFT", fmtNumber(x.timings?.ttft, "s")],
        ["End to end", fmtNumber(x.timings?.e2e, "s")],
        ["Token gaps", gaps ? `${gaps.count} · mean ${fmtNumber(gaps.mean, "s")} · max ${fmtNumber(gaps.max, "s")}` : "–"],
        ["Input tokens", fmtNumber(x.usage?.input_tokens ?? null)],
        ["Output tokens", fmtNumber(x.usage?.output_tokens ?? null)],
      ]),
    ),
    h(
      "table",
      { class: "scores" },
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, "Scorer"), h("th", {}, "Version"), h("th", {}, "Target"), h("th", {}, "Score"), h("th", {}, "Flagged"), h("th", {}, "Evidence")),
      ),
      h(
        "tbody",
        {},
        ...scores.map((s) =>
          h(
            "tr",
            { class: s.label ? "flagged" : "" },
            h("td", {}, s.scorer),
            h("td", { class: "muted" }, s.version || "–"),
            h("td", {}, s.target),
            h("td", { class: "num" }, fmtNumber(s.value)),
            h("td", {}, s.label ? "yes" : "no"),
            h("td", {}, (s.evidence ?? []).map((e) => describe(s, e)).join(", ") || "–"),
          ),
        ),
      ),
    ),
    ...judgements(x.judgements ?? []),
    ...feedbackGiven(x.feedback ?? []),
    h("h3", {}, "Prompt"),
    text(x.prompt, "prompt"),
    h("h3", {}, "Response"),
    text(x.response, "response"),
  );
}
