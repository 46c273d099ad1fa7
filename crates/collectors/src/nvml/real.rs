//! The [`GpuSource`] over this machine's NVML, through `nvml-wrapper`.
//!
//! `nvml-wrapper` loads `libnvidia-ml.so.1` with `libloading` when NVML is
//! first opened, not at link time, so the binary starts and runs on machines
//! without an NVIDIA driver; there [`SystemNvml::open`] fails and the
//! collector stays off. NVML is opened once per process and never shut down.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nvml_wrapper::bitmasks::event::EventTypes;
use nvml_wrapper::enum_wrappers::device::{Clock, EccCounter, MemoryError, TemperatureSensor};
use nvml_wrapper::enums::device::{SampleValue, UsedGpuMemory};
use nvml_wrapper::enums::event::XidError;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::struct_wrappers::device::ProcessInfo;
use nvml_wrapper::structs::device::FieldId;
use nvml_wrapper::sys_exports::field_id::{
    NVML_FI_DEV_MEMORY_TEMP, NVML_FI_DEV_REMAPPED_COR, NVML_FI_DEV_REMAPPED_FAILURE, NVML_FI_DEV_REMAPPED_UNC,
};
use nvml_wrapper::{Device, EventSet, Nvml};
use tracing::debug;

use super::{EccErrors, FbMemory, GpuProcess, GpuReading, GpuSource, RemappedRows};
use crate::local::{Error, Result};

/// NVML, opened on first use; the error says why it could not be.
static NVML: OnceLock<Result<Nvml, String>> = OnceLock::new();

/// This machine's GPUs, read through NVML.
pub struct SystemNvml {
    nvml: &'static Nvml,
    /// Critical XID events of every GPU, where the driver supports them.
    xid_events: Option<EventSet<'static>>,
    /// The last XID seen per GPU UUID.
    last_xid: HashMap<String, u64>,
    /// Where `/proc/<pid>/comm` is read for process names.
    root: PathBuf,
}

impl std::fmt::Debug for SystemNvml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemNvml").field("watching_xid", &self.xid_events.is_some()).finish_non_exhaustive()
    }
}

impl SystemNvml {
    /// Opens NVML and checks there is at least one GPU.
    ///
    /// # Errors
    ///
    /// Why there is nothing to collect: no library, no driver, no GPU.
    pub(super) fn open(root: &Path) -> Result<SystemNvml, String> {
        let nvml = NVML.get_or_init(|| Nvml::init().map_err(|err| err.to_string())).as_ref().map_err(Clone::clone)?;
        let count = nvml.device_count().map_err(|err| err.to_string())?;
        if count == 0 {
            return Err("NVML found no GPU".to_owned());
        }
        Ok(SystemNvml { nvml, xid_events: watch_xid(nvml, count), last_xid: HashMap::new(), root: root.to_path_buf() })
    }

    /// Records the XID events that arrived since the last call.
    fn drain_xid_events(&mut self) {
        let Some(events) = &self.xid_events else { return };
        // A zero timeout returns at once with `Timeout` when no event waits.
        while let Ok(event) = events.wait(0) {
            if let (Ok(uuid), Some(XidError::Value(xid))) = (event.device.uuid(), event.event_data) {
                self.last_xid.insert(uuid, xid);
            }
        }
    }

    fn read_device(&self, index: u32) -> Result<GpuReading> {
        let device = self.nvml.device_by_index(index).map_err(|err| nvml_error("nvmlDeviceGetHandleByIndex", err))?;
        let uuid = device.uuid().map_err(|err| nvml_error("nvmlDeviceGetUUID", err))?;
        let utilization = optional("nvmlDeviceGetUtilizationRates", device.utilization_rates());
        let last_xid = self.xid_events.as_ref().map(|_| self.last_xid.get(&uuid).copied().unwrap_or(0));
        Ok(GpuReading {
            index,
            pci_bus_id: optional("nvmlDeviceGetPciInfo", device.pci_info()).map(|pci| pci.bus_id).unwrap_or_default(),
            model_name: optional("nvmlDeviceGetName", device.name()).unwrap_or_default(),
            gpu_util_percent: utilization.as_ref().map(|u| u.gpu),
            mem_copy_util_percent: utilization.as_ref().map(|u| u.memory),
            encoder_util_percent: optional("nvmlDeviceGetEncoderUtilization", device.encoder_utilization())
                .map(|u| u.utilization),
            decoder_util_percent: optional("nvmlDeviceGetDecoderUtilization", device.decoder_utilization())
                .map(|u| u.utilization),
            memory: optional("nvmlDeviceGetMemoryInfo", device.memory_info()).map(|m| FbMemory {
                total_bytes: m.total,
                free_bytes: m.free,
                used_bytes: m.used,
                reserved_bytes: m.reserved,
            }),
            gpu_temp_celsius: optional("nvmlDeviceGetTemperature", device.temperature(TemperatureSensor::Gpu)),
            memory_temp_celsius: field_u64(&device, NVML_FI_DEV_MEMORY_TEMP).and_then(|t| u32::try_from(t).ok()),
            power_milliwatts: optional("nvmlDeviceGetPowerUsage", device.power_usage()),
            energy_millijoules: optional("nvmlDeviceGetTotalEnergyConsumption", device.total_energy_consumption()),
            sm_clock_mhz: optional("nvmlDeviceGetClockInfo", device.clock_info(Clock::SM)),
            mem_clock_mhz: optional("nvmlDeviceGetClockInfo", device.clock_info(Clock::Memory)),
            pcie_replay_count: optional("nvmlDeviceGetPcieReplayCounter", device.pcie_replay_counter()),
            last_xid,
            clocks_event_reasons: optional("nvmlDeviceGetCurrentClocksEventReasons", device.current_throttle_reasons())
                .map(|reasons| reasons.bits()),
            ecc: ecc_errors(&device),
            remapped_rows: remapped_rows(&device),
            processes: self.processes(&device),
            uuid,
        })
    }

