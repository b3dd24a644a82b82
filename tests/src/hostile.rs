//! A deliberately misbehaving Zuora on loopback: plain threads over `std::net`, one thread per
//! connection, `Connection: close` after every answer. The token endpoint behaves; every
//! other request goes to the scenario's handler, which may answer forever, never, slowly, or
//! cut off. Each handler is bounded in time by the test that starts it, and the server stops
//! when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The access token the server hands out: tests check it never shows in any output.
pub const TOKEN: &str = "c652cbc0ea384b9f81856a93a2a74538";

/// The client id the server accepts (any secret is accepted).
pub const CLIENT_ID: &str = "6f1d2e3c-4b5a-4978-8a6b-5c4d3e2f1a0b";

/// One request as the handler sees it.
#[derive(Debug, Clone)]
pub struct HostileRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path and query.
    pub target: String,
}

type Handler = dyn Fn(&HostileRequest, &mut TcpStream) + Send + Sync;

/// The running server.
pub struct HostileServer {
    base_url: String,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
    tokens: Arc<AtomicU64>,
}

impl HostileServer {
    /// Starts a server whose non-token requests go to `handler`.
    pub fn start(
        handler: impl Fn(&HostileRequest, &mut TcpStream) + Send + Sync + 'static,
    ) -> Self {
        let listener = match TcpListener::bind("127.0.0.1:0") {
            Ok(listener) => listener,
            Err(error) => panic!("cannot listen on loopback: {error}"),
        };
        let base_url = match listener.local_addr() {
            Ok(address) => format!("http://{address}"),
            Err(error) => panic!("no local address: {error}"),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicU64::new(0));
        let tokens = Arc::new(AtomicU64::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (stopping, counting) = (Arc::clone(&stop), Arc::clone(&requests));
        let token_count = Arc::clone(&tokens);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                let counting = Arc::clone(&counting);
                let token_count = Arc::clone(&token_count);
                std::thread::spawn(move || serve(stream, &*handler, &counting, &token_count));
            }
        });
        Self {
            base_url,
            stop,
            requests,
            tokens,
        }
    }

    /// Token requests received so far.
    pub fn token_requests(&self) -> u64 {
        self.tokens.load(Ordering::Relaxed)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Requests other than token requests received so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.base_url.trim_start_matches("http://"));
    }
}

fn serve(mut stream: TcpStream, handler: &Handler, requests: &AtomicU64, tokens: &AtomicU64) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    let _ = reader.read_exact(&mut body);
    if target.starts_with("/oauth/token") {
        tokens.fetch_add(1, Ordering::Relaxed);
        let token =
            format!(r#"{{"access_token":"{TOKEN}","expires_in":3599,"token_type":"bearer"}}"#);
        respond(&mut stream, 200, "application/json", token.as_bytes());
        return;
    }
    requests.fetch_add(1, Ordering::Relaxed);
    handler(&HostileRequest { method, target }, &mut stream);
}

/// Writes a whole answer with `Content-Length` and `Connection: close`.
pub fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) {
    respond_with(stream, status, &[("Content-Type", content_type)], body);
}

/// Writes a whole answer with these headers, `Content-Length` and `Connection: close`.
pub fn respond_with(stream: &mut TcpStream, status: u16, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status} X\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

/// Writes the head of a streamed export (no length: the body ends when the connection
/// closes) and returns, for the handler to write the body as it likes.
pub fn start_export(stream: &mut TcpStream) {
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/csv;charset=utf-16\r\nConnection: close\r\n\r\n";
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.flush();
}

/// Writes the head of a streamed export that announces `length` bytes, so a connection
/// closed before them is a cut, not an end.
pub fn start_export_of_length(stream: &mut TcpStream, length: u64) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/csv;charset=utf-16\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.flush();
}

/// `text` as an export: UTF-16LE with a byte-order mark.
pub fn utf16_export(text: &str) -> Vec<u8> {
    [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect()
}

/// An export (head `n\tv`, then rows `1\tx`) whose `total` bytes of rows are written `chunk`
/// bytes at a time, `pause` apart: a trickle, a drip or a steady stream.
pub fn drip(stream: &mut TcpStream, chunk: usize, pause: std::time::Duration, total: usize) {
    start_export(stream);
    let _ = stream.write_all(&utf16_export("n\tv\n"));
    let rows = utf16_export(&"1\tx\n".repeat(total / 8 + 1));
    for piece in rows[2..2 + total].chunks(chunk.max(1)) {
        if stream.write_all(piece).is_err() {
            return;
        }
        std::thread::sleep(pause);
    }
}

/// A gzip stream of `n` zero bytes in about n/1000 bytes: fixed-Huffman back-references.
pub fn gzip_bomb(n: usize) -> Vec<u8> {
    // One literal 0, then repeated (length 258, distance 1) matches, in a fixed-Huffman block.
    struct Bits(Vec<u8>, u32, u32);
    impl Bits {
        fn put(&mut self, value: u32, count: u32) {
            for i in 0..count {
                self.1 |= ((value >> i) & 1) << self.2;
                self.2 += 1;
                if self.2 == 8 {
                    self.0.push(self.1 as u8);
                    self.1 = 0;
                    self.2 = 0;
                }
            }
        }
        fn put_reversed(&mut self, code: u32, count: u32) {
            for i in (0..count).rev() {
                self.put((code >> i) & 1, 1);
            }
        }
    }
    let mut bits = Bits(Vec::new(), 0, 0);
    bits.put(1, 1); // final block
    bits.put(1, 2); // fixed Huffman
    bits.put_reversed(0x30, 8); // literal 0
    let matches = (n - 1) / 258;
    for _ in 0..matches {
        bits.put_reversed(0b1100_0101, 8); // length code 285 (258)
        bits.put_reversed(0, 5); // distance code 0 (1)
    }
    bits.put_reversed(0, 7); // end of block
    if bits.2 > 0 {
        bits.0.push(bits.1 as u8);
    }
    let total = 1 + matches * 258;
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend_from_slice(&bits.0);
    out.extend_from_slice(&0u32.to_le_bytes()); // CRC unchecked before the cap is hit
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out
}

/// A 400 whose Zuora error message echoes the bearer token ([`TOKEN`]).
pub fn answer_echoing_the_token(stream: &mut TcpStream) {
    let inner = serde_json::json!({
        "errorId": "0001",
        "message": format!("the bearer token {TOKEN} is not allowed here"),
        "errorCode": "ZAN-USAGE-REST-ERROR",
    });
    let body = serde_json::json!({ "success": false, "response": inner.to_string() });
    respond(stream, 400, "application/json", body.to_string().as_bytes());
}

/// A 401 that asks for a bearer token, with the token ([`TOKEN`]) in its body.
pub fn answer_401_with_the_token(stream: &mut TcpStream) {
    respond_with(
        stream,
        401,
        &[
            ("Content-Type", "application/json"),
            ("WWW-Authenticate", "Bearer"),
        ],
        format!(r#"{{"message":"Authentication error","token":"{TOKEN}"}}"#).as_bytes(),
    );
}
