// The HTTP API client: Prometheus's query endpoints and infersight's exchanges and backfill status.

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}
export interface Evidence {
  start: number;
  end: number;
  type: string;
}
export interface Score {
  scorer: string;
  target: "prompt" | "response";
  value: number;
  label: boolean;
  evidence: Evidence[];
  /** The scorer's version; empty for scores stored before versions were. */
  version?: string;
}
export interface Exchange {
  id: number;
  time_ms: number;
  operation: string;
  request_model: string;
  response_model: string | null;
  upstream: string | null;
  provider: string | null;
  stream: boolean;
  status: number | null;
  error_type: string | null;
  finish_reason: string | null;
  timings: { ttft: number | null; e2e: number | null; gaps?: { count: number; mean: number | null; max: number | null } | null };
  usage: { input_tokens: number | null; output_tokens: number | null } | null;
  prompt: string | null;
  response: string | null;
  scores: Score[];
  /** Judges' verdicts (one exchange only; absent from search pages). */
  judgements?: Judgement[];
  /** End-user feedback (one exchange only). */
  feedback?: FeedbackGiven[];
}
/** One piece of end-user feedback. */
export interface FeedbackGiven {
  time_ms: number;
  value: "up" | "down" | "score";
  score: number | null;
  /** User text: render as text only. */
  comment: string;
}
/** One LLM judge's verdict on an exchange by one rubric. */
export interface Judgement {
  judge: string;
  rubric: string;
  rubric_version: number;
  judge_model: string;
  score: number;
  label: string;
  failed: boolean;
  /** Model text: render as text only. */
  reason: string;
  input_tokens: number;
  output_tokens: number;
  dollars: number | null;
  cached: boolean;
  time_ms: number;
}
export interface ExchangePage {
  exchanges: Exchange[];
  next_before: number | null;
}

/** An error answer from the API, in Prometheus's envelope. */
export class ApiError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Counts requests so views can be held to their budget. */
export const stats = { requests: 0 };

async function get<T>(path: string, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== "") search.append(k, String(v));
  }
  const qs = search.toString();
  stats.requests++;
  const response = await fetch(qs ? `${path}?${qs}` : path, { signal, headers: { Accept: "application/json" } });
  if (response.status === 401 || response.status === 403) {
    // The access guard answers in plain text, naming the role that is missing.
    const text = (await response.text()).trim();
    throw new ApiError(response.status === 403 ? "forbidden" : "unauthorized", text || response.statusText, response.status);
  }
  let body: { status?: string; data?: T; errorType?: string; error?: string };
  try {
    body = await response.json();
  } catch {
    throw new ApiError("bad_response", `${response.status} ${response.statusText} from ${path}`, response.status);
  }
  if (body.status !== "success" || !response.ok) {
    throw new ApiError(body.errorType ?? "unknown", body.error ?? `${response.status} ${response.statusText}`, response.status);
  }
  return body.data as T;
}

/** Range parameters shared by every panel of a view, so their timestamps line up. */
export interface Range {
  start: number;
  end: number;
  step: number;
}

export async function queryRange(query: string, r: Range, signal?: AbortSignal): Promise<RangeSeries[]> {
  const data = await get<{ resultType: string; result: RangeSeries[] }>(
    "/api/v1/query_range",
    { query, start: r.start, end: r.end, step: r.step },
    signal,
  );
  return data.result ?? [];
}

export interface InstantResult {
  resultType: "vector" | "matrix" | "scalar" | "string";
  result: unknown;
}
export async function query(query: string, time: number, signal?: AbortSignal): Promise<InstantResult> {
  return get<InstantResult>("/api/v1/query", { query, time }, signal);
}

export async function labelValues(name: string, r?: { start: number; end: number }, signal?: AbortSignal): Promise<string[]> {
  const values = await get<string[]>(`/api/v1/label/${encodeURIComponent(name)}/values`, { start: r?.start, end: r?.end }, signal);
  return values ?? [];
}

export async function labelNames(signal?: AbortSignal): Promise<string[]> {
  return (await get<string[]>("/api/v1/labels", {}, signal)) ?? [];
}

