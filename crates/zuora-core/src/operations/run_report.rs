//! *Run a report*: `POST /reporting/api/rest/v1/reports/{ReportId}/reportrun?viewType=…`.

use std::io::Write;

use http::Method;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;

use crate::driver::transport::HttpRequest;
use crate::errors::error::Error;
use crate::filters::filter::FilterGroup;
use crate::operations::request::{CallOptions, REPORTING_PREFIX, header_value, reporting_request};
use crate::responses::header_text::names;
use crate::responses::response::{
    ResponseError, ResponseErrorKind, ResponseLimits, ResponseMeta, parse_success,
};
use crate::values::headers::{EntityIds, IdempotencyKey, TrackId};
use crate::values::ids::{ReportId, ReportRunId, ViewType, push_path_segment};
use crate::{Environment, values::AccessToken};

/// A *Run a report* call: which report, which view, and how to send it.
///
/// Without filters the body is `[]`, which keeps the report's saved filters (Zuora's OpenAPI
/// description requires a body; reference §12.3).
///
/// ```
/// use zuora_core::operations::{Operation, RunReport};
/// use zuora_core::{values::AccessToken, Environment, ViewType};
/// let call = RunReport::new("ff808081529f4e3401529fd373730070".parse()?, ViewType::Detail)
///     .track_id("nightly-invoices".parse()?)
///     .accept_gzip(true);
/// let token = AccessToken::new("c652cbc0ea384b9f81856a93a2a74538")?;
/// let request = call.to_request(&Environment::UsCloud2ApiSandbox, &token)?;
/// assert_eq!(
///     request.uri(),
///     "https://rest.apisandbox.zuora.com/reporting/api/rest/v1/reports/ff808081529f4e3401529fd373730070/reportrun?viewType=Detail"
/// );
/// assert_eq!(request.body().as_bytes(), b"[]");
///
/// // The transport sends `request` and hands back the answer:
/// let answer = http::Response::builder()
///     .status(200)
///     .body(r#"{"success":true,"response":{"reportRunId":"ff808081529f4e3401529fd61f080074"}}"#)?;
/// let started = RunReport::parse_response(&answer)?;
/// assert_eq!(started.report_run_id.as_str(), "ff808081529f4e3401529fd61f080074");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    report_id: ReportId,
    view_type: ViewType,
    filters: Vec<FilterGroup>,
    idempotency_key: Option<IdempotencyKey>,
    options: CallOptions,
    gzip_request_body: bool,
}

impl RunReport {
    /// A run of `report_id` in `view_type`, with the report's saved filters.
    pub fn new(report_id: ReportId, view_type: ViewType) -> Self {
        Self {
            report_id,
            view_type,
            filters: Vec::new(),
            idempotency_key: None,
            options: CallOptions::default(),
            gzip_request_body: false,
        }
    }

    /// Filter groups that replace the saved filters for this run.
    pub fn filters(mut self, groups: impl IntoIterator<Item = FilterGroup>) -> Self {
        self.filters = groups.into_iter().collect();
        self
    }

    /// `Idempotency-Key`: Zuora answers a repeat of this call with the first answer instead
    /// of starting a second run.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// `Zuora-Track-Id`.
    pub fn track_id(mut self, track_id: TrackId) -> Self {
        self.options.track_id = Some(track_id);
        self
    }

    /// `Zuora-Entity-Ids`.
    pub fn entity_ids(mut self, entity_ids: EntityIds) -> Self {
        self.options.entity_ids = Some(entity_ids);
        self
    }

    /// Replaces all common headers at once.
    pub fn call_options(mut self, options: CallOptions) -> Self {
        self.options = options;
        self
    }

    /// Gzip the request body and say so with `Content-Encoding: gzip`.
    pub fn gzip_request_body(mut self, on: bool) -> Self {
        self.gzip_request_body = on;
        self
    }

    /// Send `Accept-Encoding: gzip`.
    pub fn accept_gzip(mut self, on: bool) -> Self {
        self.options.accept_gzip = on;
        self
    }

    /// The report to run.
    pub fn report_id(&self) -> &ReportId {
        &self.report_id
    }

    /// The view to compute.
    pub fn view_type(&self) -> ViewType {
        self.view_type
    }

