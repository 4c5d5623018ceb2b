//! A device CSV as uploaded to `POST /api/v1/devices/import`: any bytes give devices and
//! problems, or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((devices, problems)) = opencapf_cluster::parse_device_csv(data) {
        // Every line is a device or a problem, never both.
        assert!(devices.len() + problems.len() <= data.iter().filter(|b| **b == b'\n').count() + 1);
    }
});
