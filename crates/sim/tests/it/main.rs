//! Integration tests of the simulator through its public API: page fidelity, queueing, scenarios, HTTP, backfill.

mod backfill;
mod fidelity;
mod http;
mod prom;
mod queueing;
mod scenarios;
mod support;
