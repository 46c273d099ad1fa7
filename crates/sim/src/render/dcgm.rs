//! The DCGM exporter's `/metrics` for one node's GPUs, in the exporter template's exact layout.

use std::fmt::Write as _;

use crate::expfmt::Page;
use crate::families::DCGM;
use crate::gpu::Gpu;

/// `modelName` of every simulated GPU.
pub(crate) const GPU_MODEL: &str = "NVIDIA H100 80GB HBM3";
/// `DCGM_FI_DRIVER_VERSION` label value.
const DRIVER_VERSION: &str = "570.172.08";

/// How a field's value is printed: DCGM int64 fields with `%d`, doubles with `%f`.
enum Value {
    Int(i64),
    Double(f64),
}

/// Writes the exporter page for `gpus` on `hostname`.
pub(crate) fn render(hostname: &str, gpus: &[Gpu]) -> String {
    let mut page = Page::with_capacity(24 * 1024);
    let labels: Vec<String> = gpus
        .iter()
        .map(|gpu| {
            format!(
                "gpu=\"{i}\",UUID=\"{uuid}\",pci_bus_id=\"{bus}\",device=\"nvidia{i}\",modelName=\"{GPU_MODEL}\",\
                 Hostname=\"{hostname}\",DCGM_FI_DRIVER_VERSION=\"{DRIVER_VERSION}\"",
                i = gpu.index,
                uuid = gpu.uuid,
                bus = gpu.pci_bus_id,
            )
        })
        .collect();
    let mut line = String::with_capacity(320);
    for family in DCGM {
        page.header(DCGM, family.name);
        for (gpu, labels) in gpus.iter().zip(&labels) {
            let value = field(family.name, gpu);
            line.clear();
            let _ = write!(line, "{}{{{labels}", family.name);
            if family.name == "DCGM_FI_DEV_XID_ERRORS" {
                let msg = xid_message(gpu.xid);
                let _ = write!(line, ",err_code=\"{}\",err_msg=\"{msg}\"", gpu.xid);
            }
            let _ = match value {
                Value::Int(v) => write!(line, "}} {v}"),
                Value::Double(v) => write!(line, "}} {v:.6}"),
            };
            page.line(&line);
        }
    }
    page.into_string()
}

fn field(name: &str, gpu: &Gpu) -> Value {
    let util = gpu.util / 100.0;
    match name {
        "DCGM_FI_DEV_SM_CLOCK" => Value::Int(gpu.sm_clock_mhz.round() as i64),
        "DCGM_FI_DEV_MEM_CLOCK" => Value::Int(2619),
        "DCGM_FI_DEV_CLOCKS_EVENT_REASONS" => Value::Int(gpu.clock_event_reasons as i64),
        "DCGM_FI_DEV_MEMORY_TEMP" => Value::Int(gpu.mem_temp_c.round() as i64),
        "DCGM_FI_DEV_GPU_TEMP" => Value::Int(gpu.temp_c.round() as i64),
        "DCGM_FI_DEV_POWER_USAGE" => Value::Double(gpu.power_w),
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION" => Value::Int(gpu.energy_mj as i64),
        "DCGM_FI_DEV_GPU_UTIL" => Value::Int(gpu.util.round() as i64),
        "DCGM_FI_DEV_MEM_COPY_UTIL" => Value::Int(gpu.mem_copy_util.round() as i64),
        "DCGM_FI_DEV_XID_ERRORS" => Value::Int(i64::from(gpu.xid)),
        "DCGM_FI_DEV_FB_FREE" => Value::Int(gpu.fb_free_mib().round() as i64),
        "DCGM_FI_DEV_FB_USED" => Value::Int(gpu.fb_used_mib.round() as i64),
        "DCGM_FI_DEV_FB_RESERVED" => Value::Int(gpu.fb_reserved_mib() as i64),
        "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL" => Value::Int(gpu.nvlink_total as i64),
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE" => Value::Double(util * 0.99),
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE" => Value::Double(util * 0.4),
        "DCGM_FI_PROF_DRAM_ACTIVE" => Value::Double(util * 0.74),
        "DCGM_FI_PROF_PCIE_TX_BYTES" => Value::Double(gpu.pcie_tx_bytes.round()),
        "DCGM_FI_PROF_PCIE_RX_BYTES" => Value::Double(gpu.pcie_rx_bytes.round()),
        // PCIe replays, encoder/decoder, remapped rows: zero on a healthy inference GPU.
        _ => Value::Int(0),
    }
}

/// `err_msg` for an XID, as the exporter's table names the common ones.
fn xid_message(xid: u32) -> &'static str {
    match xid {
        0 => "No Error",
        13 => "Graphics Engine Exception",
        31 => "GPU memory page fault",
        48 => "Double Bit ECC Error",
        79 => "GPU has fallen off the bus",
        94 => "Contained ECC error",
        _ => "Unknown Error",
    }
}
