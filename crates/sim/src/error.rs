//! What can go wrong when building, driving or serving a simulated fleet.

use std::net::SocketAddr;

/// Why a simulator call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is inconsistent; every problem is listed, one per line, with its key path.
    #[error("invalid sim config:\n{}", problems.join("\n"))]
    Config {
        /// One message per problem, each starting with its key path.
        problems: Vec<String>,
    },
    /// The TOML text could not be read as a sim config.
    #[error("cannot parse sim config")]
    ParseConfig {
        /// The parser's complaint.
        #[source]
        source: toml::de::Error,
    },
    /// A duration is not written like `"15s"`, `"10m"`, `"-2h"`.
    #[error("invalid duration {text:?}: expected a number and a unit (ms, s, m, h, d), like \"10m\"")]
    Duration {
        /// The text as written.
        text: String,
    },
    /// Only a manual clock can be moved by hand.
    #[error("the clock follows real time and cannot be moved by hand")]
    ClockNotManual,
    /// No scenario has this name.
    #[error(
        "unknown scenario {name:?}: expected kv_saturation, thermal_throttle, xid_crash, traffic_burst, \
         model_swap, pii_leak or zone_shift"
    )]
    UnknownScenario {
        /// The name as given.
        name: String,
    },
    /// A scenario's target names no replica, GPU, model or zone of the fleet.
    #[error("scenario {scenario} has target {target:?}, which names no {expected} of the fleet")]
    UnknownTarget {
        /// The scenario.
        scenario: String,
        /// The target as given.
        target: String,
        /// What the scenario targets (replica, GPU, model, zone).
        expected: &'static str,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// Serving HTTP failed.
    #[error("HTTP server on {addr} failed")]
    Serve {
        /// The listener's address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Result with the simulator's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
