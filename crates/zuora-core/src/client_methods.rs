//! The public methods `zuora-async` and `zuora-blocking` share, written once. Each transport
//! expands [`__shared_client_methods!`](crate::__shared_client_methods) with its own
//! client type, transport trait and `.await` (or nothing): the decisions are the core's
//! machines, and this is the one place that strings them into methods. Not for other use.

/// Expands into the shared methods of a transport's `Client<T>`; the caller provides
/// `execute_within` (the driver loop) and a `pause(Duration)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __shared_client_methods {
    (
        client = $client:ident,
        default_transport = $default:ty,
        token_lock = [$($lock:tt)*],
        send_bounds = [$($send:tt)*],
        output_bounds = [$($output:tt)*],
        transport = $bound:path,
        streaming = $streaming:path,
        writer = [$($writer:tt)*],
        asyncness = [$($async:tt)?],
        await = [$($await:tt)*],
        observer_bounds = [$($observer:tt)*],
        export_source = $source:ident
    ) => {
        impl<B> std::fmt::Debug for $source<B> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($source))
                    .field("download", &self.download)
                    .finish_non_exhaustive()
            }
        }

        impl<S> Finished<std::convert::Infallible, $crate::http::Response<S>> {
            /// A streamed export's body, and the download machine that reads it as `format`.
            fn into_download(
                self,
                format: $crate::ExportFormat,
                config: &$crate::ClientConfig,
            ) -> (S, $crate::machines::Download) {
                let response = match self {
                    Finished::Stream(response) => response,
                    Finished::Output(never) => match never {},
                };
                let download = $crate::machines::Download::start(&response, format, config);
                (response.into_body(), download)
            }
        }

        /// A Zuora Reporting client. Cheap to clone; clones share the token and the
        /// connection pool.
        pub struct $client<T = $default> {
            inner: std::sync::Arc<Inner<T>>,
        }

        struct Inner<T> {
            config: $crate::ClientConfig,
            transport: T,
            /// Idempotency keys and jitter seeds, from one OS seed.
            entropy: $crate::machines::Entropy,
            /// Held across a token fetch, so concurrent calls wait for one fetch.
            tokens: $($lock)*<$crate::machines::TokenCache>,
        }

        impl $client {
            /// A builder: environment or base URL, credentials, timeouts, retries, gzip, user
            /// agent.
            pub fn builder() -> $crate::ClientBuilder<Self> {
                $crate::ClientBuilder::new()
            }
        }

        impl<T: $bound> $client<T> {
            /// A client over your own HTTP stack.
            pub fn with_transport(config: $crate::ClientConfig, transport: T) -> Self {
                Self {
                    inner: std::sync::Arc::new(Inner {
                        config,
                        transport,
                        entropy: $crate::machines::Entropy::new(os_seed()),
                        tokens: $($lock)*::new($crate::machines::TokenCache::default()),
                    }),
                }
            }

            /// Runs any operation through the core's retry and token logic.
            pub $($async)? fn execute<O: $crate::operations::Operation $($send)*>(
                &self,
                operation: O,
            ) -> Result<O::Output, $crate::Error>
            where
                O::Output: $($output)*,
            {
                self.execute_within(operation, std::time::Duration::MAX)$($await)*
            }
        }

        /// What one send produced: an answer for the core, or a stream for the caller.
        enum Sent<S> {
            Answer($crate::driver::HttpResponse),
            Stream(S),
        }

        /// How a driven call ended.
        enum Finished<T, S> {
            Output(T),
            Stream(S),
        }

        /// A seed from the OS for the client's entropy; should the OS refuse, the clock
        /// stands in (keys must be unique, not secret).
        fn os_seed() -> u64 {
            $crate::machines::Entropy::seed_from(
                getrandom::u64().ok(),
                std::time::SystemTime::now(),
                std::process::id(),
            )
        }

        /// The time as the core wants it: monotonic for deadlines, wall clock for HTTP
        /// dates.
        fn now() -> $crate::driver::Now {
            $crate::driver::Now::new(std::time::Instant::now(), std::time::SystemTime::now())
        }

        /// A row of *Report data as JSON*: field id → value.
        pub type Row = $crate::__serde_json::Map<String, $crate::__serde_json::Value>;

        /// The rows of a run, fetched a page at a time as they are read (paging stops on a
        /// repeated page, the page cap or the overall timeout).
        pub struct Rows<'c, T> {
            client: &'c $client<T>,
            pages: $crate::machines::DataPages,
            buffered: std::collections::VecDeque<Row>,
        }

        impl<T: $bound> $client<T> {
            /// Every row of a completed run, a page (`page_size` rows) per request.
            pub fn rows(&self, run_id: &$crate::ReportRunId, page_size: u64) -> Rows<'_, T> {
                Rows {
                    client: self,
                    pages: self
                        .inner
                        .config
                        .data_pages(run_id, page_size, std::time::Instant::now()),
                    buffered: std::collections::VecDeque::new(),
                }
            }
        }

        impl<T: $bound> Rows<'_, T> {
            /// The next row, fetching a page when the last one is used up.
            $($async)? fn next_row(&mut self) -> Option<Result<Row, $crate::Error>> {
                loop {
                    if let Some(row) = self.buffered.pop_front() {
                        return Some(Ok(row));
                    }
                    let request = self.pages.next_page()?.clone();
                    let page = self.client.execute(request)$($await)*;
                    match page.and_then(|page| self.pages.on_page(page, std::time::Instant::now())) {
                        Ok(rows) => self.buffered.extend(rows),
                        Err(error) => {
                            self.pages.stop();
                            return Some(Err(error));
                        }
                    }
                }
            }
        }

        impl<T: $streaming> $client<T> {
            /// The whole trip in one call: resolve `report` (by id, or by exact name through
            /// search), run it, wait for it, and write its results to `out` as `format`.
            pub $($async)? fn run_and_download<W: $($writer)*>(
                &self,
                report: &$crate::ReportRef,
                view_type: $crate::ViewType,
                options: $crate::RunReportOptions,
                wait: $crate::WaitOptions,
                format: $crate::ExportFormat,
                out: &mut W,
            ) -> Result<($crate::ReportRun, $crate::ExportSummary), $crate::Error> {
                let report_id = match report {
                    $crate::ReportRef::Id(id) => id.clone(),
                    $crate::ReportRef::Name(name) => self.find_report(name.as_str())$($await)*?.id,
                };
                let started = self.run_report(&report_id, view_type, options)$($await)*?;
                let run = self.wait_for_run(&started.report_run_id, wait)$($await)*?;
                let summary = self.download_export(&run.id, format, out)$($await)*?;
                Ok((run, summary))
            }
        }

        impl<T> Clone for $client<T> {
            fn clone(&self) -> Self {
                Self {
                    inner: std::sync::Arc::clone(&self.inner),
                }
            }
        }

        impl<T> std::fmt::Debug for $client<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Client")
                    .field("config", &self.inner.config)
                    .finish_non_exhaustive()
            }
        }

        /// The report trip: run, find, look at, wait for and cancel runs.
        impl<T: $bound> $client<T> {
            /// The configuration.
            pub fn config(&self) -> &$crate::ClientConfig {
                &self.inner.config
            }

            /// *Run a report*: starts a run and returns its id with the response's request
            /// id. Without an idempotency key in `options`, one is made for this call and sent
            /// with every attempt.
            pub $($async)? fn run_report(
                &self,
                report_id: &$crate::ReportId,
                view_type: $crate::ViewType,
                options: $crate::RunReportOptions,
            ) -> Result<$crate::operations::ReportRunStarted, $crate::Error> {
                let key = self.inner.entropy.key_bytes();
                let operation = self.inner.config.run_report(report_id, view_type, options, key);
                self.execute(operation)$($await)*
            }

            /// Every report whose name, data source or description matches `query`, all
            /// pages (stopped with [`Error::PagingStopped`]($crate::Error::PagingStopped) by a
            /// repeated page, the page cap or the overall timeout).
            pub $($async)? fn search_reports(
                &self,
                query: &str,
            ) -> Result<Vec<$crate::operations::ReportSummary>, $crate::Error> {
                let mut search = self.inner.config.search_all(query, std::time::Instant::now())?;
                while let Some(page) = search.next_page().cloned() {
                    let answer = self.execute(page)$($await)*?;
                    search.on_page(answer, std::time::Instant::now())?;
                }
                Ok(search.into_reports())
            }

            /// The one report named exactly `name`; an error names zero or several matches.
            pub $($async)? fn find_report(
                &self,
                name: &str,
            ) -> Result<$crate::operations::ReportSummary, $crate::Error> {
                let found = self.search_reports(name)$($await)*?;
                $crate::operations::resolve_report_name(name, &found).cloned()
            }

            /// *Retrieve a report run*.
            pub $($async)? fn get_run(
                &self,
                run_id: &$crate::ReportRunId,
            ) -> Result<$crate::ReportRun, $crate::Error> {
                self.execute(self.inner.config.get_run(run_id))$($await)*
            }

            /// The caller's last completed run of a report (Zuora looks back 60 days).
            pub $($async)? fn latest_run(
                &self,
                report_id: &$crate::ReportId,
            ) -> Result<$crate::ReportRun, $crate::Error> {
                self.execute(self.inner.config.latest_run(report_id))$($await)*
            }

            /// Cancels a run in progress; returns Zuora's message.
            pub $($async)? fn cancel_run(
                &self,
                run_id: &$crate::ReportRunId,
            ) -> Result<String, $crate::Error> {
                self.execute(self.inner.config.cancel_run(run_id))$($await)*
            }

            /// Waits until the run completes: `ERROR`, `INVALID` and `CANCELLED` are
            /// [`Error::RunEnded`]($crate::Error::RunEnded); the timeout is
            /// [`Error::WaitTimedOut`]($crate::Error::WaitTimedOut) (after cancelling the run
            /// if `options.cancel_on_timeout`). The timeout bounds every look, one in flight
            /// too.
            pub $($async)? fn wait_for_run(
                &self,
                run_id: &$crate::ReportRunId,
                options: $crate::WaitOptions,
            ) -> Result<$crate::ReportRun, $crate::Error> {
                self.wait_for_run_with(run_id, options, |_| $crate::machines::WaitControl::Continue)$($await)*
            }

            /// [`wait_for_run`](Self::wait_for_run), showing each status seen to `observe`,
            /// which may stop the wait ([`WaitControl::Stop`]($crate::machines::WaitControl::Stop),
            /// then [`Error::Interrupted`]($crate::Error::Interrupted)).
            pub $($async)? fn wait_for_run_with(
                &self,
                run_id: &$crate::ReportRunId,
                options: $crate::WaitOptions,
                mut observe: impl FnMut(&$crate::ReportRun) -> $crate::machines::WaitControl $($observer)*,
            ) -> Result<$crate::ReportRun, $crate::Error> {
                let now = std::time::Instant::now;
                let (mut wait, mut step) = $crate::machines::Wait::new(run_id.clone(), options, now());
                loop {
                    step = match step {
                        $crate::machines::WaitStep::Look { budget } => {
                            let look = self.inner.config.get_run(run_id);
                            match self.execute_within(look, budget)$($await)* {
                                Ok(run) => {
                                    let control = observe(&run);
                                    wait.on_run(run, control, now())
                                }
                                Err(error) => wait.on_look_failed(error, now()),
                            }
                        }
                        $crate::machines::WaitStep::Sleep(delay) => {
                            pause(delay)$($await)*;
                            wait.after_sleep(now())
                        }
                        $crate::machines::WaitStep::Cancel { budget } => {
                            let cancel = self.inner.config.cancel_run(run_id);
                            let cancelled = self.execute_within(cancel, budget)$($await)*.is_ok();
                            wait.on_cancelled(cancelled)
                        }
                        $crate::machines::WaitStep::Done(result) => return *result,
                    };
                }
            }
        }
    };
}
