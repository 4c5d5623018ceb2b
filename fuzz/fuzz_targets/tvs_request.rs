//! The TVS codec on arbitrary input: the request parser (what a server reads from anyone on the
//! voice VLAN) and the response parser (what the phone simulator reads) may refuse the input,
//! never panic; what parses encodes back to the same bytes (one leading 0x01 in the name).

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_tvs::{Request, VerifyResponse};

fuzz_target!(|data: &[u8]| {
    if let Ok(Request::Verify(req)) = Request::parse(data) {
        let again = req.encode().expect("a parsed request encodes");
        assert_eq!(Request::parse(&again), Ok(Request::Verify(req)));
    }
    if let Ok(resp) = VerifyResponse::parse(data) {
        // Encoding writes the roles canonically (each once, in order): a fixed point after one pass.
        let once = resp.encode();
        assert_eq!(VerifyResponse::parse(&once).map(|r| r.encode()), Ok(once));
    }
});
