//! SIP messages over a stream (TCP or TLS), read with bounds on every size.
//!
//! A message is a start line, headers, an empty line, then exactly `Content-Length` bytes of
//! body (RFC 3261 §18.3: on a stream the length is what frames the message). Line ends may be
//! CRLF or bare LF. Header names are matched without case and compact forms are expanded
//! (`t` → To, `f` → From, `i` → Call-ID, `m` → Contact, `l` → Content-Length, `v` → Via …).
//! Folded header lines (starting with a space or a tab) are joined to the line before.
//!
//! Between messages a phone may send the RFC 5626 keepalive "ping" (CRLF CRLF); the reader
//! reports it so the server can answer the "pong" (CRLF).

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Bounds on what one message may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Start line and headers, with their line ends.
    pub max_head_bytes: usize,
    pub max_headers: usize,
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_head_bytes: 16 * 1024, max_headers: 64, max_body_bytes: 64 * 1024 }
    }
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { code: u16, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The full name, as RFC 3261 spells it for the headers it knows (`Call-ID`, `CSeq`).
    pub name: String,
    pub value: String,
}

/// A SIP request or response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

impl Message {
    pub fn request(method: &str, uri: &str) -> Self {
        Message {
            start: StartLine::Request { method: method.to_owned(), uri: uri.to_owned() },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn response(code: u16, reason: &str) -> Self {
        Message {
            start: StartLine::Response { code, reason: sanitize_reason(reason) },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// Status code of a response.
    pub fn code(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// Reason phrase of a response.
    pub fn reason(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    /// The first value of a header (name without case; compact forms accepted).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers_named(name).next()
    }

    /// Every value of a header, in order.
    pub fn headers_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let wanted = canonical_name(name);
        self.headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(&wanted)).map(|h| h.value.as_str())
    }

    /// Appends a header.
    pub fn push(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.headers.push(Header { name: canonical_name(name), value: value.into() });
        self
    }

    /// The message as sent: `Content-Length` is always written last, from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        match &self.start {
            StartLine::Request { method, uri } => out.push_str(&format!("{method} {uri} SIP/2.0\r\n")),
            StartLine::Response { code, reason } => out.push_str(&format!("SIP/2.0 {code} {reason}\r\n")),
        }
        for h in self.headers.iter().filter(|h| !h.name.eq_ignore_ascii_case("Content-Length")) {
            out.push_str(&format!("{}: {}\r\n", h.name, h.value));
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// A reason phrase safe to put on a status line: printable, one line, at most 200 characters.
pub fn sanitize_reason(reason: &str) -> String {
    let cleaned: String = reason.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        "Unknown".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// RFC 3261 names for the headers this crate reads or writes; others keep the peer's spelling.
pub fn canonical_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let known = match lower.as_str() {
        "v" | "via" => "Via",
        "f" | "from" => "From",
        "t" | "to" => "To",
        "i" | "call-id" => "Call-ID",
        "cseq" => "CSeq",
        "m" | "contact" => "Contact",
        "l" | "content-length" => "Content-Length",
        "c" | "content-type" => "Content-Type",
        "k" | "supported" => "Supported",
        "expires" => "Expires",
        "max-forwards" => "Max-Forwards",
        "user-agent" => "User-Agent",
        "server" => "Server",
        "allow" => "Allow",
        "warning" => "Warning",
        "date" => "Date",
        _ => return name.trim().to_owned(),
    };
    known.to_owned()
}

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("read error: {0}")]
    Io(io::Error),
    /// Nothing arrived within the idle timeout (between messages).
    #[error("idle timeout")]
    Idle,
    /// A message started but did not complete within the request timeout.
    #[error("message not completed in time")]
    Slow,
    /// The peer closed in the middle of a message.
    #[error("connection closed in the middle of a SIP message")]
    Truncated,
    /// Start line and headers exceed `max_head_bytes`.
    #[error("SIP headers too large")]
    HeadTooLarge,
    #[error("too many SIP headers")]
    TooManyHeaders,
    /// `Content-Length` above `max_body_bytes`; the head is returned so a 413 can be sent.
    #[error("SIP body of {length} bytes is too large")]
    BodyTooLarge { head: Box<Message>, length: usize },
    #[error("malformed SIP message: {0}")]
    Malformed(String),
}

/// What the reader got.
#[derive(Debug)]
pub enum Event {
    Message(Message),
    /// A CRLF CRLF keepalive; answer with CRLF.
    Ping,
    /// The peer closed the connection between messages.
    Closed,
}

/// Reads messages from a stream, keeping what arrived beyond the current one.
#[derive(Debug)]
pub struct Reader {
    buf: Vec<u8>,
    limits: Limits,
}

impl Reader {
    pub fn new(limits: Limits) -> Self {
        Reader { buf: Vec::new(), limits }
    }

    /// The next message or ping. Waits at most `idle` for its first byte, then at most `whole`
    /// for the rest of it.
    pub async fn next<R: AsyncRead + Unpin>(
        &mut self,
        r: &mut R,
        idle: Duration,
        whole: Duration,
    ) -> Result<Event, ReadError> {
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            // Keepalives and stray line ends before a message.
            let lead = self.buf.iter().take_while(|b| **b == b'\r' || **b == b'\n').count();
            if lead > 0 {
                let is_ping = self.buf[..lead].windows(4).any(|w| w == b"\r\n\r\n");
                // A lone CRLF may be the first half of a ping: keep it until more arrives.
                if is_ping || lead < self.buf.len() || lead >= 4 {
                    self.buf.drain(..lead);
                    if is_ping {
                        return Ok(Event::Ping);
                    }
                }
            }
            let started = self.buf.iter().any(|b| *b != b'\r' && *b != b'\n');
            if started {
                if let Some(event) = self.try_parse()? {
                    return Ok(Event::Message(event));
                }
            }
            let wait = match (started, deadline) {
                (false, _) => idle,
                (true, None) => {
                    let d = tokio::time::Instant::now() + whole;
                    deadline = Some(d);
                    whole
                }
                (true, Some(d)) => d.saturating_duration_since(tokio::time::Instant::now()),
            };
            let mut chunk = [0u8; 4096];
            let n = match tokio::time::timeout(wait, r.read(&mut chunk)).await {
                Err(_) => return Err(if started { ReadError::Slow } else { ReadError::Idle }),
                Ok(Err(e)) => return Err(ReadError::Io(e)),
                Ok(Ok(n)) => n,
            };
            if n == 0 {
                return if started { Err(ReadError::Truncated) } else { Ok(Event::Closed) };
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// A complete message at the front of the buffer, removed from it.
    fn try_parse(&mut self) -> Result<Option<Message>, ReadError> {
        let Some((head_end, body_start)) = find_head_end(&self.buf) else {
            if self.buf.len() > self.limits.max_head_bytes {
                return Err(ReadError::HeadTooLarge);
            }
            return Ok(None);
        };
        if head_end > self.limits.max_head_bytes {
            return Err(ReadError::HeadTooLarge);
        }
        let mut message = parse_head(&self.buf[..head_end], &self.limits)?;
        let length = content_length(&message)?;
        if length > self.limits.max_body_bytes {
            return Err(ReadError::BodyTooLarge { head: Box::new(message), length });
        }
        if self.buf.len() < body_start + length {
            return Ok(None);
        }
        message.body = self.buf[body_start..body_start + length].to_vec();
        self.buf.drain(..body_start + length);
        Ok(Some(message))
    }
}

/// A message in one datagram (UDP, RFC 3261 §18.3): the body is what follows the head, cut to
/// `Content-Length` when there is one; a datagram shorter than its `Content-Length` is malformed.
/// `None` for a datagram of only line ends (a keepalive).
pub fn parse_datagram(bytes: &[u8], limits: &Limits) -> Result<Option<Message>, ReadError> {
    let start = bytes.iter().position(|b| !matches!(b, b'\r' | b'\n')).unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    if bytes.is_empty() {
        return Ok(None);
    }
    let (head_end, body_start) = find_head_end(bytes).unwrap_or((bytes.len(), bytes.len()));
    if head_end > limits.max_head_bytes {
        return Err(ReadError::HeadTooLarge);
    }
    let mut message = parse_head(&bytes[..head_end], limits)?;
    let rest = &bytes[body_start.min(bytes.len())..];
    let length = match message.header("Content-Length") {
        Some(_) => content_length(&message)?,
        None => rest.len(),
    };
    if length > limits.max_body_bytes {
        return Err(ReadError::BodyTooLarge { head: Box::new(message), length });
    }
    if rest.len() < length {
        return Err(ReadError::Truncated);
    }
    message.body = rest[..length].to_vec();
    Ok(Some(message))
}

/// A `Date` header value as RFC 3261 §20.17 (RFC 1123) writes it: `Sat, 09 Mar 2019 18:32:46 GMT`.
/// Phones set their clock from it.
pub fn date(at: time::OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[usize::from(at.weekday().number_days_from_monday())],
        at.day(),
        MONTHS[usize::from(u8::from(at.month())) - 1],
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// End of the head (start of the empty line) and start of the body.
fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| (p, p + 4));
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|p| (p, p + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn content_length(m: &Message) -> Result<usize, ReadError> {
    let mut values = m.headers_named("Content-Length");
    let Some(first) = values.next() else { return Ok(0) };
    let parse = |v: &str| {
        let v = v.trim();
        if v.is_empty() || v.len() > 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReadError::Malformed(format!("Content-Length '{v}' is not a number")));
        }
        v.parse::<usize>().map_err(|_| ReadError::Malformed(format!("Content-Length '{v}' is not a number")))
    };
    let n = parse(first)?;
    for other in values {
        if parse(other)? != n {
            return Err(ReadError::Malformed("two different Content-Length headers".into()));
        }
    }
    Ok(n)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// Parses a start line and headers (without the empty line that ends them).
pub fn parse_head(head: &[u8], limits: &Limits) -> Result<Message, ReadError> {
    let text = std::str::from_utf8(head).map_err(|_| ReadError::Malformed("not UTF-8".into()))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or("");
    let start = parse_start_line(first)?;
    let mut headers: Vec<Header> = Vec::new();
    for line in lines {
        if line.bytes().any(|b| b == b'\r' || (b.is_ascii_control() && b != b'\t')) {
            return Err(ReadError::Malformed("control character in a header".into()));
        }
        if line.starts_with([' ', '\t']) {
            let Some(last) = headers.last_mut() else {
                return Err(ReadError::Malformed("continuation line before any header".into()));
            };
            // Folded onto one line with a single space; an empty part adds nothing, so that
            // the value reads the same once written back (no leading or trailing space).
            let more = line.trim();
            if !more.is_empty() {
                if !last.value.is_empty() {
                    last.value.push(' ');
                }
                last.value.push_str(more);
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Malformed(format!("header line without a colon: '{}'", clip(line))));
        };
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(ReadError::Malformed(format!("bad header name '{}'", clip(name))));
        }
        if headers.len() == limits.max_headers {
            return Err(ReadError::TooManyHeaders);
        }
        headers.push(Header { name: canonical_name(name), value: value.trim().to_owned() });
    }
    Ok(Message { start, headers, body: Vec::new() })
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

fn parse_start_line(line: &str) -> Result<StartLine, ReadError> {
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code
            .parse()
            .ok()
            .filter(|c| (100..700).contains(c))
            .ok_or_else(|| ReadError::Malformed(format!("bad status code '{}'", clip(code))))?;
        return Ok(StartLine::Response { code, reason: reason.to_owned() });
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed(format!("bad request line '{}'", clip(line))));
    };
    if !is_token(method) || uri.is_empty() || uri.bytes().any(|b| b.is_ascii_control()) {
        return Err(ReadError::Malformed(format!("bad request line '{}'", clip(line))));
    }
    if version != "SIP/2.0" {
        return Err(ReadError::Malformed(format!("unsupported version '{}'", clip(version))));
    }
    Ok(StartLine::Request { method: method.to_owned(), uri: uri.to_owned() })
}

/// Splits a header value on the commas that separate values (not those inside quotes or `<>`).
pub fn split_values(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut angle, mut escaped, mut start) = (false, false, false, 0);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                out.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value[start..].trim());
    out.retain(|v| !v.is_empty());
    out
}

