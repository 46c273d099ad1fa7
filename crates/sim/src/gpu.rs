//! The GPU model: utilisation, memory, temperature, power, clocks, energy and XID errors of one simulated H100.

use crate::rng::Rng;

/// Nominal SM clock under load (H100 SXM boost).
pub(crate) const SM_CLOCK_MAX_MHZ: f64 = 1980.0;
/// SM clock while idle.
const SM_CLOCK_IDLE_MHZ: f64 = 345.0;
/// SM clock held by a thermal slowdown.
const SM_CLOCK_THROTTLED_MHZ: f64 = 1140.0;
/// Framebuffer of an H100 80GB HBM3 as the driver reports it.
pub(crate) const FB_TOTAL_MIB: f64 = 81_559.0;
const FB_RESERVED_MIB: f64 = 559.0;

/// `DCGM_CLOCKS_EVENT_REASON_GPU_IDLE`.
pub(crate) const CLOCK_EVENT_GPU_IDLE: u64 = 0x1;
/// `DCGM_CLOCKS_EVENT_REASON_SW_THERMAL`.
pub(crate) const CLOCK_EVENT_SW_THERMAL: u64 = 0x20;
/// `DCGM_CLOCKS_EVENT_REASON_HW_THERMAL`.
pub(crate) const CLOCK_EVENT_HW_THERMAL: u64 = 0x40;

/// What drives a GPU during one step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    /// Fraction of the step the GPU ran kernels.
    pub(crate) busy: f64,
    /// Memory used by the KV cache blocks in use, in MiB (this GPU's share).
    pub(crate) kv_mib: f64,
    /// Whether the thermal scenario targets this GPU.
    pub(crate) overheating: bool,
    /// Whether the engine process is down (GPU memory released).
    pub(crate) engine_down: bool,
}

/// One GPU's state, as DCGM would read it.
#[derive(Debug, Clone)]
pub(crate) struct Gpu {
    pub(crate) index: u32,
    pub(crate) uuid: String,
    pub(crate) pci_bus_id: String,
    pub(crate) weights_mib: f64,
    pub(crate) util: f64,
    pub(crate) mem_copy_util: f64,
    pub(crate) temp_c: f64,
    pub(crate) mem_temp_c: f64,
    pub(crate) power_w: f64,
    pub(crate) energy_mj: f64,
    pub(crate) sm_clock_mhz: f64,
    pub(crate) fb_used_mib: f64,
    pub(crate) clock_event_reasons: u64,
    pub(crate) xid: u32,
    pub(crate) pcie_tx_bytes: f64,
    pub(crate) pcie_rx_bytes: f64,
    pub(crate) nvlink_total: u64,
    /// Per-GPU offsets so that identical GPUs do not draw identical lines.
    temp_offset: f64,
    power_offset: f64,
}

const PCI_BUSES: [&str; 8] = ["19", "3B", "4C", "5D", "9B", "BB", "CB", "DB"];

impl Gpu {
    pub(crate) fn new(index: u32, host_seed: u64, weights_mib: f64, rng: &mut Rng) -> Gpu {
        let mut id = Rng::new(host_seed ^ u64::from(index).wrapping_mul(0x1000_0001));
        let uuid = format!(
            "GPU-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            id.next_u64() as u32,
            id.next_u64() as u16,
            (id.next_u64() as u16 & 0x0fff) | 0x4000,
            (id.next_u64() as u16 & 0x3fff) | 0x8000,
            id.next_u64() & 0xffff_ffff_ffff
        );
        let bus = PCI_BUSES[index as usize % PCI_BUSES.len()];
        Gpu {
            index,
            uuid,
            pci_bus_id: format!("00000000:{bus}:00.0"),
            weights_mib,
            util: 0.0,
            mem_copy_util: 0.0,
            temp_c: 33.0,
            mem_temp_c: 31.0,
            power_w: 70.0,
            energy_mj: 1.0e10 + rng.f64() * 3.0e10,
            sm_clock_mhz: SM_CLOCK_IDLE_MHZ,
            fb_used_mib: weights_mib,
            clock_event_reasons: CLOCK_EVENT_GPU_IDLE,
            xid: 0,
            pcie_tx_bytes: 0.0,
            pcie_rx_bytes: 0.0,
            nvlink_total: 0,
            temp_offset: rng.f64() * 4.0 - 2.0,
            power_offset: rng.f64() * 20.0 - 10.0,
        }
    }

    /// Slowdown of work on this GPU relative to its nominal clock (≥ 1).
    pub(crate) fn slowdown(&self) -> f64 {
        if self.clock_event_reasons & (CLOCK_EVENT_SW_THERMAL | CLOCK_EVENT_HW_THERMAL) != 0 {
            SM_CLOCK_MAX_MHZ / self.sm_clock_mhz.max(1.0)
        } else {
            1.0
        }
    }

    /// Advances the GPU by `dt_s` seconds: utilisation follows the load at
    /// once, temperature and power follow it with first-order lags.
    pub(crate) fn step(&mut self, dt_s: f64, load: Load, rng: &mut Rng) {
        let busy = if load.engine_down { 0.0 } else { load.busy.clamp(0.0, 1.0) };
        self.util = busy * 100.0;
        self.mem_copy_util = busy * (45.0 + 20.0 * rng.f64());
        self.fb_used_mib =
            if load.engine_down { 0.0 } else { (self.weights_mib + load.kv_mib + 1_200.0).min(FB_TOTAL_MIB) };

        let mut target_temp = 33.0 + 42.0 * busy + self.temp_offset;
        let mut target_power = 72.0 + 560.0 * busy + self.power_offset;
        if load.overheating {
            target_temp = 91.0 + self.temp_offset.abs();
            // Throttled: clocks and therefore power are held down, heat stays because cooling failed.
            target_power = target_power.min(420.0);
        }
        let temp_alpha = 1.0 - (-dt_s / 90.0).exp();
        let power_alpha = 1.0 - (-dt_s / 2.0).exp();
        self.temp_c += (target_temp - self.temp_c) * temp_alpha;
        self.mem_temp_c = self.temp_c - 6.0 + 2.0 * busy;
        self.power_w += (target_power - self.power_w) * power_alpha;
        self.energy_mj += self.power_w * dt_s * 1000.0;

        let throttling = load.overheating && self.temp_c >= 85.0;
        self.sm_clock_mhz = if throttling {
            SM_CLOCK_THROTTLED_MHZ
        } else if busy > 0.02 {
            SM_CLOCK_MAX_MHZ
        } else {
            SM_CLOCK_IDLE_MHZ
        };
        self.clock_event_reasons = if throttling {
            CLOCK_EVENT_SW_THERMAL | CLOCK_EVENT_HW_THERMAL
        } else if busy <= 0.02 {
            CLOCK_EVENT_GPU_IDLE
        } else {
            0
        };
        self.pcie_tx_bytes = busy * 2.0e7 * (0.8 + 0.4 * rng.f64());
        self.pcie_rx_bytes = busy * 4.5e7 * (0.8 + 0.4 * rng.f64());
    }

    pub(crate) fn fb_free_mib(&self) -> f64 {
        (FB_TOTAL_MIB - FB_RESERVED_MIB - self.fb_used_mib).max(0.0)
    }

    pub(crate) fn fb_reserved_mib(&self) -> f64 {
        FB_RESERVED_MIB
    }
}
