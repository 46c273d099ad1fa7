//! What the gateway adds to streamed requests: TTFT and end-to-end latency
//! of N concurrent streaming clients, directly against a fake upstream and
//! through the gateway, plus the gateway's CPU time and memory.
//!
//! ```text
//! cargo run --release -p proxy --example overhead -- --concurrency 100,1000
//! ```
//!
//! The fake upstream (testkit) and the clients run in this process; the
//! gateway runs in a child process (this program again, with
//! `--gateway-child URL`) so that its CPU time and RSS can be read from
//! `/proc/PID/stat` and `/proc/PID/status` alone. Each client sends
//! `--requests` + 1 streams one after another (with `--paired`, the direct
//! and the gateway clients run at the same time, so that other load on the
//! machine falls on both alike); the first warms the
//! connection pools and is not counted. Clients start spread over one
//! stream's length, so that new requests arrive at a steady rate and the
//! streams do not tick in lockstep.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::registry::Registry;
use proxy::{Gateway, GatewayConfig, Metrics, UpstreamConfig};
use testkit::upstream::{Behaviour, FakeUpstream};

struct Options {
    concurrency: Vec<usize>,
    requests: usize,
    tokens: usize,
    pace: Duration,
    ttft: Duration,
    /// Worker threads of the gateway's runtime: 0 for tokio's default (one
    /// per CPU), 1 for a current-thread runtime.
    gateway_threads: usize,
    /// Run the direct and the gateway clients at the same time, so that
    /// other load on the machine falls on both alike.
    paired: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        concurrency: vec![100, 1000],
        requests: 2,
        tokens: 200,
        pace: Duration::from_millis(20),
        ttft: Duration::from_millis(50),
        gateway_threads: 0,
        paired: false,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--paired" {
            options.paired = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|_| format!("{flag}: not a number: {value}"));
        match flag.as_str() {
            "--concurrency" => {
                options.concurrency = value
                    .split(',')
                    .map(|n| n.trim().parse().map_err(|_| format!("--concurrency: not a number: {n}")))
                    .collect::<Result<_, _>>()?;
            }
            "--requests" => options.requests = number()? as usize,
            "--tokens" => options.tokens = number()? as usize,
            "--pace-ms" => options.pace = Duration::from_millis(number()?),
            "--ttft-ms" => options.ttft = Duration::from_millis(number()?),
            "--gateway-threads" => options.gateway_threads = number()? as usize,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(options)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--gateway-child") {
        let url = args.get(1).ok_or("--gateway-child needs the upstream URL")?.clone();
        let threads: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(0);
        let runtime = match threads {
            0 => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
            1 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
            n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build(),
        }
        .map_err(|e| e.to_string())?;
        return runtime.block_on(gateway_child(url));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let options = parse_options(&args)?;
    runtime.block_on(run(options))
}

/// The gateway process: serves until its stdin closes, printing its address first.
async fn gateway_child(upstream_url: String) -> Result<(), String> {
    let config = GatewayConfig {
        upstreams: vec![UpstreamConfig {
            name: "fake".into(),
            url: upstream_url,
            models: vec!["*".into()],
            api_key: None,
            provider: "openai".into(),
            connect_timeout: "5s".into(),
            timeout: "60s".into(),
        }],
        ..GatewayConfig::default()
    };
    let settings = config.validate(&[]).map_err(|e| e.to_string())?;
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let (sender, mut exchanges) = tokio::sync::mpsc::channel(1024);
    let gateway = Gateway::new(settings, metrics, sender).map_err(|e| e.to_string())?;
    // Stands in for the quality pipeline: takes every exchange.
    tokio::spawn(async move { while exchanges.recv().await.is_some() {} });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    println!("{}", listener.local_addr().map_err(|e| e.to_string())?);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let stop = shutdown.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
        stop.cancel();
    });
    proxy::serve(listener, gateway.router(), shutdown).await.map_err(|e| e.to_string())
}

/// One measured stream.
#[derive(Clone, Copy)]
struct Timing {
    ttft: Duration,
    e2e: Duration,
}

struct Phase {
    timings: Vec<Timing>,
    failed: usize,
}

