//! The dashboard crate's integration tests: serving, Grafana dashboards, and the browser test.

mod browser;
mod grafana;
mod serve;
