//! Integration tests of the `promql` crate, through its public API only.

mod api;
mod conformance;
