//! A scripted [`GpuSource`] for tests and the simulator: GPUs whose readings the caller sets.

use std::sync::{Arc, Mutex, PoisonError};

use super::{EccErrors, FbMemory, GpuProcess, GpuReading, GpuSource, RemappedRows};
use crate::local::{Error, Result};

/// GPUs that report whatever was last set. Clones share the readings, so a
/// test keeps one handle and changes what the collector will read next.
#[derive(Debug, Clone)]
pub struct FakeGpus {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    driver_version: String,
    gpus: Vec<GpuReading>,
    failing: bool,
}

impl FakeGpus {
    /// GPUs with these readings, behind a driver of this version.
    pub fn new(driver_version: &str, gpus: Vec<GpuReading>) -> FakeGpus {
        FakeGpus {
            state: Arc::new(Mutex::new(State { driver_version: driver_version.to_owned(), gpus, failing: false })),
        }
    }

    /// The two busy H100s of the DCGM exporter fixture
    /// (`reference/fixtures/dcgm-metrics.prom`), driver 570.172.08, each with
    /// one inference server process, ECC on with no errors.
    pub fn fixture() -> FakeGpus {
        let gpu = |index: u32, uuid: &str, bus: &str| GpuReading {
            index,
            uuid: uuid.to_owned(),
            pci_bus_id: format!("00000000:{bus}:00.0"),
            model_name: "NVIDIA H100 80GB HBM3".to_owned(),
            pcie_replay_count: Some(0),
            encoder_util_percent: Some(0),
            decoder_util_percent: Some(0),
            last_xid: Some(0),
            clocks_event_reasons: Some(0),
            ecc: Some(EccErrors::default()),
            remapped_rows: Some(RemappedRows::default()),
            sm_clock_mhz: Some(1980),
            mem_clock_mhz: Some(2619),
            ..GpuReading::default()
        };
        const MIB: u64 = 1 << 20;
        let gpu0 = GpuReading {
            memory_temp_celsius: Some(51),
            gpu_temp_celsius: Some(58),
            power_milliwatts: Some(512_347),
            energy_millijoules: Some(41_968_453_217),
            gpu_util_percent: Some(97),
            mem_copy_util_percent: Some(58),
            memory: Some(FbMemory {
                total_bytes: 81_559 * MIB,
                free_bytes: 6_787 * MIB,
                used_bytes: 74_213 * MIB,
                reserved_bytes: 559 * MIB,
            }),
            processes: vec![GpuProcess { pid: 4242, name: "vllm".to_owned(), used_memory_bytes: Some(73_728 * MIB) }],
            ..gpu(0, "GPU-3f2a9c1e-7b4d-4e8a-9c21-5d6e8f0a1b2c", "19")
        };
        let gpu1 = GpuReading {
            memory_temp_celsius: Some(47),
            gpu_temp_celsius: Some(52),
            power_milliwatts: Some(338_912),
            energy_millijoules: Some(30_871_240_988),
            gpu_util_percent: Some(64),
            mem_copy_util_percent: Some(31),
            memory: Some(FbMemory {
                total_bytes: 81_559 * MIB,
                free_bytes: 9_976 * MIB,
                used_bytes: 71_024 * MIB,
                reserved_bytes: 559 * MIB,
            }),
            processes: vec![GpuProcess { pid: 4243, name: "sglang".to_owned(), used_memory_bytes: Some(70_656 * MIB) }],
            ..gpu(1, "GPU-8d71e0b4-2c5f-4a93-b6e7-0f1a2b3c4d5e", "3B")
        };
        FakeGpus::new("570.172.08", vec![gpu0, gpu1])
    }

    /// Changes the readings the next collection sees.
    pub fn update(&self, change: impl FnOnce(&mut Vec<GpuReading>)) {
        change(&mut self.lock().gpus);
    }

    /// Makes every following read fail, as a driver that went away would (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        self.lock().failing = failing;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl GpuSource for FakeGpus {
    fn driver_version(&mut self) -> Result<String> {
        Ok(self.lock().driver_version.clone())
    }

    fn read(&mut self) -> Result<Vec<GpuReading>> {
        let state = self.lock();
        if state.failing {
            return Err(Error::Nvml { call: "nvmlDeviceGetCount", source: "the fake GPUs were set to fail".into() });
        }
        Ok(state.gpus.clone())
    }
}
