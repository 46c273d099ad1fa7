// What an empty panel says: the configuration that fills it (keys as in
// config/infersight.example.toml), or that nothing happened in the range.

const SCRAPE_ENGINE = 'add a [[scrape]] block with preset = "vllm" or "sglang" and targets = ["host:port"], or run infersight serve --scrape vllm=URL';

export const EMPTY = {
  gateway:
    "No gateway traffic in this range: add a [[gateway.upstream]] (name, url, models) or run infersight serve --scrape openai=URL, then send your OpenAI requests to the gateway ([gateway] listen, 127.0.0.1:8491 by default).",
  engine: `No vLLM or SGLang metrics in this range: ${SCRAPE_ENGINE}.`,
  engineLatency: `No engine-reported latency in this range: ${SCRAPE_ENGINE}. The gateway's own figures need a [[gateway.upstream]].`,
  gpu: 'No GPU metrics: enable [collectors] nvml = true (needs an NVIDIA driver) or scrape a DCGM exporter with [[scrape]] preset = "dcgm" (infersight serve --scrape dcgm=URL).',
  zone: 'No series with an availability_zone label: add labels = { availability_zone = "us-east-1a" } to a [[scrape]] block, or put it in the block\'s file_sd groups.',
  scores: "No scores in this range: scoring reads the gateway's traffic (a [[gateway.upstream]]); [quality] score_rate sets the share scored (default 1.0).",
  drift: "No drift tests yet: each model needs [quality.drift] min_exchanges (default 30) stored exchanges in its window and in its baseline, baseline_offset back (default 7d), and runs every interval (default 1h).",
  judge: "Configure a judge with [[quality.judge]] (an OpenAI-compatible url or upstream, a model and rubrics) to fill this.",
  judgeAgreement: "Appears once a [[quality.judge]] with the safety or over_refusal rubric has judged, or users have given feedback on judged answers.",
  budget: "No budget configured: set max_requests_per_minute, max_tokens_per_day or max_dollars_per_day on a [[quality.judge]].",
  probe: "No probe results in this range. Probes report after their first run (every model, every interval); configure them with [[probes]] (a name, models, a dataset or the built-in set, an interval).",
  self: "No self-metrics: set [server] self_scrape = true (the default) so infersight stores its own /metrics as job \"infersight\".",
  targets: `No scrape targets: ${SCRAPE_ENGINE}; preset = "dcgm" for GPUs.`,
  noErrors: "No gateway errors in this range.",
  noFailures: "No failures in this range.",
  noLoss: "Nothing dropped or failed in this range.",
  received:
    "Nothing received in this range: point a Prometheus remote_write at http://HOST:8490/api/v1/write, or an OTLP metrics exporter at http://HOST:8490/api/v1/otlp/v1/metrics.",
  remoteWrite:
    "Not configured: infersight does not forward by remote write yet. When it does, each queue's lag shows here (infersight_remote_storage_highest_timestamp_in_seconds).",
  flagged: "Nothing flagged in this range. Flags come from scoring the gateway's traffic (a [[gateway.upstream]]; [quality] score_rate sets the share scored).",
  query: "The query returned no series in this range.",
  cost: 'No cost in this range: no price is configured. Price hosted models with [[cost.model]] (model, input_per_1m_tokens, output_per_1m_tokens) or your GPUs with [[cost.gpu]] (name, labels = { modelName = "NVIDIA H100 80GB HBM3" }, per_hour, model); infersight invents no figure.',
  costGpu: 'No GPU cost in this range: price your GPUs with [[cost.gpu]] (name, labels picking DCGM series such as { modelName = "NVIDIA H100 80GB HBM3" }, per_hour, and the model they serve), and scrape DCGM ([[scrape]] preset = "dcgm").',
};
