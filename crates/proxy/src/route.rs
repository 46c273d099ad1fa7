//! Which upstreams serve a model, and in what order to try them.
//!
//! Every upstream whose `models` match the request's model is a candidate.
//! Candidates take turns (round robin over all requests), and the rest of the
//! list, in order, is the failover sequence for that request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::http::HeaderValue;
use tracing::{info, warn};

use crate::config::UpstreamSettings;
use crate::error::{Error, Result};

/// A model name or a glob over model names: `*` matches any run of
/// characters, `?` any one character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPattern {
    pattern: String,
    is_glob: bool,
}

impl ModelPattern {
    /// A pattern as written in `models`.
    pub fn new(pattern: &str) -> ModelPattern {
        ModelPattern { pattern: pattern.to_owned(), is_glob: pattern.contains(['*', '?']) }
    }

    /// The model's name when the pattern names exactly one.
    pub fn literal(&self) -> Option<&str> {
        (!self.is_glob).then_some(self.pattern.as_str())
    }

    /// Whether `model` is one of the models this pattern names.
    pub fn matches(&self, model: &str) -> bool {
        if !self.is_glob {
            return self.pattern == model;
        }
        glob_matches(self.pattern.as_bytes(), model.as_bytes())
    }
}

/// Wildcard matching with single backtracking, linear in practice.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// One upstream, ready to send to.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub settings: UpstreamSettings,
    pub client: reqwest::Client,
    /// `Bearer <api_key>`, when the upstream has its own key.
    pub authorization: Option<HeaderValue>,
    /// Whether the last attempt reached it, so that only changes are logged.
    reachable: AtomicBool,
}

impl Upstream {
    pub fn new(settings: UpstreamSettings) -> Result<Upstream> {
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            // The gateway passes bodies through as sent; it must see them uncompressed.
            .no_gzip()
            // Upstreams are reached directly, whatever HTTP_PROXY says.
            .no_proxy()
            .tcp_nodelay(true)
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|source| Error::Client { upstream: settings.name.clone(), source })?;
        let authorization = settings.api_key.as_ref().and_then(|key| {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose())).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        Ok(Upstream { settings, client, authorization, reachable: AtomicBool::new(true) })
    }

    /// Notes whether an attempt reached the upstream, logging when that changes.
    pub fn set_reachable(&self, reachable: bool, error: Option<&reqwest::Error>) {
        if self.reachable.swap(reachable, Ordering::Relaxed) == reachable {
            return;
        }
        let name = &self.settings.name;
        match error {
            Some(error) => warn!(upstream = %name, error = %error, "Upstream unreachable, failing over"),
            None => info!(upstream = %name, "Upstream reachable again"),
        }
    }

    /// URL of an endpoint, given as its path after `/v1`.
    pub fn url(&self, endpoint: &str) -> String {
        format!("{}{endpoint}", self.settings.base_url)
    }
}

/// The upstreams and the round-robin position.
#[derive(Debug)]
pub(crate) struct Routes {
    upstreams: Vec<Arc<Upstream>>,
    next: AtomicUsize,
}

impl Routes {
    pub fn new(upstreams: Vec<Arc<Upstream>>) -> Routes {
        Routes { upstreams, next: AtomicUsize::new(0) }
    }

    pub fn upstreams(&self) -> &[Arc<Upstream>] {
        &self.upstreams
    }

    /// The upstreams serving `model`, this request's turn first.
    pub fn candidates(&self, model: &str) -> Vec<Arc<Upstream>> {
        let mut candidates: Vec<Arc<Upstream>> = self
            .upstreams
            .iter()
            .filter(|upstream| upstream.settings.models.iter().any(|pattern| pattern.matches(model)))
            .cloned()
            .collect();
        if candidates.len() > 1 {
            let turn = self.next.fetch_add(1, Ordering::Relaxed) % candidates.len();
            candidates.rotate_left(turn);
        }
        candidates
    }
}

#[cfg(test)]
mod tests;
