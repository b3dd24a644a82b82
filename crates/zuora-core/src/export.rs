//! *Export results*: the operation, what a download wrote, and whether an answer is gzipped.
//! The converter the download feeds is [`crate::export_decoder`].

/// *Export results*: `GET /reportruns/export/{id}?pivoted=…` (`pivoted` always sent: Zuora's
/// OpenAPI description requires it). The answer streams; only a failed answer is read
/// whole, through [`Operation::parse_response`](crate::operations::Operation::parse_response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReportRun {
    pub(crate) run_id: crate::ReportRunId,
    pub(crate) pivoted: bool,
    pub(crate) options: crate::operations::CallOptions,
}

impl ExportReportRun {
    /// The flat table of `run_id`, with `options`' headers.
    pub fn new(run_id: crate::ReportRunId, options: crate::operations::CallOptions) -> Self {
        Self {
            run_id,
            pivoted: false,
            options,
        }
    }

    /// Crosstab (as in the UI) for Summary reports; `false` (the default) gives the flat
    /// table.
    pub fn pivoted(mut self, pivoted: bool) -> Self {
        self.pivoted = pivoted;
        self
    }
}

impl crate::operations::Operation for ExportReportRun {
    type Output = std::convert::Infallible;
    type Credential = crate::values::AccessToken;
    fn name(&self) -> &'static str {
        "export_report_run"
    }
    fn streams(&self) -> bool {
        true
    }
    fn resend_safety(&self) -> crate::operation::ResendSafety {
        crate::operation::ResendSafety::Idempotent
    }
    fn to_request(
        &self,
        environment: &crate::Environment,
        token: &crate::values::AccessToken,
    ) -> Result<crate::driver::HttpRequest, crate::Error> {
        let mut url = format!(
            "{}{}/reportruns/export/",
            environment.base_url(),
            crate::operations::REPORTING_PREFIX
        );
        crate::ids::push_path_segment(&mut url, self.run_id.as_str());
        url.push_str(if self.pivoted {
            "?pivoted=true"
        } else {
            "?pivoted=false"
        });
        crate::request::reporting_request(http::Method::GET, url, token, &self.options, Vec::new())
    }
    /// Only failed answers come here (a 200 is streamed): always an error.
    fn parse_response(
        &self,
        response: &crate::driver::HttpResponse,
        limits: crate::responses::ResponseLimits,
    ) -> Result<std::convert::Infallible, crate::responses::ResponseError> {
        let meta = crate::responses::ResponseMeta::from_response(response);
        let kind = match crate::responses::decode_body(response.headers(), response.body(), limits)
        {
            Ok(body) => {
                crate::response::classify_failure(meta.status, response.headers(), &body, "export")
            }
            Err(kind) => kind,
        };
        Err(crate::responses::ResponseError::new(meta, kind))
    }
}

/// What a download wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportSummary {
    /// Bytes received (compressed, if gzipped).
    pub bytes_received: u64,
    /// Bytes written to the output.
    pub bytes_written: u64,
    /// Status, `Zuora-Request-Id` and limits of the answer.
    pub meta: crate::responses::ResponseMeta,
}

impl ExportSummary {
    /// A summary from its parts.
    pub fn new(
        bytes_received: u64,
        bytes_written: u64,
        meta: crate::responses::ResponseMeta,
    ) -> Self {
        Self {
            bytes_received,
            bytes_written,
            meta,
        }
    }
}

/// Whether an answer's body is gzipped.
pub fn is_gzipped(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|c| c.trim().eq_ignore_ascii_case("gzip")))
}
