//! What `infersight serve`'s flags add to the configuration: `--scrape
//! KIND=URL` (a scrape target of an engine preset, or with `openai` a
//! gateway upstream) and `--listen ADDR`.
//!
//! Flags add to the file, never replace it: each `--scrape` target goes into
//! a `[[scrape]]` block of its own kind (one block per kind, scheme and path,
//! named after the kind, or `vllm-2` when the file has a `vllm` job
//! already), each `openai` URL becomes a `[[gateway.upstream]]` serving every
//! model. A target or upstream the file has already is not added twice, so
//! a file printed by `--print-config` can be run with the same flags.

use std::net::SocketAddr;
use std::str::FromStr;

use collectors::presets::Preset;
use collectors::scrape::{Scheme, ScrapeConfig};

use super::RawConfig;

/// The kind that makes a gateway upstream rather than a scrape target.
const OPENAI: &str = "openai";

/// One `--scrape KIND=URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScrapeFlag {
    /// An engine's or exporter's metrics endpoint.
    Target {
        /// The engine preset.
        preset: Preset,
        /// `http` or `https`.
        scheme: Scheme,
        /// `host:port`, the port as the URL says (80 or 443 when it says none).
        address: String,
        /// The metrics path; `None` (the preset's `/metrics`) when the URL has none.
        path: Option<String>,
    },
    /// An OpenAI-compatible API for the gateway.
    Upstream {
        /// The upstream's name: the URL's `host[:port]`.
        name: String,
        /// Its base URL, with `/v1` added when the URL has no path.
        url: String,
    },
}

/// The accepted kinds, for messages: every engine preset, then `openai`.
fn accepted_kinds() -> String {
    let mut kinds: Vec<&str> = Preset::ALL.iter().map(|p| p.as_str()).collect();
    kinds.push(OPENAI);
    kinds.join(", ")
}

impl FromStr for ScrapeFlag {
    type Err = String;

    fn from_str(text: &str) -> Result<ScrapeFlag, String> {
        let Some((kind, url_text)) = text.split_once('=') else {
            return Err(format!(
                "expected KIND=URL, like vllm=http://localhost:8000; accepted kinds: {}",
                accepted_kinds()
            ));
        };
        let preset = match kind {
            OPENAI => None,
            _ => Some(
                Preset::ALL
                    .into_iter()
                    .find(|p| p.as_str() == kind)
                    .ok_or_else(|| format!("unknown kind {kind:?}; accepted kinds: {}", accepted_kinds()))?,
            ),
        };
        let url = parse_http_url(url_text)?;
        let host = url.host_str().expect("http(s) URLs have a host");
        let port = url.port_or_known_default().expect("http(s) has a default port");
        let has_path = !matches!(url.path(), "" | "/");
        Ok(match preset {
            Some(preset) => ScrapeFlag::Target {
                preset,
                scheme: if url.scheme() == "https" { Scheme::Https } else { Scheme::Http },
                address: format!("{host}:{port}"),
                path: has_path.then(|| url.path().to_owned()),
            },
            None => {
                let authority = match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                };
                let base = url.as_str().trim_end_matches('/');
                let url = if has_path { base.to_owned() } else { format!("{base}/v1") };
                ScrapeFlag::Upstream { name: authority, url }
            }
        })
    }
}

/// An `http` or `https` URL with a host and no credentials, query or fragment.
fn parse_http_url(text: &str) -> Result<url::Url, String> {
    let not_http = || format!("{text:?} is not an http(s) URL, like http://localhost:8000");
    let url = url::Url::parse(text).map_err(|_| not_http())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(not_http());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{text:?}: credentials do not go in a URL flag; put them in a config file"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?}: a query or fragment cannot be scraped; give the path only"));
    }
    Ok(url)
}

/// The flags of `serve` that change the configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--scrape KIND=URL`, in order.
    pub scrape: Vec<ScrapeFlag>,
    /// `--listen ADDR`: the server's address in place of `[server] listen`.
    pub listen: Option<SocketAddr>,
}

impl Overrides {
    /// Adds the flags' targets and upstreams to `raw` and sets its listen address.
    pub fn apply(&self, raw: &mut RawConfig) {
        if let Some(listen) = self.listen {
            raw.server.listen = listen.to_string();
        }
        let first_added = raw.scrape.len();
        for flag in &self.scrape {
            match flag {
                ScrapeFlag::Target { preset, scheme, address, path } => {
                    add_target(raw, first_added, *preset, *scheme, address, path.as_deref());
                }
                ScrapeFlag::Upstream { name, url } => add_upstream(raw, name, url),
            }
        }
    }
}

/// The metrics path a block scrapes.
fn effective_path(block: &ScrapeConfig) -> &str {
    block.path.as_deref().unwrap_or_else(|| block.preset.map_or("/metrics", Preset::default_path))
}

fn add_target(
    raw: &mut RawConfig,
    first_added: usize,
    preset: Preset,
    scheme: Scheme,
    address: &str,
    path: Option<&str>,
) {
    let path = path.unwrap_or(preset.default_path());
    let same_kind =
        |block: &ScrapeConfig| block.preset == Some(preset) && block.scheme == scheme && effective_path(block) == path;
    let written_as = |target: &String| {
        let target = target.trim();
        target == address || format!("{target}:{}", preset.default_port()) == address
    };
    if raw.scrape.iter().any(|block| same_kind(block) && block.targets.iter().any(written_as)) {
        return;
    }
    if let Some(block) = raw.scrape[first_added..].iter_mut().find(|block| same_kind(block)) {
        block.targets.push(address.to_owned());
        return;
    }
    let job_names: Vec<String> = raw
        .scrape
        .iter()
        .filter_map(|block| block.job_name.clone().or_else(|| block.preset.map(|p| p.as_str().to_owned())))
        .collect();
    let kind = preset.as_str();
    let job_name = if job_names.iter().any(|name| name == kind) {
        (2..).map(|n| format!("{kind}-{n}")).find(|name| !job_names.contains(name))
    } else {
        None
    };
    raw.scrape.push(ScrapeConfig {
        job_name,
        preset: Some(preset),
        targets: vec![address.to_owned()],
        path: (path != preset.default_path()).then(|| path.to_owned()),
        scheme,
        ..ScrapeConfig::default()
    });
}

fn add_upstream(raw: &mut RawConfig, name: &str, url: &str) {
    let upstreams = &mut raw.gateway.upstreams;
    if upstreams.iter().any(|upstream| upstream.url.trim_end_matches('/') == url) {
        return;
    }
    let name = std::iter::once(name.to_owned())
        .chain((2..).map(|n| format!("{name}-{n}")))
        .find(|candidate| upstreams.iter().all(|upstream| &upstream.name != candidate))
        .expect("some numbered name is free");
    // The other keys take the defaults `[[gateway.upstream]]` gives them.
    let mut table = toml::Table::new();
    table.insert("name".into(), name.into());
    table.insert("url".into(), url.into());
    let upstream = toml::Value::Table(table).try_into().expect("a name and a URL make an upstream");
    upstreams.push(upstream);
}
