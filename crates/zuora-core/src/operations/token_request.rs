//! `POST /oauth/token` (client credentials) and the token a client keeps between calls.

use std::time::Duration;

use http::Method;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Deserialize;

use crate::driver::transport::HttpRequest;
use crate::errors::error::Error;
use crate::operations::request::{CallOptions, new_request, track_and_entity_headers};
use crate::responses::response::{
    ResponseError, ResponseErrorKind, ResponseLimits, ResponseMeta, decode_body,
};
use crate::values::client_id::ClientId;
use crate::values::environment::Environment;
use crate::values::secret::{AccessToken, ClientSecret};

/// A `POST /oauth/token` call with client credentials.
///
/// ```
/// use zuora_core::operations::{NoToken, Operation, TokenRequest};
/// use zuora_core::{values::ClientSecret, Environment};
/// let call = TokenRequest::new("0b0d5b0e-1c8e-4b5a-9a55-6b1d2c3e4f50".parse()?, ClientSecret::new("s3cr3t")?);
/// let request = call.to_request(&Environment::UsCloud2ApiSandbox, &NoToken)?;
/// assert_eq!(request.uri(), "https://rest.apisandbox.zuora.com/oauth/token");
/// assert_eq!(request.headers()["content-type"], "application/x-www-form-urlencoded");
/// assert!(!format!("{call:?}").contains("s3cr3t"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    client_id: ClientId,
    client_secret: ClientSecret,
    options: CallOptions,
}

impl TokenRequest {
    /// A token request for these credentials.
    pub fn new(client_id: ClientId, client_secret: ClientSecret) -> Self {
        Self {
            client_id,
            client_secret,
            options: CallOptions::default(),
        }
    }

    /// `Zuora-Track-Id` and `Zuora-Entity-Ids` for the token call (no `Accept-Encoding`:
    /// token answers are small).
    pub fn call_options(mut self, options: CallOptions) -> Self {
        self.options = options;
        self
    }

    /// Reads the answer: the token, or a typed error (bad credentials are HTTP 400 with a
    /// `message`, reference §7).
    pub fn parse_response<B: AsRef<[u8]>>(
        response: &http::Response<B>,
        limits: ResponseLimits,
    ) -> Result<Token, ResponseError> {
        #[derive(Deserialize)]
        struct Answer {
            access_token: String,
            /// A number, or a number in a string (OAuth servers differ); anything else is
            /// read as absent.
            #[serde(default)]
            expires_in: Option<serde_json::Value>,
            #[serde(default)]
            scope: Option<serde_json::Value>,
        }
        let meta = ResponseMeta::from_response(response);
        let body = match decode_body(response.headers(), response.body().as_ref(), limits) {
            Ok(body) => body,
            Err(kind) => return Err(ResponseError::new(meta, kind)),
        };
        if meta.status.is_success()
            && let Ok(answer) = serde_json::from_slice::<Answer>(&body)
        {
            return match AccessToken::new(answer.access_token) {
                Ok(access_token) => Ok(Token {
                    access_token,
                    expires_in: lifetime(answer.expires_in.as_ref()),
                    scope: answer
                        .scope
                        .as_ref()
                        .and_then(serde_json::Value::as_str)
                        .map(|s| crate::responses::header_text::bounded(s, 4096)),
                }),
                Err(source) => Err(ResponseError::new(
                    meta,
                    ResponseErrorKind::InvalidField {
                        field: "access_token",
                        source,
                    },
                )),
            };
        }
        let mut kind = crate::responses::response::classify_failure(
            meta.status,
            response.headers(),
            &body,
            "access_token",
        );
        if meta.status.is_success() {
            // A 200 from the token endpoint may hold a live token in a shape we did not
            // expect: never quote it.
            kind.withhold_snippet();
        }
        Err(ResponseError::new(meta, kind))
    }
}

/// The longest lifetime a token is believed to have (Zuora's live an hour): a larger or
/// absurd `expires_in` is read as this.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// `expires_in` read leniently: a whole or fractional number of seconds, or such a number in
/// a string; missing or unreadable is Zuora's documented 3599 s; capped at
/// [`MAX_TOKEN_LIFETIME`].
fn lifetime(value: Option<&serde_json::Value>) -> Duration {
    const ZUORA_DEFAULT: Duration = Duration::from_secs(3599);
    let seconds = match value {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(s) if s.is_finite() && s >= 0.0 => {
            Duration::try_from_secs_f64(s).map_or(MAX_TOKEN_LIFETIME, |d| d.min(MAX_TOKEN_LIFETIME))
        }
        _ => ZUORA_DEFAULT,
    }
}

/// `application/x-www-form-urlencoded` value encoding, by the `form_urlencoded` crate
/// (already in the tree through `url`).
fn push_form_value(out: &mut String, value: &str) {
    out.extend(form_urlencoded::byte_serialize(value.as_bytes()));
}

/// An issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Token {
    /// The bearer token (redacted in `Debug`).
    pub access_token: AccessToken,
    /// Lifetime from issue (`expires_in`).
    pub expires_in: Duration,
    /// `scope`, space-separated.
    pub scope: Option<String>,
}

impl crate::operations::operation::Operation for TokenRequest {
    type Output = Token;
    type Credential = crate::operations::operation::NoToken;
    fn name(&self) -> &'static str {
        "create_token"
    }
    fn resend_safety(&self) -> crate::operations::operation::ResendSafety {
        crate::operations::operation::ResendSafety::Idempotent
    }
    fn answer_holds_secret(&self) -> bool {
        true
    }
    /// The request: form-encoded, with no `Authorization` header (reference §7).
    fn to_request(
        &self,
        environment: &Environment,
        _: &crate::operations::operation::NoToken,
    ) -> Result<HttpRequest, Error> {
        let mut body = String::with_capacity(96);
        body.push_str("client_id=");
        push_form_value(&mut body, self.client_id.as_str());
        body.push_str("&client_secret=");
        push_form_value(&mut body, self.client_secret.expose_secret());
        body.push_str("&grant_type=client_credentials");
        let url = format!("{}/oauth/token", environment.base_url());
        // Marked secret: the form holds the client secret, so it is wiped when dropped.
        let form = crate::driver::transport::RequestBody::secret(body.into_bytes());
        let mut request = new_request(Method::POST, url, form)?;
        let headers = request.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        track_and_entity_headers(headers, &self.options)?;
        Ok(request)
    }

    fn parse_response(
        &self,
        response: &crate::driver::transport::HttpResponse,
        limits: crate::responses::response::ResponseLimits,
    ) -> Result<Token, crate::responses::response::ResponseError> {
        TokenRequest::parse_response(response, limits)
    }
}
