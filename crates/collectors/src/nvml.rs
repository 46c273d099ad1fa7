//! The NVML collector: NVIDIA GPU metrics read through NVML, written under
//! the DCGM exporter's names and labels, so one set of GPU panels and alerts
//! serves both a DCGM exporter scrape and infersight's own collection.
//!
//! Every series carries the exporter's GPU labels in its values' formats:
//! `gpu` (index), `UUID` (`GPU-…`), `pci_bus_id` (`00000000:19:00.0`),
//! `device` (`nvidia<index>`), `modelName`, `Hostname` (the released
//! exporter's spelling) and `DCGM_FI_DRIVER_VERSION`. Values are in DCGM's
//! units: framebuffer in MiB, power in W, energy in mJ since boot.
//!
//! | series | from |
//! |---|---|
//! | `DCGM_FI_DEV_GPU_UTIL`, `DCGM_FI_DEV_MEM_COPY_UTIL` | utilisation rates, % |
//! | `DCGM_FI_DEV_ENC_UTIL`, `DCGM_FI_DEV_DEC_UTIL` | encoder and decoder utilisation, % |
//! | `DCGM_FI_DEV_FB_TOTAL`, `_FREE`, `_USED`, `_RESERVED` | memory info, MiB |
//! | `DCGM_FI_DEV_GPU_TEMP`, `DCGM_FI_DEV_MEMORY_TEMP` | °C |
//! | `DCGM_FI_DEV_POWER_USAGE` | W |
//! | `DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION` | mJ since the driver loaded (counter) |
//! | `DCGM_FI_DEV_SM_CLOCK`, `DCGM_FI_DEV_MEM_CLOCK` | MHz |
//! | `DCGM_FI_DEV_PCIE_REPLAY_COUNTER` | counter |
//! | `DCGM_FI_DEV_XID_ERRORS{err_code,err_msg}` | the last XID error since infersight started (0, "No Error" before any) |
//! | `DCGM_FI_DEV_CLOCKS_EVENT_REASONS` | bitmask of why clocks are held down (NVML's clock event reasons; DCGM's older name is `DCGM_FI_DEV_CLOCK_THROTTLE_REASONS`) |
//! | `DCGM_FI_DEV_ECC_{SBE,DBE}_{VOL,AGG}_TOTAL` | ECC error counts, where ECC is supported and on |
//! | `DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS`, `_UNCORRECTABLE_REMAPPED_ROWS`, `DCGM_FI_DEV_ROW_REMAP_FAILURE` | row remapping, where supported |
//! | `infersight_gpu_process_memory_bytes{pid,process_name}` | GPU memory per process; DCGM has no such field |
//!
//! A value the GPU does not support is left out, never an error. Not
//! collected: `DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL` (NVML has no single call
//! for DCGM's all-lanes counter), the `DCGM_FI_PROF_*` profiling ratios (DCGM
//! computes them, NVML does not expose them), and MIG instances. NVML sits
//! behind [`GpuSource`], so everything above is tested on [`FakeGpus`].

mod fake;
mod real;

use series::Labels;
use tracing::info;

use crate::local::{Collector, Result, sample};

pub use fake::FakeGpus;
pub use real::SystemNvml;

/// Where GPU readings come from: NVML, or a fake in tests and the simulator.
pub trait GpuSource: Send {
    /// The driver version, like `"570.172.08"`.
    ///
    /// # Errors
    ///
    /// When NVML cannot answer.
    fn driver_version(&mut self) -> Result<String>;

    /// One reading of every GPU, in index order.
    ///
    /// # Errors
    ///
    /// When the GPUs cannot be listed; a single unsupported field is `None`
    /// in its reading instead.
    fn read(&mut self) -> Result<Vec<GpuReading>>;
}