/// The URI of a name-addr (`"Name" <sip:user@host>;tag=1`) or addr-spec (`sip:user@host;tag=1`).
pub fn uri_of(value: &str) -> &str {
    let v = value.trim();
    if let Some(open) = v.find('<') {
        let after = &v[open + 1..];
        return after.split('>').next().unwrap_or(after).trim();
    }
    // addr-spec: header parameters follow the first ';'.
    v.split(';').next().unwrap_or(v).trim()
}

/// The parameters after the URI (`tag`, `expires`, `+sip.instance` …), name lowercased.
pub fn params_of(value: &str) -> Vec<(String, Option<String>)> {
    let v = value.trim();
    let rest = match v.find('<') {
        Some(open) => v[open..].split_once('>').map(|(_, r)| r).unwrap_or(""),
        None => v.split_once(';').map(|(_, r)| r).unwrap_or(""),
    };
    rest.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, val)) => (k.trim().to_ascii_lowercase(), Some(val.trim().trim_matches('"').to_owned())),
            None => (p.to_ascii_lowercase(), None),
        })
        .collect()
}

/// One parameter of a name-addr, by name (without case).
pub fn param(value: &str, name: &str) -> Option<Option<String>> {
    let wanted = name.to_ascii_lowercase();
    params_of(value).into_iter().find(|(k, _)| *k == wanted).map(|(_, v)| v)
}

