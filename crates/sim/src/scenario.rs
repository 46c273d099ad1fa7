//! Incidents: what each scenario does to the fleet, when, and to which replica, GPU, model or zone.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::SimConfig;
use crate::error::Error;

/// The incidents the simulator can stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    /// A replica's KV cache shrinks to a quarter and its prompts double: preemptions rise, TTFT climbs.
    KvSaturation,
    /// One GPU overheats: SM clock falls, the clock-event bitmask says thermal, the replica slows.
    ThermalThrottle,
    /// XID 79 on a GPU: the replica goes down (503, no `/metrics`), then restarts with fresh counters.
    XidCrash,
    /// Noisy neighbour: a model's request rate triples.
    TrafficBurst,
    /// A replica silently serves a weaker model: same speed within 10 %, more refusals and wrong facts, another style.
    ModelSwap,
    /// A replica's answers leak email addresses and phone numbers.
    PiiLeak,
    /// Traffic moves away from a zone (to the others).
    ZoneShift,
}

impl ScenarioKind {
    /// Every scenario, for listings.
    pub const ALL: [ScenarioKind; 7] = [
        ScenarioKind::KvSaturation,
        ScenarioKind::ThermalThrottle,
        ScenarioKind::XidCrash,
        ScenarioKind::TrafficBurst,
        ScenarioKind::ModelSwap,
        ScenarioKind::PiiLeak,
        ScenarioKind::ZoneShift,
    ];

    /// The snake_case name used in configs and `POST /sim/scenario`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioKind::KvSaturation => "kv_saturation",
            ScenarioKind::ThermalThrottle => "thermal_throttle",
            ScenarioKind::XidCrash => "xid_crash",
            ScenarioKind::TrafficBurst => "traffic_burst",
            ScenarioKind::ModelSwap => "model_swap",
            ScenarioKind::PiiLeak => "pii_leak",
            ScenarioKind::ZoneShift => "zone_shift",
        }
    }

    /// Checks that `target` names something of the right kind in `config`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownTarget`] when it does not.
    pub fn check_target(self, target: &str, config: &SimConfig) -> Result<(), Error> {
        let (ok, expected) = match self {
            ScenarioKind::KvSaturation | ScenarioKind::ModelSwap | ScenarioKind::PiiLeak => {
                (config.replicas.iter().any(|r| r.name == target), "replica")
            }
            ScenarioKind::ThermalThrottle | ScenarioKind::XidCrash => {
                (parse_gpu_target(target, config).is_some(), "replica or GPU (replica/gpuN)")
            }
            ScenarioKind::TrafficBurst => (config.models.iter().any(|m| m.name == target), "model"),
            ScenarioKind::ZoneShift => (config.replicas.iter().any(|r| r.zone == target), "zone"),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::UnknownTarget { scenario: self.as_str().to_owned(), target: target.to_owned(), expected })
        }
    }
}

impl fmt::Display for ScenarioKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ScenarioKind {
    type Err = Error;

    fn from_str(name: &str) -> Result<ScenarioKind, Error> {
        ScenarioKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| Error::UnknownScenario { name: name.to_owned() })
    }
}

/// `replica` or `replica/gpuN` as (replica index, GPU index); GPU 0 when not named.
pub(crate) fn parse_gpu_target(target: &str, config: &SimConfig) -> Option<(usize, u32)> {
    let (replica, gpu) = match target.split_once('/') {
        Some((replica, gpu)) => (replica, gpu.strip_prefix("gpu")?.parse::<u32>().ok()?),
        None => (target, 0),
    };
    let idx = config.replicas.iter().position(|r| r.name == replica)?;
    (gpu < config.replicas[idx].gpus).then_some((idx, gpu))
}

/// A scheduled or triggered incident, in absolute simulated time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// What happens.
    pub kind: ScenarioKind,
    /// To what.
    pub target: String,
    /// First millisecond (Unix time) it is in effect.
    pub start_ms: i64,
    /// First millisecond it is over.
    pub end_ms: i64,
}

impl Incident {
    /// Whether it is in effect at `t_ms`.
    pub fn is_active(&self, t_ms: i64) -> bool {
        self.start_ms <= t_ms && t_ms < self.end_ms
    }
}

/// A scripted deploy in absolute simulated time: from `at_ms` on, `share`
/// of the requests for `model` ask for `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deploy {
    /// The model whose traffic moves.
    pub model: String,
    /// The model it moves to.
    pub to: String,
    /// Share of `model`'s requests that move.
    pub share: f64,
    /// When it happens (Unix milliseconds).
    pub at_ms: i64,
    /// The deploy marker's text.
    pub text: String,
}