    /// The idempotency key, if set.
    pub fn idempotency_key_value(&self) -> Option<&IdempotencyKey> {
        self.idempotency_key.as_ref()
    }

    /// The JSON body before any compression: the filter groups, `[]` when there are none.
    pub fn json_body(&self) -> Vec<u8> {
        if self.filters.is_empty() {
            return b"[]".to_vec();
        }
        // Serialising plain structs of strings into a Vec cannot fail.
        serde_json::to_vec(&self.filters).unwrap_or_else(|_| b"[]".to_vec())
    }

    /// The URL of this call under `environment`.
    pub fn url(&self, environment: &Environment) -> String {
        let base = environment.base_url();
        let id = self.report_id.as_str();
        let mut url =
            String::with_capacity(base.len() + REPORTING_PREFIX.len() + 3 * id.len() + 40);
        url.push_str(base);
        url.push_str(REPORTING_PREFIX);
        url.push_str("/reports/");
        push_path_segment(&mut url, id);
        url.push_str("/reportrun?viewType=");
        url.push_str(self.view_type.as_str());
        url
    }

    /// Reads the answer to this call, with the default limits.
    pub fn parse_response<B: AsRef<[u8]>>(
        response: &http::Response<B>,
    ) -> Result<ReportRunStarted, ResponseError> {
        Self::parse_response_with_limits(response, ResponseLimits::default())
    }

    /// Reads the answer to this call within `limits`.
    pub fn parse_response_with_limits<B: AsRef<[u8]>>(
        response: &http::Response<B>,
        limits: ResponseLimits,
    ) -> Result<ReportRunStarted, ResponseError> {
        #[derive(Deserialize)]
        struct Started {
            #[serde(rename = "reportRunId")]
            report_run_id: String,
        }
        let (started, meta) = parse_success::<Started, B>(response, limits, "reportRunId")?;
        match ReportRunId::try_from(started.report_run_id) {
            Ok(report_run_id) => Ok(ReportRunStarted {
                report_run_id,
                meta,
            }),
            Err(source) => Err(ResponseError::new(
                meta,
                ResponseErrorKind::InvalidField {
                    field: "reportRunId",
                    source,
                },
            )),
        }
    }
}

/// Gzips a request body (gzip header with no name and mtime 0, so output is reproducible).
pub(crate) fn gzip(body: &[u8]) -> Result<Vec<u8>, Error> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 2 + 32),
        flate2::Compression::default(),
    );
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .map_err(|err| Error::build(&format!("gzip failed: {err}")))
}

/// Zuora accepted the run: its id, and what the response said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportRunStarted {
    /// The new run, to poll with *Retrieve a report run*.
    pub report_run_id: ReportRunId,
    /// Status, `Zuora-Request-Id`, echoed track id, rate limits.
    pub meta: ResponseMeta,
}

impl ReportRunStarted {
    /// `Zuora-Request-Id` of the answer.
    pub fn request_id(&self) -> Option<&str> {
        self.meta.request_id.as_deref()
    }
}

impl crate::operations::operation::Operation for RunReport {
    type Output = ReportRunStarted;
    type Credential = AccessToken;
    fn name(&self) -> &'static str {
        "run_report"
    }
    fn resend_safety(&self) -> crate::operations::operation::ResendSafety {
        if self.idempotency_key_value().is_some() {
            crate::operations::operation::ResendSafety::IdempotencyKey
        } else {
            crate::operations::operation::ResendSafety::Unsafe
        }
    }
    fn to_request(
        &self,
        environment: &Environment,
        token: &AccessToken,
    ) -> Result<HttpRequest, Error> {
        let body = if self.gzip_request_body {
            gzip(&self.json_body())?
        } else {
            self.json_body()
        };
        let url = self.url(environment);
        let mut request = reporting_request(Method::POST, url, token, &self.options, body)?;
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = &self.idempotency_key {
            headers.insert(names::IDEMPOTENCY_KEY, header_value(key.as_str())?);
        }
        if self.gzip_request_body {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Ok(request)
    }

    fn parse_response(
        &self,
        response: &crate::driver::transport::HttpResponse,
        limits: crate::responses::response::ResponseLimits,
    ) -> Result<ReportRunStarted, crate::responses::response::ResponseError> {
        RunReport::parse_response_with_limits(response, limits)
    }
}
