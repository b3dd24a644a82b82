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
    fn resend_safety(&self) -> crate::operations::operation::ResendSafety {
        crate::operations::operation::ResendSafety::Idempotent
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
        crate::values::ids::push_path_segment(&mut url, self.run_id.as_str());
        url.push_str(if self.pivoted {
            "?pivoted=true"
        } else {
            "?pivoted=false"
        });
        crate::operations::request::reporting_request(
            http::Method::GET,
            url,
            token,
            &self.options,
            Vec::new(),
        )
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
            Ok(body) => crate::responses::response::classify_failure(
                meta.status,
                response.headers(),
                &body,
                "export",
            ),
            Err(kind) => kind,
        };
        Err(crate::responses::ResponseError::new(meta, kind))
    }
}
