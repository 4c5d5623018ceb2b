//! The phone models OpenCAPF knows, as CUCM names them (`CP-8861`), so that an import can warn
//! about a misspelled model instead of storing it silently.

/// Models CUCM offers for phones that take an LSC, plus the Jabber and ATA device types.
/// [U] The list is the common Cisco catalogue, not every model a CUCM release ships.
pub const KNOWN_MODELS: &[&str] = &[
    "CP-6821", "CP-6841", "CP-6851", "CP-6861", "CP-6871", "CP-7811", "CP-7821", "CP-7832", "CP-7841", "CP-7861",
    "CP-7906G", "CP-7911G", "CP-7941G", "CP-7942G", "CP-7945G", "CP-7961G", "CP-7962G", "CP-7965G", "CP-7975G",
    "CP-8811", "CP-8821", "CP-8832", "CP-8841", "CP-8845", "CP-8851", "CP-8861", "CP-8865", "CP-8875", "CP-9841",
    "CP-9851", "CP-9861", "CP-9871", "CP-DX650", "CP-DX70", "CP-DX80", "ATA-190", "ATA-191", "ATA-192", "CSF", "BOT",
    "TCT", "TAB",
];

/// Whether `model` is in [`KNOWN_MODELS`] (case-insensitive).
pub fn is_known_model(model: &str) -> bool {
    KNOWN_MODELS.iter().any(|m| m.eq_ignore_ascii_case(model.trim()))
}

/// A model as CUCM's BAT export writes its device type ("Cisco 8861") in the form OpenCAPF keeps
/// ("CP-8861"). [U] BAT writes "Cisco " and the number; other device types are kept as written.
pub fn model_from_device_type(device_type: &str) -> String {
    let t = device_type.trim();
    match t.strip_prefix("Cisco ") {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) && !rest.contains(' ') => format!("CP-{rest}"),
        _ => t.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bat_device_types_become_models() {
        assert_eq!(model_from_device_type("Cisco 8861"), "CP-8861");
        assert_eq!(model_from_device_type("CP-7841"), "CP-7841");
        assert!(is_known_model("cp-8861") && !is_known_model("CP-8816"));
    }
}
