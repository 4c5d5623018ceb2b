//! SIP messages built from typed parts (`arbitrary`): a request line a phone sends, headers a
//! CP-7821 REGISTER holds (Via, From, To, Call-ID, CSeq, Contact with Cisco's parameters,
//! Expires, ...) in long or compact form, values assembled from display names, URIs and
//! parameters, folded lines, and a body. Random bytes rarely get past the request line; these
//! reach the header helpers and the REGISTER claim. Read as a datagram and as a stream.

#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use opencapf_callmanager::sip::{parse_datagram, Event, Limits, Reader};
use opencapf_fuzz::{block_on, Chunked};

const METHODS: [&str; 8] = ["REGISTER", "OPTIONS", "INVITE", "NOTIFY", "SUBSCRIBE", "REFER", "BYE", "ACK"];
const NAMES: [&str; 22] = [
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Contact",
    "Expires",
    "Content-Length",
    "Max-Forwards",
    "User-Agent",
    "Allow",
    "Supported",
    "Reason",
    "Event",
    "Content-Type",
    "v",
    "f",
    "t",
    "i",
    "m",
    "l",
    "k",
];
const PARAMS: [&str; 10] = [
    "tag",
    "expires",
    "+u.sip!devicename.ccm.cisco.com",
    "+sip.instance",
    "transport",
    "branch",
    "received",
    "x-cisco-newreg",
    "reg-id",
    "text",
];

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    user: String,
    host: String,
    headers: Vec<HeaderPart>,
    body: Vec<u8>,
    /// Line ends: CRLF or bare LF.
    bare_lf: bool,
    plan: u8,
}

#[derive(Arbitrary, Debug)]
struct HeaderPart {
    name: u8,
    other_name: String,
    values: Vec<ValuePart>,
    /// Fold the value onto a continuation line.
    folded: bool,
}

#[derive(Arbitrary, Debug)]
enum ValuePart {
    NameAddr { display: Option<String>, scheme: bool, user: String, host: String, params: Vec<(u8, Option<String>)> },
    AddrSpec { user: String, params: Vec<(u8, Option<String>)> },
    Number(u32),
    Token(String),
}

fn params(out: &mut String, params: &[(u8, Option<String>)]) {
    for (p, v) in params {
        out.push(';');
        out.push_str(PARAMS[usize::from(*p) % PARAMS.len()]);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
}

impl ValuePart {
    fn write(&self, out: &mut String) {
        match self {
            ValuePart::NameAddr { display, scheme, user, host, params: p } => {
                if let Some(d) = display {
                    out.push_str(&format!("\"{d}\" "));
                }
                out.push_str(&format!("<{}:{user}@{host}>", if *scheme { "sips" } else { "sip" }));
                params(out, p);
            }
            ValuePart::AddrSpec { user, params: p } => {
                out.push_str(&format!("sip:{user}@10.0.0.1"));
                params(out, p);
            }
            ValuePart::Number(n) => out.push_str(&n.to_string()),
            ValuePart::Token(t) => out.push_str(t),
        }
    }
}

fuzz_target!(|input: Input| {
    let eol = if input.bare_lf { "\n" } else { "\r\n" };
    let method = METHODS[usize::from(input.method) % METHODS.len()];
    let mut text = format!("{method} sip:{}@{} SIP/2.0{eol}", input.user, input.host);
    for h in &input.headers {
        text.push_str(NAMES.get(usize::from(h.name)).copied().unwrap_or(&h.other_name));
        text.push_str(": ");
        for (i, v) in h.values.iter().enumerate() {
            if i > 0 {
                text.push_str(if h.folded { &eol } else { ", " });
                if h.folded {
                    text.push_str(" ,");
                }
            }
            v.write(&mut text);
        }
        text.push_str(eol);
    }
    text.push_str(eol);
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(&input.body);

    let limits = Limits::default();
    if let Ok(Some(message)) = parse_datagram(&bytes, &limits) {
        opencapf_fuzz::exercise_sip(&message);
        opencapf_fuzz::sip_round_trip(&message, &limits);
    }
    block_on(async {
        let mut chunks = Chunked::new(&bytes, input.plan);
        let mut reader = Reader::new(limits);
        let long = Duration::from_secs(60);
        loop {
            match reader.next(&mut chunks, long, long).await {
                Ok(Event::Message(m)) => opencapf_fuzz::exercise_sip(&m),
                Ok(Event::Ping) => {}
                _ => break,
            }
        }
    });
});