async fn run(options: Options) -> Result<(), String> {
    let behaviour = Behaviour {
        tokens: options.tokens,
        ttft: options.ttft,
        pace: options.pace,
        record: false,
        ..Behaviour::default()
    };
    let fake = FakeUpstream::start(behaviour).await;
    let mut child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["--gateway-child", &fake.url(), &options.gateway_threads.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut address = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut address).map_err(|e| e.to_string())?;
    let gateway_url = format!("http://{}/v1", address.trim());
    println!(
        "overhead: {} tokens per stream, {} ms apart, first token after {} ms; {} counted streams per client; \
         direct and gateway clients {}; {} CPUs; load average {}",
        options.tokens,
        options.pace.as_millis(),
        options.ttft.as_millis(),
        options.requests,
        if options.paired { "at the same time" } else { "one after the other" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
    );
    let fake_url = fake.url();
    for &concurrency in &options.concurrency {
        let direct = if options.paired { None } else { Some(phase(&fake_url, concurrency, &options).await) };
        let cpu_before = cpu_seconds(&child);
        let started = Instant::now();
        let (direct, through) = match direct {
            Some(direct) => (direct, phase(&gateway_url, concurrency, &options).await),
            None => tokio::join!(phase(&fake_url, concurrency, &options), phase(&gateway_url, concurrency, &options)),
        };
        let cpu = cpu_seconds(&child) - cpu_before;
        let wall = started.elapsed().as_secs_f64();
        report(concurrency, &direct, &through, cpu, wall, &child);
    }
    drop(child.stdin.take());
    let _ = child.wait();
    Ok(())
}

async fn phase(base_url: &str, concurrency: usize, options: &Options) -> Phase {
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(usize::MAX).no_proxy().build().expect("client builds");
    let url = Arc::new(format!("{base_url}/chat/completions"));
    let body = serde_json::json!({
        "model": "bench", "stream": true,
        "messages": [{"role": "user", "content": "Write a story about a gateway."}],
    })
    .to_string();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..concurrency {
        let (client, url, body) = (client.clone(), Arc::clone(&url), body.clone());
        // Starts spread over one stream's length give a steady rate of new requests.
        let stream_length = options.ttft + options.pace * options.tokens as u32;
        let delay = stream_length.mul_f64(i as f64 / concurrency as f64);
        let n_requests = options.requests + 1;
        tasks.spawn(async move {
            tokio::time::sleep(delay).await;
            let mut timings = Vec::with_capacity(n_requests);
            let mut failed = 0;
            for request in 0..n_requests {
                match stream_once(&client, &url, &body).await {
                    Some(timing) if request > 0 => timings.push(timing),
                    Some(_) => {}
                    None => failed += 1,
                }
            }
            (timings, failed)
        });
    }
    let mut phase = Phase { timings: Vec::new(), failed: 0 };
    for (timings, failed) in tasks.join_all().await {
        phase.timings.extend(timings);
        phase.failed += failed;
    }
    phase
}

/// Streams one chat; `None` when it failed or ended without `[DONE]`.
async fn stream_once(client: &reqwest::Client, url: &str, body: &str) -> Option<Timing> {
    let start = Instant::now();
    let mut response =
        client.post(url).header("content-type", "application/json").body(body.to_owned()).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let mut ttft = None;
    let mut last = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if ttft.is_none() && memchr::memmem::find(&chunk, b"\"content\":\"tok").is_some() {
            ttft = Some(start.elapsed());
        }
        last.clear();
        last.extend_from_slice(&chunk);
    }
    let e2e = start.elapsed();
    last.ends_with(b"data: [DONE]\n\n").then_some(Timing { ttft: ttft?, e2e })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(concurrency: usize, direct: &Phase, through: &Phase, cpu: f64, wall: f64, child: &Child) {
    println!(
        "\n{concurrency} concurrent streams: {} direct, {} through the gateway counted; failed {} direct, {} gateway",
        direct.timings.len(),
        through.timings.len(),
        direct.failed,
        through.failed
    );
    for (name, pick) in [("TTFT", (|t: &Timing| t.ttft) as fn(&Timing) -> Duration), ("e2e ", |t: &Timing| t.e2e)] {
        let sorted = |phase: &Phase| {
            let mut v: Vec<f64> = phase.timings.iter().map(|t| pick(t).as_secs_f64() * 1e3).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let (d, g) = (sorted(direct), sorted(through));
        let (d50, d99, g50, g99) =
            (percentile(&d, 0.5), percentile(&d, 0.99), percentile(&g, 0.5), percentile(&g, 0.99));
        println!(
            "  {name} ms  direct p50 {d50:9.3} p99 {d99:9.3} | gateway p50 {g50:9.3} p99 {g99:9.3} | added p50 {:+.3} p99 {:+.3}",
            g50 - d50,
            g99 - d99
        );
    }
    let n = through.timings.len() + through.failed + concurrency; // the warm-up streams cost CPU too
    println!(
        "  gateway CPU {:.3} s per 1k requests ({:.2} s over {:.1} s, {:.0}% of one core); RSS {} (peak {})",
        cpu / n as f64 * 1000.0,
        cpu,
        wall,
        cpu / wall * 100.0,
        status_field(child, "VmRSS:"),
        status_field(child, "VmHWM:"),
    );
}

/// User plus system CPU seconds of a process, from `/proc/PID/stat`
/// (clock ticks, taken as the Linux default of 100 per second).
fn cpu_seconds(child: &Child) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn status_field(child: &Child, name: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix(name)).map_or("?".into(), |v| v.trim().to_owned())
}
