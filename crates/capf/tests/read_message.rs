//! `read_message` over a stream that fragments, stalls and fails.

use crate::common;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use opencapf_capf::proto::frame::{read_message, Command, FrameError, RawMessage};
use tokio::io::{AsyncRead, ReadBuf};

/// Hands out at most `chunk` bytes per read, returns Pending between reads
/// (as a TLS stream does between records) and can fail once on demand.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
    stall: bool,
    fail_at: Option<(usize, io::ErrorKind)>,
}

impl Trickle {
    fn new(data: Vec<u8>, chunk: usize) -> Self {
        Self { data, pos: 0, chunk, stall: false, fail_at: None }
    }
}

impl AsyncRead for Trickle {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Some((at, kind)) = self.fail_at {
            if self.pos >= at {
                self.fail_at = None;
                return Poll::Ready(Err(io::Error::new(kind, "injected")));
            }
        }
        self.stall = !self.stall;
        if self.stall {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = self.chunk.min(self.data.len() - self.pos).min(buf.remaining());
        let start = self.pos;
        buf.put_slice(&self.data[start..start + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

fn frame(command: Command, session: u32, body: &[u8]) -> Vec<u8> {
    RawMessage::new(command, session, body.to_vec()).encode().unwrap()
}

#[tokio::test]
async fn back_to_back_messages_one_byte_at_a_time() {
    let v = common::load("rsa1024_auth_example.json");
    let auth = common::hex_field(&v, "auth_response_message_hex");
    let rip = frame(Command::RequestInProgress, 1, &[]);
    let end = frame(Command::EndSession, 1, &[1, 0, 1, 0]);
    for chunk in [1, 3, 7, 8, 9, 4096] {
        let mut r = Trickle::new([auth.clone(), rip.clone(), end.clone()].concat(), chunk);
        let m = read_message(&mut r).await.unwrap();
        assert_eq!(m.encode().unwrap(), auth, "chunk {chunk}");
        assert_eq!(m.command, Command::AuthResponse);
        // The reader stopped at the message's end: the next ones are intact.
        assert_eq!(read_message(&mut r).await.unwrap().command, Command::RequestInProgress);
        assert_eq!(read_message(&mut r).await.unwrap().body, vec![1, 0, 1, 0]);
        assert!(matches!(read_message(&mut r).await, Err(FrameError::Closed)));
    }
}

#[tokio::test]
async fn truncation_inside_header_or_body() {
    let end = frame(Command::EndSession, 1, &[1, 0, 1, 0]);
    let mut r = Trickle::new(end[..5].to_vec(), 2);
    assert!(matches!(read_message(&mut r).await, Err(FrameError::TruncatedHeader { got: 5 })));
    let mut r = Trickle::new(end[..10].to_vec(), 3);
    assert!(matches!(read_message(&mut r).await, Err(FrameError::TruncatedBody { expected: 4, got: 2 })));
    // A 65535-byte declaration with a short stream: error, no hang.
    let mut big = end[..8].to_vec();
    big[6..8].copy_from_slice(&[0xff, 0xff]);
    big.extend_from_slice(&[0; 100]);
    let mut r = Trickle::new(big, 4096);
    assert!(matches!(read_message(&mut r).await, Err(FrameError::TruncatedBody { expected: 65535, got: 100 })));
}

#[tokio::test]
async fn full_size_body_is_read() {
    let body = vec![0xab; 65535];
    let mut r = Trickle::new(frame(Command::FetchCertificateResponse, 9, &body), 1000);
    let m = read_message(&mut r).await.unwrap();
    assert_eq!((m.session_id, m.body.len()), (9, 65535));
}

#[tokio::test]
async fn bad_magic_stops_after_the_header() {
    let mut bytes = frame(Command::EndSession, 1, &[1, 0, 1, 0]);
    bytes[0] = 0x16; // a TLS record header where a CAPF message belongs
    let mut r = Trickle::new(bytes, 1);
    assert!(matches!(read_message(&mut r).await, Err(FrameError::BadMagic(0x16))));
    assert_eq!(r.pos, 8, "the body is not read");
}

#[tokio::test]
async fn io_errors_interrupted_is_retried_others_surface() {
    let end = frame(Command::EndSession, 1, &[1, 0, 1, 0]);
    let mut r = Trickle::new(end.clone(), 3);
    r.fail_at = Some((3, io::ErrorKind::Interrupted));
    assert_eq!(read_message(&mut r).await.unwrap().encode().unwrap(), end);
    let mut r = Trickle::new(end, 3);
    r.fail_at = Some((9, io::ErrorKind::ConnectionReset));
    let err = read_message(&mut r).await.unwrap_err();
    assert!(matches!(&err, FrameError::Io(e) if e.kind() == io::ErrorKind::ConnectionReset));
}
