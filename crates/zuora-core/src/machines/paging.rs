//! Paged reads (search, report data) with stop rules that do not depend on the server's good
//! will: a page that repeats the one before, more pages than the cap, or the caller's
//! deadline ends the paging with a typed error. Whatever the server answers, a paged read
//! ends, and its memory is bounded by the page cap.

use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use crate::config::ClientConfig;
use crate::errors::error::{Error, PagingStop};
use crate::operations::report_runs::{
    DataPage, ReportDataPage, ReportSummary, SearchPage, SearchReports,
};
use crate::operations::request::CallOptions;

pub use crate::config::DEFAULT_MAX_PAGES;

/// The stop rules every paged read shares.
#[derive(Debug)]
pub struct PageGuard {
    operation: &'static str,
    pages: u32,
    max_pages: u32,
    last: Option<u64>,
    started: Instant,
    deadline: Duration,
}

impl PageGuard {
    /// A guard for a read starting at `now` that may fetch `max_pages` pages within
    /// `deadline`.
    pub fn new(operation: &'static str, max_pages: u32, deadline: Duration, now: Instant) -> Self {
        Self {
            operation,
            pages: 0,
            max_pages: max_pages.max(1),
            last: None,
            started: now,
            deadline,
        }
    }

    /// Pages accepted so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Accepts a page whose content hashes to `fingerprint`, received at `now`, or ends the
    /// read.
    pub fn accept(&mut self, fingerprint: u64, now: Instant) -> Result<(), Error> {
        let stop = |reason| Error::PagingStopped {
            operation: self.operation,
            pages: self.pages,
            reason,
        };
        if self.last == Some(fingerprint) {
            return Err(stop(PagingStop::RepeatedPage));
        }
        if self.pages >= self.max_pages {
            return Err(stop(PagingStop::TooManyPages {
                limit: self.max_pages,
            }));
        }
        if now.saturating_duration_since(self.started) > self.deadline {
            return Err(stop(PagingStop::DeadlineReached {
                deadline: self.deadline,
            }));
        }
        self.pages += 1;
        self.last = Some(fingerprint);
        Ok(())
    }
}

fn fingerprint(parts: impl Hash) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

/// *Search reports by name* over every page: ask [`next_page`](Self::next_page) what to
/// fetch, hand each answer to [`on_page`](Self::on_page), then take
/// [`into_reports`](Self::into_reports).
///
/// ```
/// use std::time::{Duration, Instant};
/// use zuora_core::{operations::CallOptions, machines::SearchAll, operations::SearchPage};
/// let now = Instant::now();
/// let mut search = SearchAll::new("Invoice", CallOptions::default(), 3, Duration::from_secs(60), now)?;
/// let full: SearchPage = serde_json::from_str(&format!(
///     "{{\"reports\":[{}]}}",
///     (0..50).map(|n| format!("{{\"id\":\"r{n}\",\"name\":\"Invoice {n}\"}}")).collect::<Vec<_>>().join(",")
/// ))?;
/// assert!(search.next_page().is_some());
/// search.on_page(full.clone(), now)?;
/// // A server that answers the same full page again does not keep the search going.
/// assert!(search.on_page(full, now).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SearchAll {
    next: Option<SearchReports>,
    found: Vec<ReportSummary>,
    guard: PageGuard,
}

impl SearchAll {
    /// A search over every page of `query`'s results as `config` bounds it: at most
    /// [`max_pages`](ClientConfig::max_pages) pages, within the overall timeout from `now`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a blank query.
    pub fn of_query(config: &ClientConfig, query: &str, now: Instant) -> Result<Self, Error> {
        Self::new(
            query,
            config.call_options(None),
            config.max_pages(),
            config.overall_timeout(),
            now,
        )
    }

    /// A search for `query` starting at `now`, at most `max_pages` pages within `deadline`.
    pub fn new(
        query: &str,
        options: CallOptions,
        max_pages: u32,
        deadline: Duration,
        now: Instant,
    ) -> Result<Self, Error> {
        let first = SearchReports::new(query, options);
        crate::operations::operation::Operation::validate(&first)?;
        Ok(Self {
            next: Some(first),
            found: Vec::new(),
            guard: PageGuard::new("search_reports", max_pages, deadline, now),
        })
    }

    /// The page to fetch next, or `None` when the search is complete.
    pub fn next_page(&self) -> Option<&SearchReports> {
        self.next.as_ref()
    }

    /// Takes the answer to [`next_page`](Self::next_page).
    pub fn on_page(&mut self, page: SearchPage, now: Instant) -> Result<(), Error> {
        let ids: Vec<&str> = page.reports.iter().map(|r| r.id.as_str()).collect();
        self.guard.accept(fingerprint(&ids), now)?;
        self.next = self
            .next
            .take()
            .and_then(|asked| asked.next_page(page.reports.len()));
        self.found.extend(page.reports);
        Ok(())
    }

    /// Every report found.
    pub fn into_reports(self) -> Vec<ReportSummary> {
        self.found
    }
}

/// The pages of *Report data as JSON* for one run, one at a time.
#[derive(Debug)]
pub struct DataPages {
    next: Option<ReportDataPage>,
    guard: PageGuard,
}

impl DataPages {
    /// Pages of `page_size` rows of `first`'s run from `now`, at most `max_pages` of them
    /// within `deadline`.
    pub fn new(first: ReportDataPage, max_pages: u32, deadline: Duration, now: Instant) -> Self {
        Self {
            next: Some(first),
            guard: PageGuard::new("report_data", max_pages, deadline, now),
        }
    }

    /// The pages of a completed run's data as `config` bounds them: `page_size` rows each,
    /// at most [`max_pages`](ClientConfig::max_pages) pages, within the overall timeout from
    /// `now`.
    pub fn of_run(
        config: &ClientConfig,
        run_id: &crate::ReportRunId,
        page_size: u64,
        now: Instant,
    ) -> Self {
        Self::new(
            ReportDataPage::first(run_id.clone(), page_size, config.call_options(None)),
            config.max_pages(),
            config.overall_timeout(),
            now,
        )
    }

    /// The page to fetch next, or `None` when every row has been read.
    pub fn next_page(&self) -> Option<&ReportDataPage> {
        self.next.as_ref()
    }

    /// Takes the answer to [`next_page`](Self::next_page); yields its rows.
    pub fn on_page(
        &mut self,
        page: DataPage,
        now: Instant,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, Error> {
        let edge = |row: Option<&serde_json::Map<String, serde_json::Value>>| {
            row.map(|r| serde_json::Value::Object(r.clone()).to_string())
        };
        let print = fingerprint((
            page.rows.len(),
            page.offset,
            edge(page.rows.first()),
            edge(page.rows.last()),
        ));
        if let Err(error) = self.guard.accept(print, now) {
            self.next = None;
            return Err(error);
        }
        self.next = self.next.take().and_then(|asked| asked.next_page(&page));
        Ok(page.rows)
    }

    /// Stops fetching (after an error).
    pub fn stop(&mut self) {
        self.next = None;
    }
}
