//! What the fuzz targets share: a reader that hands a stream to a parser in arbitrary chunks (as
//! TCP and TLS do), and a runtime to drive the async readers the servers use.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// `data` delivered in chunks whose sizes (1 to 64 bytes, sometimes a single byte, sometimes
/// whole) and pauses (`Pending`, then ready) follow a generator seeded by `plan`: the fuzzer
/// mutates the plan byte to explore other splits of the same bytes.
pub struct Chunked<'a> {
    data: &'a [u8],
    state: u64,
    paused: bool,
}

impl<'a> Chunked<'a> {
    pub fn new(data: &'a [u8], plan: u8) -> Self {
        Chunked { data, state: 0x9e37_79b9_7f4a_7c15 ^ u64::from(plan).wrapping_mul(0x0100_0000_01b3), paused: false }
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.data
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

impl AsyncRead for Chunked<'_> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let r = self.next();
        if !self.paused && r % 7 == 0 {
            // A pause between segments: the reader must keep its state across it.
            self.paused = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.paused = false;
        let want = match r % 4 {
            0 => 1,
            1 => self.data.len(),
            _ => 1 + ((r >> 8) % 64) as usize,
        };
        let n = want.min(buf.remaining()).min(self.data.len());
        let (now, later) = self.data.split_at(n);
        buf.put_slice(now);
        self.data = later;
        Poll::Ready(Ok(()))
    }
}

/// Runs a future to completion on this thread's runtime (made once: a runtime per input would
/// cost more than the parsing). Timers are enabled for the readers that set deadlines.
pub fn block_on<F: Future>(future: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime =
            tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a tokio runtime");
    }
    RUNTIME.with(|rt| rt.block_on(future))
}

/// What the CallManager does with every SIP message it reads, whatever its source: the header
/// helpers on every value, the claim of a REGISTER, and a response built from it, which must
/// itself be a message the codec reads back.
pub fn exercise_sip(message: &opencapf_callmanager::sip::Message) {
    use opencapf_callmanager::sip;
    for h in &message.headers {
        for v in sip::split_values(&h.value) {
            let _ = sip::uri_of(v);
            let _ = sip::params_of(v);
            let _ = sip::user_of(v);
        }
    }
    if message.method() == Some("REGISTER") {
        if let Ok((device, _, _)) = opencapf_callmanager::fuzzing::register_claim(message) {
            assert!(device.len() <= 64, "a claimed device name is a device name");
        }
    }
    if message.method().is_some() {
        let response = sip::response_to(message, 400, "Bad Request", "tag1");
        let bytes = response.to_bytes();
        let again = sip::parse_datagram(&bytes, &sip::Limits::default());
        assert!(
            matches!(again, Ok(Some(_)) | Err(sip::ReadError::HeadTooLarge | sip::ReadError::TooManyHeaders)),
            "a response the server builds is a SIP message: {again:?}"
        );
    }
}

/// A message the codec read, written again: the writing is a fixed point (what the codec
/// writes, it reads back to the same message).
pub fn sip_round_trip(message: &opencapf_callmanager::sip::Message, limits: &opencapf_callmanager::sip::Limits) {
    use opencapf_callmanager::sip;
    let once = message.to_bytes();
    match sip::parse_datagram(&once, limits) {
        Ok(Some(again)) => assert_eq!(again.to_bytes(), once, "writing a read message is a fixed point"),
        // Writing adds a Content-Length header, which may pass the limits.
        Err(sip::ReadError::TooManyHeaders | sip::ReadError::HeadTooLarge) => {}
        other => panic!("a message the codec wrote does not read back: {other:?}"),
    }
}