/// What one GPU reported at one moment. `None` means not supported (or not
/// readable) on this GPU.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpuReading {
    /// NVML's index, the `gpu` label.
    pub index: u32,
    /// `GPU-…`, the `UUID` label.
    pub uuid: String,
    /// The PCI bus id as NVML writes it (`00000000:19:00.0`).
    pub pci_bus_id: String,
    /// The product name, like `NVIDIA H100 80GB HBM3`.
    pub model_name: String,
    /// Percent of time a kernel was running.
    pub gpu_util_percent: Option<u32>,
    /// Percent of time device memory was read or written.
    pub mem_copy_util_percent: Option<u32>,
    /// Encoder utilisation, percent.
    pub encoder_util_percent: Option<u32>,
    /// Decoder utilisation, percent.
    pub decoder_util_percent: Option<u32>,
    /// Framebuffer memory.
    pub memory: Option<FbMemory>,
    /// GPU core temperature, °C.
    pub gpu_temp_celsius: Option<u32>,
    /// HBM temperature, °C.
    pub memory_temp_celsius: Option<u32>,
    /// Power draw in milliwatts, as NVML reports it.
    pub power_milliwatts: Option<u32>,
    /// Energy since the driver loaded, in millijoules.
    pub energy_millijoules: Option<u64>,
    /// SM clock, MHz.
    pub sm_clock_mhz: Option<u32>,
    /// Memory clock, MHz.
    pub mem_clock_mhz: Option<u32>,
    /// PCIe replays since the driver loaded.
    pub pcie_replay_count: Option<u32>,
    /// The last XID error seen (0 for none), where XID events can be watched.
    pub last_xid: Option<u64>,
    /// NVML's clock event (throttle) reasons bitmask.
    pub clocks_event_reasons: Option<u64>,
    /// ECC error counts; `None` where ECC is unsupported or off.
    pub ecc: Option<EccErrors>,
    /// Row remapping; `None` before Ampere.
    pub remapped_rows: Option<RemappedRows>,
    /// Processes using the GPU.
    pub processes: Vec<GpuProcess>,
}

/// Framebuffer memory in bytes, as NVML reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FbMemory {
    /// Installed memory.
    pub total_bytes: u64,
    /// Unallocated memory.
    pub free_bytes: u64,
    /// Allocated memory.
    pub used_bytes: u64,
    /// Reserved by the driver and firmware.
    pub reserved_bytes: u64,
}

/// ECC error counts: single-bit (corrected) and double-bit (uncorrected),
/// since the driver loaded (volatile) and over the GPU's life (aggregate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EccErrors {
    /// Corrected since the driver loaded.
    pub sbe_volatile: u64,
    /// Uncorrected since the driver loaded.
    pub dbe_volatile: u64,
    /// Corrected over the GPU's life.
    pub sbe_aggregate: u64,
    /// Uncorrected over the GPU's life.
    pub dbe_aggregate: u64,
}

/// Memory rows remapped after errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemappedRows {
    /// Rows remapped for correctable errors.
    pub correctable: u64,
    /// Rows remapped for uncorrectable errors.
    pub uncorrectable: u64,
    /// Whether a remapping has failed.
    pub failed: bool,
}

/// One process holding GPU memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GpuProcess {
    /// The process id, in infersight's PID namespace where it is visible.
    pub pid: u32,
    /// The process's command name (`/proc/<pid>/comm`); empty when unknown.
    pub name: String,
    /// GPU memory it holds, bytes; `None` where the driver does not say.
    pub used_memory_bytes: Option<u64>,
}

/// Reads GPUs through a [`GpuSource`] and returns DCGM-named series.
#[derive(Debug)]
pub struct NvmlCollector<S> {
    source: S,
    hostname: String,
    driver_version: Option<String>,
}

impl NvmlCollector<SystemNvml> {
    /// The collector over this machine's NVML (`libnvidia-ml.so.1`, loaded
    /// at run time), or `None`, logged once at INFO, where there is no
    /// NVIDIA driver or no GPU. `root` is where `/proc` is read for process
    /// names.
    pub fn open_system(hostname: &str, root: &std::path::Path) -> Option<NvmlCollector<SystemNvml>> {
        match SystemNvml::open(root) {
            Ok(source) => Some(NvmlCollector::new(source, hostname)),
            Err(reason) => {
                info!(reason = %reason, "No NVIDIA driver, GPU collector off");
                None
            }
        }
    }
}

impl<S: GpuSource> NvmlCollector<S> {
    /// A collector over `source`; `hostname` becomes the `Hostname` label.
    pub fn new(source: S, hostname: &str) -> NvmlCollector<S> {
        NvmlCollector { source, hostname: hostname.to_owned(), driver_version: None }
    }
}

impl<S: GpuSource> Collector for NvmlCollector<S> {
    fn name(&self) -> &str {
        "nvml"
    }

    fn collect(&mut self, out: &mut Vec<(Labels, f64)>) -> Result<()> {
        let driver_version = match &self.driver_version {
            Some(version) => version.clone(),
            None => {
                let version = self.source.driver_version()?;
                self.driver_version = Some(version.clone());
                version
            }
        };
        for gpu in self.source.read()? {
            render(&gpu, &self.hostname, &driver_version, out);
        }
        Ok(())
    }
}

/// Bytes per MiB: DCGM reports framebuffer sizes in whole MiB.
const MIB: u64 = 1 << 20;

