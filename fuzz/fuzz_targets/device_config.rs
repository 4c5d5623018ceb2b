//! `SEP<MAC>.cnf.xml` as a phone downloads it, arbitrary: `DeviceConfig::parse` may refuse it,
//! never panic.
//! The input is also wrapped in a `<device>` element, so that the
//! fuzzer reaches the element readers without first finding the root.

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_phone::DeviceConfig;

fuzz_target!(|data: &[u8]| {
    let _ = DeviceConfig::parse(data);
    let mut wrapped = b"<device>".to_vec();
    wrapped.extend_from_slice(data);
    wrapped.extend_from_slice(b"</device>");
    if let Ok(c) = DeviceConfig::parse(&wrapped) {
        assert!(c.call_managers.len() <= 5 && c.tvs.len() <= 5 && c.capf.len() <= 5);
        assert!(c.call_managers.windows(2).all(|w| w[0].priority <= w[1].priority));
    }
});
