//! Inputs the fuzz targets (`fuzz/`, `scripts/fuzz.sh`) found, kept as tests.

use opencapf_callmanager::sccp::{MessageError, RegisterMessage, DEVICE_NAME_LEN};

/// The `sccp` target's RegisterMessage with a 16-byte device name and no NUL: it decoded to a
/// 16-character name that encoding then cut to 15, so the phone's name and the one answered
/// differed. The field is a C string: 15 characters and their NUL at most.
#[test]
fn a_register_message_whose_name_fills_its_field_without_a_nul_is_refused() {
    let mut data = RegisterMessage::new("SEP001122334455").encode();
    data[..DEVICE_NAME_LEN].copy_from_slice(b"SEP00112233445;5");
    assert_eq!(
        RegisterMessage::decode(&data),
        Err(MessageError::Unterminated { message: "RegisterMessage", field: "device name", size: DEVICE_NAME_LEN })
    );
    // The short form (36 bytes) is read the same way.
    assert!(matches!(RegisterMessage::decode(&data[..36]), Err(MessageError::Unterminated { .. })));
    // 15 characters and the NUL: read, and written back the same.
    let name = "SEP00112233445A";
    let m = RegisterMessage::decode(&RegisterMessage::new(name).encode()).unwrap();
    assert_eq!(m.device_name, name);
    assert_eq!(RegisterMessage::decode(&m.encode()).unwrap(), m);
}
