//! Searching exchanges: the filter the API reads from its parameters, and a page of results.

use std::time::Duration;

use rusqlite::types::Value;
use serde::Serialize;

use crate::store::{ExchangeId, ExchangeRecord};

/// Most exchanges one page holds.
pub const MAX_LIMIT: usize = 1000;

/// Which statuses to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Exchanges that succeeded.
    Ok,
    /// Exchanges that failed (an HTTP status of 400 or more, or a named failure).
    Error,
    /// Exactly this HTTP status.
    Code(u16),
}

/// What to look for. Every field narrows the search; the default finds the
/// newest 100 exchanges.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this requested model.
    pub model: Option<String>,
    /// Only exchanges of this gateway key (`[[gateway.key]] name`).
    pub gateway_key: Option<String>,
    /// Only exchanges of this end user (the request's `user`).
    pub user: Option<String>,
    /// Only exchanges of this session (the gateway's session header).
    pub session: Option<String>,
    /// Only exchanges that started at or after this time (ms).
    pub start_ms: Option<i64>,
    /// Only exchanges that started at or before this time (ms).
    pub end_ms: Option<i64>,
    /// Only these statuses.
    pub status: Option<StatusFilter>,
    /// Only exchanges at least this slow end to end.
    pub min_latency: Option<Duration>,
    /// Only exchanges this scorer flagged; `Some("")` means any scorer.
    pub flagged_by: Option<String>,
    /// Only exchanges older than this id (the previous page's `next_before`).
    pub before: Option<ExchangeId>,
    /// Page size (default 100, at most [`MAX_LIMIT`]).
    pub limit: Option<usize>,
}

impl Filter {
    pub(crate) fn limit(&self) -> usize {
        self.limit.unwrap_or(100).clamp(1, MAX_LIMIT)
    }

    /// The SELECT, newest first, asking for one row more than the page so the
    /// caller knows whether another page follows.
    pub(crate) fn to_sql(&self, columns: &str) -> (String, Vec<Value>) {
        let mut clauses: Vec<String> = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        let mut arg = |clause: &str, value: Value, clauses: &mut Vec<String>| {
            args.push(value);
            clauses.push(clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(model) = &self.model {
            arg("request_model = ?", Value::Text(model.clone()), &mut clauses);
        }
        if let Some(key) = &self.gateway_key {
            arg("gateway_key = ?", Value::Text(key.clone()), &mut clauses);
        }
        if let Some(user) = &self.user {
            arg("user = ?", Value::Text(user.clone()), &mut clauses);
        }
        if let Some(session) = &self.session {
            arg("session = ?", Value::Text(session.clone()), &mut clauses);
        }
        if let Some(start) = self.start_ms {
            arg("time_ms >= ?", Value::Integer(start), &mut clauses);
        }
        if let Some(end) = self.end_ms {
            arg("time_ms <= ?", Value::Integer(end), &mut clauses);
        }
        match self.status {
            Some(StatusFilter::Ok) => clauses.push("(status < 400 AND error_type IS NULL)".to_owned()),
            Some(StatusFilter::Error) => clauses.push("(status >= 400 OR error_type IS NOT NULL)".to_owned()),
            Some(StatusFilter::Code(code)) => arg("status = ?", Value::Integer(code.into()), &mut clauses),
            None => {}
        }
        if let Some(latency) = self.min_latency {
            arg("e2e_s >= ?", Value::Real(latency.as_secs_f64()), &mut clauses);
        }
        match self.flagged_by.as_deref() {
            Some("") => clauses.push("id IN (SELECT exchange_id FROM scores WHERE label = 1)".to_owned()),
            Some(scorer) => arg(
                "id IN (SELECT exchange_id FROM scores WHERE label = 1 AND scorer = ?)",
                Value::Text(scorer.to_owned()),
                &mut clauses,
            ),
            None => {}
        }
        if let Some(before) = self.before {
            arg("id < ?", Value::Integer(before), &mut clauses);
        }
        let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let sql = format!("SELECT {columns} FROM exchanges {filter} ORDER BY id DESC LIMIT {}", self.limit() + 1);
        (sql, args)
    }
}

/// One page of a search.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// Newest first.
    pub exchanges: Vec<ExchangeRecord>,
    /// Pass as [`Filter::before`] for the next page; `None` on the last page.
    pub next_before: Option<ExchangeId>,
}
