//! CAPF framing over a TLS stream, as the server (and the phone simulator) read it: the bounded
//! `read_message` over arbitrary chunking, then every message decoded as the session does.
//! Invariants: a message read re-encodes to exactly the bytes consumed; a decoded message
//! re-encodes and decodes to the same message. The first input byte picks the chunking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_capf::proto::frame::{read_message, FrameError, RawMessage, MAX_BODY_LEN};
use opencapf_capf::proto::message::Message;
use opencapf_fuzz::{block_on, Chunked};

fuzz_target!(|data: &[u8]| {
    let Some((&plan, stream)) = data.split_first() else { return };
    block_on(async {
        let mut reader = Chunked::new(stream, plan);
        let mut consumed = Vec::new();
        // A connection reads messages until the first error (the session then ends).
        loop {
            match read_message(&mut reader).await {
                Ok(raw) => {
                    assert!(raw.body.len() <= MAX_BODY_LEN);
                    consumed.extend_from_slice(&raw.encode().expect("a message read encodes"));
                    assert_eq!(&stream[..consumed.len()], &consumed[..], "the reader consumed exactly one message");
                    check_decode(&raw);
                }
                Err(FrameError::Closed) => {
                    assert_eq!(consumed.len(), stream.len());
                    break;
                }
                Err(_) => break,
            }
        }
    });
    // The one-shot decoder agrees with the stream reader on a single whole message.
    if let Ok(raw) = RawMessage::decode(stream) {
        check_decode(&raw);
    }
});

fn check_decode(raw: &RawMessage) {
    if let Ok(decoded) = Message::decode(raw) {
        let bytes = decoded.message.encode(decoded.session_id).expect("a decoded message encodes");
        let again = Message::decode(&RawMessage::decode(&bytes).expect("an encoded message frames"))
            .expect("an encoded message decodes");
        assert_eq!(again.message, decoded.message);
        assert_eq!(again.session_id, decoded.session_id);
    }
}
