//! SCCP (Skinny, TCP 2000/2443) as the CallManager reads a connection and the phone simulator
//! reads the answers: `read_frame` over arbitrary chunking with the server's length limit, then
//! each frame decoded by its id as the station handler and the phone do. What decodes as a
//! RegisterMessage must have a printable device name of at most 15 characters, which
//! encodes and decodes back to the same. The first input
//! byte picks the chunking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_callmanager::sccp::{self, id, read_frame, Frame, DEFAULT_MAX_LENGTH};
use opencapf_fuzz::{block_on, Chunked};

fn decode(frame: &Frame) {
    let data = &frame.data[..];
    let _ = sccp::message_name(frame.id);
    match frame.id {
        id::REGISTER => {
            if let Ok(m) = sccp::RegisterMessage::decode(data) {
                // 15 characters and their NUL (tests/fuzz_regressions.rs in callmanager).
                assert!(m.device_name.len() < sccp::DEVICE_NAME_LEN);
                assert!(m.device_name.bytes().all(|b| b.is_ascii_graphic()));
                let again = sccp::RegisterMessage::decode(&m.encode()).expect("an encoded RegisterMessage decodes");
                assert_eq!(again.device_name, m.device_name);
            }
        }
        id::LINE_STAT_REQ => drop(sccp::LineStatReq::decode(data)),
        id::CAPABILITIES_RES => drop(sccp::Capabilities::decode(data)),
        id::REGISTER_AVAILABLE_LINES => drop(sccp::RegisterAvailableLines::decode(data)),
        id::REGISTER_ACK => drop(sccp::RegisterAck::decode(data)),
        id::REGISTER_REJECT => drop(sccp::RegisterReject::decode(data)),
        id::BUTTON_TEMPLATE => drop(sccp::ButtonTemplate::decode(data)),
        id::SOFT_KEY_TEMPLATE_RES => drop(sccp::SoftKeyTemplate::decode(data)),
        id::SOFT_KEY_SET_RES => drop(sccp::SoftKeySets::decode(data)),
        id::SELECT_SOFT_KEYS => drop(sccp::SelectSoftKeys::decode(data)),
        id::LINE_STAT => drop(sccp::LineStat::decode(data)),
        id::CONFIG_STAT => drop(sccp::ConfigStat::decode(data)),
        id::DEFINE_TIME_DATE => drop(sccp::DefineTimeDate::decode(data)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&plan, stream)) = data.split_first() else { return };
    block_on(async {
        let mut chunks = Chunked::new(stream, plan);
        let mut consumed = 0;
        loop {
            match read_frame(&mut chunks, DEFAULT_MAX_LENGTH).await {
                Ok(Some(frame)) => {
                    assert!(frame.data.len() + 4 <= DEFAULT_MAX_LENGTH as usize);
                    let bytes = frame.encode();
                    assert_eq!(
                        &stream[consumed..consumed + bytes.len()],
                        &bytes[..],
                        "a frame read is the bytes consumed"
                    );
                    consumed += bytes.len();
                    decode(&frame);
                }
                Ok(None) => {
                    assert_eq!(consumed, stream.len());
                    break;
                }
                Err(_) => break,
            }
        }
    });
    // Every decoder on the whole input, whatever the id: the phone's and the server's.
    for id in [
        id::REGISTER,
        id::LINE_STAT_REQ,
        id::CAPABILITIES_RES,
        id::REGISTER_ACK,
        id::REGISTER_REJECT,
        id::BUTTON_TEMPLATE,
        id::SOFT_KEY_TEMPLATE_RES,
        id::SOFT_KEY_SET_RES,
        id::SELECT_SOFT_KEYS,
        id::LINE_STAT,
        id::CONFIG_STAT,
        id::DEFINE_TIME_DATE,
    ] {
        decode(&Frame::new(id, stream.to_vec()));
    }
});