    /// Compute and graphics processes, one entry per PID.
    fn processes(&self, device: &Device<'_>) -> Vec<GpuProcess> {
        let mut by_pid: HashMap<u32, Option<u64>> = HashMap::new();
        let compute = optional("nvmlDeviceGetComputeRunningProcesses", device.running_compute_processes());
        let graphics = optional("nvmlDeviceGetGraphicsRunningProcesses", device.running_graphics_processes());
        for ProcessInfo { pid, used_gpu_memory, .. } in compute.into_iter().chain(graphics).flatten() {
            let bytes = match used_gpu_memory {
                UsedGpuMemory::Used(bytes) => Some(bytes),
                UsedGpuMemory::Unavailable => None,
            };
            let entry = by_pid.entry(pid).or_insert(None);
            *entry = (*entry).max(bytes);
        }
        let mut processes: Vec<GpuProcess> = by_pid
            .into_iter()
            .map(|(pid, used_memory_bytes)| GpuProcess { pid, name: self.process_name(pid), used_memory_bytes })
            .collect();
        processes.sort_by_key(|p| p.pid);
        processes
    }

    /// `/proc/<pid>/comm`, or empty where the process is in another PID
    /// namespace or already gone.
    fn process_name(&self, pid: u32) -> String {
        std::fs::read_to_string(self.root.join(format!("proc/{pid}/comm")))
            .map(|name| name.trim().to_owned())
            .unwrap_or_default()
    }
}

impl GpuSource for SystemNvml {
    fn driver_version(&mut self) -> Result<String> {
        self.nvml.sys_driver_version().map_err(|err| nvml_error("nvmlSystemGetDriverVersion", err))
    }

    fn read(&mut self) -> Result<Vec<GpuReading>> {
        self.drain_xid_events();
        let count = self.nvml.device_count().map_err(|err| nvml_error("nvmlDeviceGetCount", err))?;
        (0..count).map(|index| self.read_device(index)).collect()
    }
}

/// An event set with every GPU's critical XID errors registered, or `None`
/// where the driver does not support XID events (then `DCGM_FI_DEV_XID_ERRORS`
/// is left out).
fn watch_xid(nvml: &'static Nvml, count: u32) -> Option<EventSet<'static>> {
    let mut set = nvml.create_event_set().ok()?;
    for index in 0..count {
        let device = nvml.device_by_index(index).ok()?;
        set = match device.register_events(EventTypes::CRITICAL_XID_ERROR, set) {
            Ok(set) => set,
            Err(err) => {
                debug!(gpu = index, error = %err.error, "XID events not supported, XID errors not collected");
                return None;
            }
        };
    }
    Some(set)
}

/// ECC counts where ECC is supported and on.
fn ecc_errors(device: &Device<'_>) -> Option<EccErrors> {
    if !device.is_ecc_enabled().ok()?.currently_enabled {
        return None;
    }
    let count = |error, counter| device.total_ecc_errors(error, counter).ok();
    Some(EccErrors {
        sbe_volatile: count(MemoryError::Corrected, EccCounter::Volatile)?,
        dbe_volatile: count(MemoryError::Uncorrected, EccCounter::Volatile)?,
        sbe_aggregate: count(MemoryError::Corrected, EccCounter::Aggregate)?,
        dbe_aggregate: count(MemoryError::Uncorrected, EccCounter::Aggregate)?,
    })
}

/// Row remapping counts through NVML's field values (Ampere and later).
fn remapped_rows(device: &Device<'_>) -> Option<RemappedRows> {
    Some(RemappedRows {
        correctable: field_u64(device, NVML_FI_DEV_REMAPPED_COR)?,
        uncorrectable: field_u64(device, NVML_FI_DEV_REMAPPED_UNC)?,
        failed: field_u64(device, NVML_FI_DEV_REMAPPED_FAILURE)? != 0,
    })
}

/// One integer field value, or `None` where unsupported.
fn field_u64(device: &Device<'_>, field: u32) -> Option<u64> {
    let samples = device.field_values_for(&[FieldId(field)]).ok()?;
    match samples.into_iter().next()?.ok()?.value.ok()? {
        SampleValue::U32(v) => Some(u64::from(v)),
        SampleValue::U64(v) => Some(v),
        SampleValue::I64(v) => u64::try_from(v).ok(),
        SampleValue::F64(_) => None,
    }
}

/// The value, or `None` where NVML cannot give it (not supported on this
/// GPU, or failed, logged at DEBUG: the series is simply left out).
fn optional<T>(call: &'static str, result: Result<T, NvmlError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(NvmlError::NotSupported) => None,
        Err(err) => {
            debug!(call, error = %err, "NVML call failed, value left out");
            None
        }
    }
}

fn nvml_error(call: &'static str, err: NvmlError) -> Error {
    Error::Nvml { call, source: Box::new(err) }
}
