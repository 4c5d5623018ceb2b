//! A device CSV as uploaded to `POST /api/v1/devices/import`: any bytes give devices and
//! problems, or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((devices, problems)) = opencapf_cluster::parse_device_csv(data) {
        // Every record (a line ends at \n or \r) gives a device or a problem, never both.
        let lines = data.iter().filter(|b| matches!(**b, b'\n' | b'\r')).count() + 1;
        assert!(devices.len() + problems.len() <= lines);
    }
});