/// Appends the series of one GPU.
fn render(gpu: &GpuReading, hostname: &str, driver_version: &str, out: &mut Vec<(Labels, f64)>) {
    let index = gpu.index.to_string();
    let device = format!("nvidia{}", gpu.index);
    let labels = [
        ("gpu", index.as_str()),
        ("UUID", gpu.uuid.as_str()),
        ("pci_bus_id", gpu.pci_bus_id.as_str()),
        ("device", device.as_str()),
        ("modelName", gpu.model_name.as_str()),
        ("Hostname", hostname),
        ("DCGM_FI_DRIVER_VERSION", driver_version),
    ];
    let mut push = |name: &str, value: Option<f64>| {
        if let Some(value) = value {
            out.push(sample(name, &labels, value));
        }
    };
    let float = |v: Option<u32>| v.map(f64::from);
    push("DCGM_FI_DEV_SM_CLOCK", float(gpu.sm_clock_mhz));
    push("DCGM_FI_DEV_MEM_CLOCK", float(gpu.mem_clock_mhz));
    push("DCGM_FI_DEV_MEMORY_TEMP", float(gpu.memory_temp_celsius));
    push("DCGM_FI_DEV_GPU_TEMP", float(gpu.gpu_temp_celsius));
    push("DCGM_FI_DEV_POWER_USAGE", gpu.power_milliwatts.map(|mw| f64::from(mw) / 1000.0));
    push("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", gpu.energy_millijoules.map(|mj| mj as f64));
    push("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", float(gpu.pcie_replay_count));
    push("DCGM_FI_DEV_GPU_UTIL", float(gpu.gpu_util_percent));
    push("DCGM_FI_DEV_MEM_COPY_UTIL", float(gpu.mem_copy_util_percent));
    push("DCGM_FI_DEV_ENC_UTIL", float(gpu.encoder_util_percent));
    push("DCGM_FI_DEV_DEC_UTIL", float(gpu.decoder_util_percent));
    if let Some(memory) = gpu.memory {
        let mib = |bytes: u64| Some((bytes / MIB) as f64);
        push("DCGM_FI_DEV_FB_TOTAL", mib(memory.total_bytes));
        push("DCGM_FI_DEV_FB_FREE", mib(memory.free_bytes));
        push("DCGM_FI_DEV_FB_USED", mib(memory.used_bytes));
        push("DCGM_FI_DEV_FB_RESERVED", mib(memory.reserved_bytes));
    }
    push("DCGM_FI_DEV_CLOCKS_EVENT_REASONS", gpu.clocks_event_reasons.map(|bits| bits as f64));
    if let Some(ecc) = gpu.ecc {
        push("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", Some(ecc.sbe_volatile as f64));
        push("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", Some(ecc.dbe_volatile as f64));
        push("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", Some(ecc.sbe_aggregate as f64));
        push("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", Some(ecc.dbe_aggregate as f64));
    }
    if let Some(rows) = gpu.remapped_rows {
        push("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", Some(rows.uncorrectable as f64));
        push("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", Some(rows.correctable as f64));
        push("DCGM_FI_DEV_ROW_REMAP_FAILURE", Some(if rows.failed { 1.0 } else { 0.0 }));
    }
    if let Some(xid) = gpu.last_xid {
        let code = xid.to_string();
        let mut with_error = labels.to_vec();
        with_error.extend([("err_code", code.as_str()), ("err_msg", xid_message(xid))]);
        out.push(sample("DCGM_FI_DEV_XID_ERRORS", &with_error, xid as f64));
    }
    for process in &gpu.processes {
        let Some(bytes) = process.used_memory_bytes else { continue };
        let pid = process.pid.to_string();
        let mut with_process = labels.to_vec();
        with_process.extend([("pid", pid.as_str()), ("process_name", process.name.as_str())]);
        out.push(sample("infersight_gpu_process_memory_bytes", &with_process, bytes as f64));
    }
}

/// The exporter's `err_msg` for an XID: "No Error" for 0, a short
/// description for the XIDs that matter most to inference fleets (from
/// NVIDIA's XID catalogue), "Unknown Error" otherwise.
pub fn xid_message(xid: u64) -> &'static str {
    match xid {
        0 => "No Error",
        13 => "Graphics Engine Exception",
        31 => "GPU memory page fault",
        43 => "GPU stopped processing",
        45 => "Preemptive cleanup, due to previous errors",
        48 => "Double Bit ECC Error",
        61 => "Internal micro-controller breakpoint/warning",
        62 => "Internal micro-controller halt",
        63 => "ECC page retirement or row remapping recording event",
        64 => "ECC page retirement or row remapper recording failure",
        74 => "NVLINK Error",
        79 => "GPU has fallen off the bus",
        92 => "High single-bit ECC error rate",
        94 => "Contained ECC error",
        95 => "Uncontained ECC error",
        119 => "GSP RPC Timeout",
        120 => "GSP Error",
        _ => "Unknown Error",
    }
}

#[cfg(test)]
mod tests;