export async function series(match: string, r: { start: number; end: number }, signal?: AbortSignal): Promise<Record<string, string>[]> {
  return (await get<Record<string, string>[]>("/api/v1/series", { "match[]": match, start: r.start, end: r.end }, signal)) ?? [];
}

export async function exchanges(params: Record<string, string | number | undefined>, signal?: AbortSignal): Promise<ExchangePage> {
  return get<ExchangePage>("/api/v1/infersight/exchanges", params, signal);
}

export async function exchange(id: number | string, signal?: AbortSignal): Promise<Exchange> {
  return get<Exchange>(`/api/v1/infersight/exchanges/${encodeURIComponent(String(id))}`, {}, signal);
}

/** One scrape target of `/api/v1/targets`, as Prometheus answers it. */
export interface Target {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  lastError: string;
  /** RFC 3339; `0001-01-01T00:00:00Z` before the first scrape. */
  lastScrape: string;
  lastScrapeDuration: number;
  health: "up" | "down" | "unknown";
  scrapeInterval: string;
}

export async function targets(signal?: AbortSignal): Promise<Target[]> {
  return (await get<{ activeTargets: Target[] }>("/api/v1/targets", { state: "active" }, signal)).activeTargets ?? [];
}

export interface TsdbStatus {
  headStats: { numSeries: number; numLabelPairs: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: { name: string; value: number }[];
}

export async function tsdbStatus(signal?: AbortSignal): Promise<TsdbStatus> {
  return get<TsdbStatus>("/api/v1/status/tsdb", {}, signal);
}

export async function buildInfo(signal?: AbortSignal): Promise<Record<string, string>> {
  return get<Record<string, string>>("/api/v1/status/buildinfo", {}, signal);
}

/** A backfill of simulated history running beside the server (`infersight demo`). */
export interface Backfill {
  /** `none` when the server runs no backfill (the other fields are absent then). */
  state: "running" | "done" | "none";
  /** Share of the history written, 0 to 1. */
  progress?: number;
  from_ms?: number;
  /** Where the history ends and live data starts. */
  to_ms?: number;
  elapsed_seconds?: number;
  /** Null until it can tell. */
  remaining_seconds?: number | null;
}

export async function backfill(signal?: AbortSignal): Promise<Backfill> {
  return get<Backfill>("/api/v1/infersight/backfill", {}, signal);
}

/** One metric of a comparison (crates/compare's `Outcome`): B against A. */
export interface Outcome {
  name: string;
  unit: string;
  direction: "lower_is_better" | "higher_is_better";
  test: string;
  a: number | null;
  b: number | null;
  n_a: number;
  n_b: number;
  difference: number | null;
  relative_difference: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value: number | null;
  p_adjusted: number | null;
  min_detectable_effect: number | null;
  verdict: "better" | "worse" | "no_detectable_difference" | "not_enough_data" | "not_tested";
  n_needed: number | null;
  reason: string | null;
}

export interface CohortInfo {
  selector: string;
  start: number;
  end: number;
  requests: number;
}

/** `GET /api/v1/infersight/compare`'s data. */
export interface Comparison {
  a: CohortInfo;
  b: CohortInfo;
  paired: boolean;
  step_seconds: number;
  correction: string;
  options: { alpha: number; power: number; paired: boolean };
  metrics: Outcome[];
}

export async function compare(params: Record<string, string | number | undefined>, signal?: AbortSignal): Promise<Comparison> {
  return get<Comparison>("/api/v1/infersight/compare", params, signal);
}

/** A deploy marker or other event (`/api/v1/infersight/annotations`). */
export interface Annotation {
  id: number;
  time_ms: number;
  /** User text: render as text only. */
  text: string;
  tags: string[];
  model: string;
}

export async function annotations(params: Record<string, string | number | undefined>, signal?: AbortSignal): Promise<Annotation[]> {
  return (await get<Annotation[]>("/api/v1/infersight/annotations", params, signal)) ?? [];
}
