//! The HTTP side: hyper 1 on tokio, and the steps every request goes through.

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue,
    RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use zuora_core::{TrackId, values::IdempotencyKey};

use crate::body::SimBody;
use crate::config::{Fault, FaultScope};
use crate::message::{SimRequest, SimResponse, parse_query};
use crate::routes::{self, Route};
use crate::state::{IdempotencyEntry, LoggedRequest, Shared, StoredResponse};

/// Zuora gzips bodies over 1000 bytes when asked (reference §10).
const GZIP_THRESHOLD: usize = 1000;
/// The largest request body the simulator reads, decoded.
const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// The service's error: close the connection without (the rest of) a response.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped (injected fault)")
    }
}

impl std::error::Error for DropConnection {}

/// Serves one connection until it closes.
pub(crate) async fn serve_connection(shared: Arc<Shared>, stream: tokio::net::TcpStream) {
    let _ = stream.set_nodelay(true);
    let io = hyper_util::rt::TokioIo::new(stream);
    let service = hyper::service::service_fn(move |request| handle(Arc::clone(&shared), request));
    // Errors here are clients going away or injected drops: nothing to report.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<SimResponse, DropConnection> {
    let (parts, incoming) = request.into_parts();
    let now = shared.clock.elapsed();
    if parts.uri.path() == "/sim/stats" && parts.method == Method::GET {
        // The simulator's own counters, for tests that watch a client from outside: never
        // faulted, never counted against the budget.
        let stats = shared.lock().stats(now);
        return Ok(routes::json_response(
            StatusCode::OK,
            stats.to_string().into_bytes(),
        ));
    }
    let route = Route::of(&parts.method, parts.uri.path());
    let fault = {
        let mut state = shared.lock();
        if state.log.len() >= crate::state::MAX_LOGGED_REQUESTS {
            // The oldest half goes: a simulator serving for days keeps bounded memory.
            let half = state.log.len() / 2;
            state.log.drain(..half);
        }
        state.log.push(LoggedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts
                .headers
                .iter()
                .filter(|(name, _)| *name != AUTHORIZATION)
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            at: now,
        });
        let in_scope = match state.settings.fault_scope {
            FaultScope::Everything => true,
            FaultScope::Reporting => !matches!(route, Route::Token),
            FaultScope::RunReport => matches!(route, Route::RunReport(_)),
        };
        if in_scope { state.draw_fault() } else { None }
    };

    let track_id = parts
        .headers
        .get("zuora-track-id")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mut response = match fault {
        Some(Fault::ConnectionReset) => return Err(DropConnection),
        Some(Fault::Status(status)) => routes::zan_error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "ZAN-REST-ERROR",
            "Internal error (injected fault).",
        ),
        Some(Fault::RateLimited { retry_after_secs }) => rate_limited(retry_after_secs),
        _ => {
            let raw = collect_body(incoming).await?;
            respond(&shared, route, parts, raw, fault, track_id.as_deref()).await
        }
    };
    finish(&shared, &mut response, track_id.as_deref());
    if fault == Some(Fault::CommitThenDrop) {
        return Err(DropConnection);
    }
    if fault == Some(Fault::CutOff) {
        return Ok(routes::cut_off(response));
    }
    Ok(response)
}

async fn collect_body(incoming: Incoming) -> Result<Bytes, DropConnection> {
    let limited = http_body_util::Limited::new(incoming, MAX_REQUEST_BODY);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(DropConnection),
    }
}

