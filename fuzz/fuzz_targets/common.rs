//! Shared by the targets: an `http::Response` made from fuzz bytes.

/// `data` read as: a status (2 bytes), a gzip flag (1 byte), then `Retry-After`,
/// `RateLimit-Remaining`, `RateLimit-Reset` and `Date` values and the body, split at `\n`.
pub fn response(data: &[u8]) -> Option<http::Response<Vec<u8>>> {
    let (head, rest) = data.split_at_checked(3)?;
    let status = 100 + u16::from_le_bytes([head[0], head[1]]) % 500;
    let mut parts = rest.splitn(5, |&b| b == b'\n');
    let mut builder = http::Response::builder().status(status);
    if head[2] & 1 == 1 {
        builder = builder.header("Content-Encoding", "gzip");
    }
    for name in [
        "Retry-After",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "Date",
    ] {
        let value = parts.next().unwrap_or_default();
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            builder = builder.header(name, value);
        }
    }
    builder.body(parts.next().unwrap_or_default().to_vec()).ok()
}
