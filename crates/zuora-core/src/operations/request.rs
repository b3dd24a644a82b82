//! What every Reporting request carries: URL, bearer token and the optional common headers.

use http::Method;
use http::header::{ACCEPT_ENCODING, AUTHORIZATION, HeaderMap, HeaderValue};

use crate::driver::transport::{HttpRequest, RequestBody};
use crate::errors::error::Error;
use crate::responses::header_text::names;
use crate::values::headers::{EntityIds, TrackId};
use crate::values::secret::AccessToken;

/// The path every Reporting operation starts with, after the environment's base URL.
pub const REPORTING_PREFIX: &str = "/reporting/api/rest/v1";

/// Headers any Reporting call may carry besides the token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// `Zuora-Track-Id`, echoed by Zuora to tie your logs to theirs.
    pub track_id: Option<TrackId>,
    /// `Zuora-Entity-Ids`, for Multi-entity tenants.
    pub entity_ids: Option<EntityIds>,
    /// Send `Accept-Encoding: gzip` (Zuora then compresses answers over 1000 bytes).
    pub accept_gzip: bool,
}

/// A Reporting request: `url`, the bearer token and the headers every call shares.
/// `Authorization` is marked sensitive so that HTTP stacks keep it out of their logs.
///
/// Built in place rather than through `http::request::Builder`, which moves the whole
/// request through a closure per header (a tenth of this crate's cost per call).
pub(crate) fn reporting_request(
    method: Method,
    url: String,
    token: &AccessToken,
    options: &CallOptions,
    body: Vec<u8>,
) -> Result<HttpRequest, Error> {
    let mut request = new_request(method, url, body)?;
    let headers = request.headers_mut();
    headers.insert(AUTHORIZATION, token.authorization());
    if options.accept_gzip {
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    }
    track_and_entity_headers(headers, options)?;
    Ok(request)
}

/// `Zuora-Track-Id` and `Zuora-Entity-Ids`, when the call has them.
pub(crate) fn track_and_entity_headers(
    headers: &mut HeaderMap,
    options: &CallOptions,
) -> Result<(), Error> {
    if let Some(track_id) = &options.track_id {
        headers.insert(names::ZUORA_TRACK_ID, header_value(track_id.as_str())?);
    }
    if let Some(entity_ids) = &options.entity_ids {
        headers.insert(names::ZUORA_ENTITY_IDS, header_value(entity_ids.as_str())?);
    }
    Ok(())
}

/// A request with no headers yet.
pub(crate) fn new_request(
    method: Method,
    url: String,
    body: impl Into<RequestBody>,
) -> Result<HttpRequest, Error> {
    let uri = parsed_uri(url)
        .map_err(|err| Error::build(&format!("the request could not be assembled: {err}")))?;
    let mut request = HttpRequest::new(body.into());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    Ok(request)
}

/// `url` as an `http::Uri`, the last one parsed on this thread reused when it is asked for
/// again (the same report run again, a wait polling one run, the pages of one run). `http`
/// checks every byte of a URI, some 1,200 instructions for a Run-a-report URL; the comparison
/// with the last one costs a twentieth of that. A thread's memo rather than the session's:
/// no lock, and the URL is the whole key, so a memo shared by any callers is still right.
fn parsed_uri(url: String) -> Result<http::Uri, http::uri::InvalidUri> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, http::Uri)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        if let Some((text, uri)) = last.as_ref()
            && *text == url
        {
            return Ok(uri.clone());
        }
        let uri = http::Uri::try_from(url.as_str())?;
        *last = Some((url, uri.clone()));
        Ok(uri)
    })
}

/// A validated value as a header value; the validators admit only visible ASCII (and inner
/// spaces), so this fails only if a rule and this function disagree.
pub(crate) fn header_value(text: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(text)
        .map_err(|_| Error::build("a validated value is not a valid header value"))
}

#[cfg(test)]
mod tests {
    use super::parsed_uri;

    /// The memo gives what a fresh parse gives, for a URL again, a new one, and after a URL
    /// that does not parse (which leaves the memo as it was).
    #[test]
    fn the_memo_gives_what_a_parse_gives() {
        let run =
            "http://127.0.0.1:1/reporting/api/rest/v1/reports/a%20b/reportrun?viewType=Detail";
        let other = "http://127.0.0.1:1/reporting/api/rest/v1/reportruns/r1";
        for url in [run, run, other, "http://bad host/", run, other, other] {
            let fresh = http::Uri::try_from(url);
            let memo = parsed_uri(url.to_owned());
            assert_eq!(memo.is_ok(), fresh.is_ok(), "{url}");
            if let (Ok(memo), Ok(fresh)) = (memo, fresh) {
                assert_eq!(memo, fresh);
                assert_eq!(memo.to_string(), url);
            }
        }
    }
}