/// Budget, auth, header rules, body decoding, idempotency, then the route.
async fn respond(
    shared: &Shared,
    route: Route,
    parts: http::request::Parts,
    raw: Bytes,
    fault: Option<Fault>,
    track_id: Option<&str>,
) -> SimResponse {
    let now = shared.clock.elapsed();
    let budget = shared.lock().spend_budget(now);
    if !budget.allowed {
        let mut response = rate_limited(whole_seconds_until(budget.reset));
        set_rate_headers(
            response.headers_mut(),
            budget.limit,
            budget.window.as_secs(),
            0,
            whole_seconds_until(budget.reset),
        );
        return response;
    }
    if let Some(track_id) = track_id
        && let Err(rule) = TrackId::try_from(track_id)
    {
        return routes::zan_error(
            StatusCode::BAD_REQUEST,
            "ZAN-REST-ERROR",
            &format!("Invalid Zuora-Track-Id: {rule}"),
        );
    }
    if !matches!(route, Route::Token) && !routes::authorized(shared, &parts.headers, now) {
        return unauthorized();
    }
    let key = parts
        .headers
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if let Some(key) = &key {
        if parts.method != Method::POST && parts.method != Method::PATCH {
            return routes::zan_error(
                StatusCode::BAD_REQUEST,
                "ZAN-REST-ERROR",
                &format!(
                    "Request method '{}' not supported with Idempotency-Key header",
                    parts.method
                ),
            );
        }
        if let Err(rule) = IdempotencyKey::try_from(key.as_str()) {
            return routes::zan_error(
                StatusCode::BAD_REQUEST,
                "ZAN-REST-ERROR",
                &format!("Invalid Idempotency-Key: {rule}"),
            );
        }
    }
    let body = match decode_request_body(&parts.headers, raw) {
        Ok(body) => body,
        Err(message) => {
            return routes::zan_error(StatusCode::BAD_REQUEST, "ZAN-REST-ERROR", &message);
        }
    };
    let request = SimRequest {
        method: parts.method.clone(),
        query: parse_query(parts.uri.query().unwrap_or_default()),
        headers: parts.headers,
        body,
    };
    let target = parts.uri.to_string();
    let key = key.filter(|_| !matches!(route, Route::Token));
    if let Some(key) = &key
        && let Some(early) = idempotency_begin(shared, key, &request.method, &target, now)
    {
        return early;
    }
    if let Some(Fault::Delay(delay)) = fault {
        tokio::time::sleep(delay).await;
    }
    let mut response = routes::dispatch(shared, route, &request, key.as_deref());
    maybe_gzip(&request.headers, &mut response);
    if let Some(key) = &key {
        idempotency_end(
            shared,
            key,
            &request.method,
            &target,
            &mut response,
            track_id,
        );
    }
    response
}

/// Checks the store before a keyed request runs: replay, 409, 422, or go ahead.
fn idempotency_begin(
    shared: &Shared,
    key: &str,
    method: &Method,
    target: &str,
    now: std::time::Duration,
) -> Option<SimResponse> {
    let mut state = shared.lock();
    let ttl = state.settings.idempotency_ttl;
    let expired = match state.idempotency.get(key) {
        Some(IdempotencyEntry::Done { at, .. }) => now.saturating_sub(*at) >= ttl,
        Some(IdempotencyEntry::InFlight { since, .. }) => now.saturating_sub(*since) >= ttl,
        None => false,
    };
    if expired {
        state.idempotency.remove(key);
    }
    let answer = match state.idempotency.get(key) {
        None => None,
        Some(
            IdempotencyEntry::InFlight {
                method: m,
                target: t,
                ..
            }
            | IdempotencyEntry::Done {
                method: m,
                target: t,
                ..
            },
        ) if m != method || t != target => Some(routes::zan_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ZAN-REST-ERROR",
            "The Idempotency-Key was already used with a different HTTP method or URL.",
        )),
        Some(IdempotencyEntry::InFlight { .. }) => Some(routes::zan_error(
            StatusCode::CONFLICT,
            "ZAN-REST-ERROR",
            "A request with the same Idempotency-Key is still in progress.",
        )),
        Some(IdempotencyEntry::Done { response, .. }) => {
            let mut replay = Response::new(SimBody::full(response.body.clone()));
            *replay.status_mut() = response.status;
            *replay.headers_mut() = response.headers.clone();
            Some(replay)
        }
    };
    if answer.is_none() {
        state.idempotency.insert(
            key.to_owned(),
            IdempotencyEntry::InFlight {
                method: method.clone(),
                target: target.to_owned(),
                since: now,
            },
        );
    }
    answer
}

/// Records the answer to a keyed request, as it will be sent, for replays.
fn idempotency_end(
    shared: &Shared,
    key: &str,
    method: &Method,
    target: &str,
    response: &mut SimResponse,
    track_id: Option<&str>,
) {
    finish(shared, response, track_id);
    let body = match response.body_mut() {
        SimBody::Full(bytes) => bytes.clone().unwrap_or_default(),
        _ => Bytes::new(),
    };
    let now = shared.clock.elapsed();
    shared.lock().idempotency.insert(
        key.to_owned(),
        IdempotencyEntry::Done {
            method: method.clone(),
            target: target.to_owned(),
            at: now,
            response: StoredResponse {
                status: response.status(),
                headers: response.headers().clone(),
                body,
            },
        },
    );
}