/// The user part of a `sip:`/`sips:` URI in a header value, e.g. `SEP2C3124C9F8E1`.
pub fn user_of(value: &str) -> Option<String> {
    let uri = uri_of(value);
    let lower = uri.to_ascii_lowercase();
    let rest = if lower.starts_with("sips:") {
        &uri[5..]
    } else if lower.starts_with("sip:") {
        &uri[4..]
    } else {
        return None;
    };
    let (userinfo, _) = rest.split_once('@')?;
    let user = userinfo.split([':', ';']).next().unwrap_or("");
    (!user.is_empty()).then(|| user.to_owned())
}

/// A response to `req` that copies what RFC 3261 §8.2.6.2 says it must: every Via, From, To
/// (with `to_tag` added when it has none and the response is final), Call-ID and CSeq.
pub fn response_to(req: &Message, code: u16, reason: &str, to_tag: &str) -> Message {
    let mut r = Message::response(code, reason);
    for via in req.headers_named("Via") {
        r.push("Via", via);
    }
    if let Some(from) = req.header("From") {
        r.push("From", from);
    }
    if let Some(to) = req.header("To") {
        if code >= 200 && param(to, "tag").is_none() {
            r.push("To", format!("{to};tag={to_tag}"));
        } else {
            r.push("To", to);
        }
    }
    for name in ["Call-ID", "CSeq"] {
        if let Some(v) = req.header(name) {
            r.push(name, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &str = "REGISTER sip:cucm.lab SIP/2.0\r\n\
        Via: SIP/2.0/TLS 192.0.2.7:51234;branch=z9hG4bK1\r\n\
        v: SIP/2.0/TLS 192.0.2.8;branch=z9hG4bK2\r\n\
        From: <sip:SEP2C3124C9F8E1@cucm.lab>;tag=abc\r\n\
        t: \"Phone\" <sip:SEP2C3124C9F8E1@cucm.lab>\r\n\
        Call-ID: 1@192.0.2.7\r\n\
        CSeq: 1 REGISTER\r\n\
        Contact: <sip:SEP2C3124C9F8E1@192.0.2.7:51234;transport=tls>;expires=600;\
        +u.sip!devicename.ccm.cisco.com=\"SEP2C3124C9F8E1\"\r\n\
        Subject: a\r\n  folded\r\n\
        l: 4\r\n\r\nbody";

    async fn read_all(bytes: &[u8], limits: Limits) -> Vec<Result<Event, ReadError>> {
        let mut r = Reader::new(limits);
        let mut input = bytes;
        let mut out = Vec::new();
        loop {
            let e = r.next(&mut input, Duration::from_secs(1), Duration::from_secs(1)).await;
            let stop = !matches!(e, Ok(Event::Message(_)) | Ok(Event::Ping));
            out.push(e);
            if stop {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn reads_pipelined_requests_with_bodies_and_pings() {
        let mut input = REGISTER.as_bytes().to_vec();
        input.extend_from_slice(b"\r\n\r\n");
        input.extend_from_slice(b"OPTIONS sip:cucm.lab SIP/2.0\nCall-ID: 2\n\n");
        let events = read_all(&input, Limits::default()).await;
        assert_eq!(events.len(), 4, "{events:?}");
        let Ok(Event::Message(m)) = &events[0] else { panic!("{events:?}") };
        assert_eq!(m.method(), Some("REGISTER"));
        assert_eq!(m.body, b"body");
        assert_eq!(m.headers_named("via").count(), 2);
        assert_eq!(m.header("Subject"), Some("a folded"));
        assert_eq!(user_of(m.header("To").unwrap()).as_deref(), Some("SEP2C3124C9F8E1"));
        let contact = m.header("m").unwrap();
        assert_eq!(param(contact, "expires"), Some(Some("600".into())));
        assert_eq!(param(contact, "+u.sip!devicename.ccm.cisco.com"), Some(Some("SEP2C3124C9F8E1".into())));
        assert!(matches!(events[1], Ok(Event::Ping)));
        let Ok(Event::Message(o)) = &events[2] else { panic!("{events:?}") };
        assert_eq!(o.method(), Some("OPTIONS"));
        assert!(matches!(events[3], Ok(Event::Closed)));
    }

    #[tokio::test]
    async fn refuses_what_is_too_big_or_broken() {
        let limits = Limits { max_head_bytes: 256, max_headers: 3, max_body_bytes: 10 };
        let big_head = format!("OPTIONS sip:a SIP/2.0\r\nX: {}\r\n\r\n", "a".repeat(300));
        assert!(matches!(read_all(big_head.as_bytes(), limits).await[0], Err(ReadError::HeadTooLarge)));
        let endless = "OPTIONS sip:a SIP/2.0\r\nX: ".to_owned() + &"a".repeat(1000);
        assert!(matches!(read_all(endless.as_bytes(), limits).await[0], Err(ReadError::HeadTooLarge)));
        let many = "OPTIONS sip:a SIP/2.0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
        assert!(matches!(read_all(many.as_bytes(), limits).await[0], Err(ReadError::TooManyHeaders)));
        let body = "OPTIONS sip:a SIP/2.0\r\nContent-Length: 11\r\n\r\n";
        assert!(matches!(read_all(body.as_bytes(), limits).await[0], Err(ReadError::BodyTooLarge { length: 11, .. })));
        for bad in [
            "GARBAGE\r\n\r\n",
            "OPTIONS sip:a SIP/3.0\r\n\r\n",
            "OPTIONS sip:a SIP/2.0\r\nno colon\r\n\r\n",
            "OPTIONS sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n",
            "OPTIONS sip:a SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n",
            "OPTIONS sip:a SIP/2.0\r\n folded first\r\n\r\n",
        ] {
            assert!(matches!(read_all(bad.as_bytes(), limits).await[0], Err(ReadError::Malformed(_))), "{bad}");
        }
        let cut = "OPTIONS sip:a SIP/2.0\r\nContent-Length: 5\r\n\r\nab";
        assert!(matches!(read_all(cut.as_bytes(), limits).await[0], Err(ReadError::Truncated)));
    }

    #[tokio::test]
    async fn never_panics_on_noise() {
        // A small deterministic generator: no dependency, same bytes on every run.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet = b"REGISTER sip:SEP@;:<>\"\r\n\t 0123456789Content-Length\xff\x00";
        for _ in 0..300 {
            let len = (x % 300) as usize;
            let mut bytes = b"OPTIONS sip:a SIP/2.0\r\n".to_vec();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                bytes.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let _ = read_all(&bytes, Limits::default()).await;
            let _ = read_all(&bytes[23..], Limits::default()).await;
        }
    }

    #[test]
    fn response_copies_the_dialog_headers_and_tags_to() {
        let head = REGISTER.split("\r\n\r\n").next().unwrap();
        let req = parse_head(head.as_bytes(), &Limits::default()).unwrap();
        let r = response_to(&req, 403, "bad\r\nthing", "t1");
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert!(text.starts_with("SIP/2.0 403 bad  thing\r\n"), "{text}");
        assert_eq!(r.headers_named("Via").count(), 2);
        assert!(r.header("To").unwrap().ends_with(";tag=t1"));
        assert_eq!(r.header("CSeq"), Some("1 REGISTER"));
        assert!(text.ends_with("Content-Length: 0\r\n\r\n"));
    }

    #[test]
    fn datagrams_and_dates() {
        let m = parse_datagram(REGISTER.as_bytes(), &Limits::default()).unwrap().unwrap();
        assert_eq!((m.method(), m.body.as_slice()), (Some("REGISTER"), &b"body"[..]));
        let no_length = "OPTIONS sip:a SIP/2.0\r\nCall-ID: 1\r\n\r\nxyz";
        assert_eq!(parse_datagram(no_length.as_bytes(), &Limits::default()).unwrap().unwrap().body, b"xyz");
        assert!(parse_datagram(b"\r\n\r\n", &Limits::default()).unwrap().is_none());
        let short = "OPTIONS sip:a SIP/2.0\r\nContent-Length: 9\r\n\r\nab";
        assert!(matches!(parse_datagram(short.as_bytes(), &Limits::default()), Err(ReadError::Truncated)));
        assert!(matches!(parse_datagram(b"\xff\xfe", &Limits::default()), Err(ReadError::Malformed(_))));
        let at = time::macros::datetime!(2019-03-09 18:32:46 UTC);
        assert_eq!(date(at), "Sat, 09 Mar 2019 18:32:46 GMT");
    }

    #[test]
    fn users_and_values() {
        assert_eq!(user_of("sips:SEP1@h;transport=tls").as_deref(), Some("SEP1"));
        assert_eq!(user_of("<sip:alice:secret@h>").as_deref(), Some("alice"));
        assert_eq!(user_of("<tel:+123>"), None);
        assert_eq!(user_of("<sip:h>"), None);
        assert_eq!(split_values("\"a,b\" <sip:x@h>, <sip:y@h;p=1,2>"), vec!["\"a,b\" <sip:x@h>", "<sip:y@h;p=1,2>"]);
    }
}
