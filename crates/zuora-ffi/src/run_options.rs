//! `ZuoraRunOptions`: what *Run a report* sends, each part checked when it is set by the Rust
//! type that holds it (a report id, a track id, an idempotency key, filter groups).

use crate::boundary::FromC as _;
use zuora_core::{ReportId, RunReportOptions, ViewType};

use crate::boundary::{ZuoraStr, fail_with, free_handle, guard, handle_mut, put_handle};
use crate::code::ZuoraCode;

/// The view a report runs with.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZuoraViewType {
    /// The row-level view.
    ZuoraViewDetail = 1,
    /// The aggregated view.
    ZuoraViewSummary = 2,
}
crate::boundary::from_c!(ZuoraViewType: ZuoraViewDetail, ZuoraViewSummary);

/// A run to ask for.
pub struct ZuoraRunOptions {
    report_id: ReportId,
    view_type: ViewType,
    options: RunReportOptions,
}

impl ZuoraRunOptions {
    pub(crate) fn report_id(&self) -> &ReportId {
        &self.report_id
    }

    pub(crate) fn view_type(&self) -> ViewType {
        self.view_type
    }

    pub(crate) fn options(&self) -> &RunReportOptions {
        &self.options
    }

    /// Changes the options with a checked value.
    ///
    /// # Safety
    /// `this` must be NULL or live; `text` readable.
    unsafe fn set(
        this: *mut Self,
        text: ZuoraStr,
        what: &str,
        apply: impl FnOnce(RunReportOptions, &str) -> Result<RunReportOptions, zuora_core::Error>,
    ) -> ZuoraCode {
        guard(|| {
            let this = unsafe { handle_mut(this, "options") }?;
            let text = unsafe { text.required(what) }?;
            this.options = apply(this.options.clone(), text).map_err(fail_with)?;
            Ok(())
        })
    }
}

/// Options to run `report_id` with `view_type` (a value of `enum ZuoraViewType`; any other
/// is `ZUORA_ERR_STATE`); free with [`zuora_run_options_free`].
///
/// # Safety
/// `report_id` must be readable; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_options_new(
    report_id: ZuoraStr,
    view_type: u32,
    out: *mut *mut ZuoraRunOptions,
) -> ZuoraCode {
    guard(|| {
        let view_type = ZuoraViewType::from_c(view_type)?;
        let report_id: ReportId = unsafe { report_id.required("report_id") }?
            .parse()
            .map_err(fail_with)?;
        let view_type = match view_type {
            ZuoraViewType::ZuoraViewDetail => ViewType::Detail,
            ZuoraViewType::ZuoraViewSummary => ViewType::Summary,
        };
        let options = ZuoraRunOptions {
            report_id,
            view_type,
            options: RunReportOptions::default(),
        };
        unsafe { put_handle(out, options) }
    })
}

/// Frees options; NULL is ignored.
///
/// # Safety
/// `options` must be NULL or from [`zuora_run_options_new`], not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_options_free(options: *mut ZuoraRunOptions) {
    unsafe { free_handle(options) }
}

/// The `Zuora-Track-Id` header: at most 64 US-ASCII characters, none of `: ; " '`.
///
/// # Safety
/// `options` must be live; `track_id` readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_options_set_track_id(
    options: *mut ZuoraRunOptions,
    track_id: ZuoraStr,
) -> ZuoraCode {
    unsafe {
        ZuoraRunOptions::set(options, track_id, "track_id", |options, text| {
            Ok(options.track_id(text.parse()?))
        })
    }
}

/// The `Idempotency-Key` header (at most 255 characters); without one, a UUID is made per run.
///
/// # Safety
/// `options` must be live; `key` readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_options_set_idempotency_key(
    options: *mut ZuoraRunOptions,
    key: ZuoraStr,
) -> ZuoraCode {
    unsafe {
        ZuoraRunOptions::set(options, key, "idempotency_key", |options, text| {
            Ok(options.idempotency_key(text.parse()?))
        })
    }
}

/// Filter groups as JSON (one group or an array of them, as the CLI's `--filters`), replacing
/// the report's saved filters.
///
/// # Safety
/// `options` must be live; `json` readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_options_set_filters_json(
    options: *mut ZuoraRunOptions,
    json: ZuoraStr,
) -> ZuoraCode {
    unsafe {
        ZuoraRunOptions::set(options, json, "filters", |options, text| {
            Ok(options.filters(zuora_core::filters::parse_filter_groups(text)?))
        })
    }
}
