//! A simulated LLM serving fleet: engines, GPUs and traffic, on an injectable clock.
//!
//! A [`Fleet`] is a set of replicas, each a vLLM- or SGLang-like engine
//! (continuous batching, paged KV cache, preemption) on a node with simulated
//! GPUs, fed by a [`traffic`] profile and disturbed by [`scenario`]s. It runs
//! two ways: [`Fleet::run_backfill`] computes hours of history as fast as it
//! can and hands a [`Sink`] each scrape's pages and each finished request as an
//! [`inference::Exchange`]; [`Fleet::run`] follows a [`Clock`] (real time or
//! sped up) while [`server`] serves each replica's OpenAI API and `/metrics`,
//! its node's DCGM exporter page, and a control endpoint for scenarios.
//!
//! Pages are written in each engine's exact text format (families, HELP,
//! labels, buckets of the fixtures in `testdata/`). Everything random is drawn
//! from one seeded generator, so a config and a seed give the same fleet.
//! This crate knows nothing of the store, the gateway or the quality pipeline:
//! the binary wires them.
#![warn(missing_docs)]

mod clock;
mod config;
mod demo;
mod engine;
mod error;
mod expfmt;
mod families;
mod fleet;
mod gpu;
mod histogram;
pub mod judge;
pub mod loadgen;
mod render;
mod replica;
mod rng;
pub mod scenario;
pub mod server;
pub mod text;
pub mod traffic;

pub use clock::Clock;
pub use config::{
    DeployConfig, EngineKind, LoadConfig, Millis, ModelConfig, ModelLoad, ReplicaConfig, ScenarioConfig, SimConfig,
    Style,
};
pub use error::{Error, Result};
pub use fleet::{BackfillReport, ClientRequest, Fleet, Scrape, Sink};
pub use replica::{NOMINAL_SM_CLOCK_MHZ, ReplicaInfo};
pub use rng::Rng;
pub use scenario::{Deploy, Incident, ScenarioKind};
pub use traffic::Arrival;