fn decode_request_body(headers: &HeaderMap, raw: Bytes) -> Result<Bytes, String> {
    let gzipped = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
    if !gzipped {
        return Ok(raw);
    }
    let mut decoded = Vec::new();
    flate2::read::MultiGzDecoder::new(raw.as_ref())
        .take(MAX_REQUEST_BODY as u64 + 1)
        .read_to_end(&mut decoded)
        .map_err(|err| format!("The request body is not valid gzip: {err}"))?;
    if decoded.len() > MAX_REQUEST_BODY {
        return Err("The request body is too large.".to_owned());
    }
    Ok(Bytes::from(decoded))
}

/// Headers every answer carries, and gzip when asked. Idempotent: a response already
/// finished (a replay, or one recorded for replay) keeps its request id.
fn finish(shared: &Shared, response: &mut SimResponse, track_id: Option<&str>) {
    let headers = response.headers_mut();
    if !headers.contains_key("zuora-request-id") {
        let id = shared.lock().request_id();
        if let Ok(value) = HeaderValue::from_str(&id) {
            headers.insert("zuora-request-id", value);
        }
        if let Some(value) = track_id.and_then(|t| HeaderValue::from_str(t).ok()) {
            headers.insert("zuora-track-id", value);
        }
    }
    if !headers.contains_key("ratelimit-limit") {
        let (limit, window, remaining, reset) = {
            let now = shared.clock.elapsed();
            let budget = shared.lock().peek_budget(now);
            (
                budget.limit,
                budget.window.as_secs(),
                budget.remaining,
                whole_seconds_until(budget.reset),
            )
        };
        set_rate_headers(headers, limit, window, remaining, reset);
    }
}

/// Seconds to wait, rounded up: a client that waits exactly this long must find the window
/// reset.
fn whole_seconds_until(remaining: std::time::Duration) -> u64 {
    let seconds = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    seconds.max(1)
}

pub(crate) fn set_rate_headers(
    headers: &mut HeaderMap,
    limit: u64,
    window: u64,
    remaining: u64,
    reset: u64,
) {
    let pairs = [
        ("ratelimit-limit", format!("{limit}, {limit};w={window}")),
        ("ratelimit-remaining", remaining.to_string()),
        ("ratelimit-reset", reset.to_string()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// Gzips a finished response when the client asked and the body is big enough.
pub(crate) fn maybe_gzip(request_headers: &HeaderMap, response: &mut SimResponse) {
    let wants_gzip = request_headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|c| {
                c.split(';')
                    .next()
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("gzip"))
            })
        });
    let compressible = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            [
                "application/json",
                "application/xml",
                "text/html",
                "text/csv",
                "text/plain",
            ]
            .iter()
            .any(|m| t.starts_with(m))
        });
    if !wants_gzip || !compressible || response.headers().contains_key(CONTENT_ENCODING) {
        return;
    }
    let gzipped = match response.body_mut() {
        SimBody::Full(Some(bytes)) if bytes.len() > GZIP_THRESHOLD => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = std::io::Write::write_all(&mut encoder, bytes);
            match encoder.finish() {
                Ok(compressed) => {
                    *bytes = Bytes::from(compressed);
                    true
                }
                Err(_) => false,
            }
        }
        SimBody::Export(stream) => {
            let big = !stream.starts_smaller_than(GZIP_THRESHOLD + 1);
            if big {
                stream.gzip();
            }
            big
        }
        _ => false,
    };
    if gzipped {
        response
            .headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response.headers_mut().remove(CONTENT_LENGTH);
    }
}

fn rate_limited(retry_after_secs: u64) -> SimResponse {
    let mut response = routes::json_response(
        StatusCode::TOO_MANY_REQUESTS,
        br#"{"message":"request exceeded limit"}"#.to_vec(),
    );
    if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

fn unauthorized() -> SimResponse {
    let mut response = routes::json_response(
        StatusCode::UNAUTHORIZED,
        br#"{"message":"Authentication error"}"#.to_vec(),
    );
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Basic realm=Zuora API, ZSession realm=Zuora API, Bearer realm=Zuora API",
        ),
    );
    response
}
