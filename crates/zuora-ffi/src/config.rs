//! `ZuoraConfig`: every setting of the Rust builder, one setter each. A setting whose rule
//! can be checked alone (a retry count, a body limit, an environment name) is checked when
//! set; the rest are checked together by [`zuora_session_new`](crate::session::zuora_session_new),
//! exactly as the Rust builder's `build` checks them.

use crate::boundary::FromC as _;
use zuora_core::policies::RetryPolicy;
use zuora_core::responses::ResponseLimits;
use zuora_core::{ClientBuilder, ClientConfig, Environment};

use crate::boundary::{ZuoraStr, fail_with, free_handle, guard, handle_mut, millis, put_handle};
use crate::code::ZuoraCode;

/// A client's settings, to make sessions from. Defaults as in Rust: gzip answers on, 10 s to
/// connect, 130 s per attempt, 5 min per call, the default retry policy, 16 MiB bodies.
#[derive(Default)]
pub struct ZuoraConfig {
    builder: ClientBuilder<ClientConfig>,
    retry: RetryPolicy,
    limits: ResponseLimits,
}

impl ZuoraConfig {
    /// The configuration these settings make, checked as the Rust builder checks it.
    pub(crate) fn build(&self) -> Result<ClientConfig, zuora_core::Error> {
        self.builder
            .clone()
            .retry(self.retry)
            .limits(self.limits)
            .into_config()
    }

    fn update(
        &mut self,
        set: impl FnOnce(ClientBuilder<ClientConfig>) -> ClientBuilder<ClientConfig>,
    ) {
        self.builder = set(std::mem::take(&mut self.builder));
    }
}

/// Which timeout [`zuora_config_set_timeout`] sets.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZuoraTimeout {
    /// To connect.
    ZuoraTimeoutConnect = 1,
    /// Per attempt (one request and its answer).
    ZuoraTimeoutAttempt = 2,
    /// Per call, every attempt and wait between them included.
    ZuoraTimeoutOverall = 3,
    /// Between two bytes of a streamed export.
    ZuoraTimeoutIdle = 4,
}
crate::boundary::from_c!(ZuoraTimeout: ZuoraTimeoutConnect, ZuoraTimeoutAttempt, ZuoraTimeoutOverall, ZuoraTimeoutIdle);

/// Which part of the retry policy [`zuora_config_set_retry`] sets.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZuoraRetrySetting {
    /// Attempts in all, the first included (1 to 50).
    ZuoraRetryMaxAttempts = 1,
    /// The first backoff, in milliseconds.
    ZuoraRetryBaseDelayMs = 2,
    /// The longest backoff, in milliseconds.
    ZuoraRetryMaxDelayMs = 3,
    /// The longest `Retry-After` obeyed, in milliseconds.
    ZuoraRetryMaxRetryAfterMs = 4,
}
crate::boundary::from_c!(ZuoraRetrySetting: ZuoraRetryMaxAttempts, ZuoraRetryBaseDelayMs, ZuoraRetryMaxDelayMs, ZuoraRetryMaxRetryAfterMs);

/// New settings with the defaults; free with [`zuora_config_free`].
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_new(out: *mut *mut ZuoraConfig) -> ZuoraCode {
    guard(|| unsafe { put_handle(out, ZuoraConfig::default()) })
}

/// Frees settings; NULL is ignored. Sessions made from them keep their own copy.
///
/// # Safety
/// `config` must be NULL or from [`zuora_config_new`], not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_free(config: *mut ZuoraConfig) {
    unsafe { free_handle(config) }
}

/// The API's base URL (`https://rest.zuora.com`, or a simulator's `http://127.0.0.1:PORT`).
///
/// # Safety
/// `config` must be a live handle; `url` must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_base_url(
    config: *mut ZuoraConfig,
    url: ZuoraStr,
) -> ZuoraCode {
    guard(|| {
        let config = unsafe { handle_mut(config, "config") }?;
        let url = unsafe { url.required("url") }?;
        config.update(|builder| builder.base_url(url));
        Ok(())
    })
}

/// A Zuora environment by name (`US`, `SBX`, `EU`, … as the CLI's `ZUORA_ENV`).
///
/// # Safety
/// `config` must be a live handle; `name` must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_environment(
    config: *mut ZuoraConfig,
    name: ZuoraStr,
) -> ZuoraCode {
    guard(|| {
        let config = unsafe { handle_mut(config, "config") }?;
        let name = unsafe { name.required("environment") }?;
        let environment: Environment = name.parse().map_err(fail_with)?;
        config.update(|builder| builder.environment(environment));
        Ok(())
    })
}

/// The OAuth client's id and secret. The secret is kept inside the library and is never
/// shown by any message.
///
/// # Safety
/// `config` must be a live handle; both strings must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_credentials(
    config: *mut ZuoraConfig,
    client_id: ZuoraStr,
    client_secret: ZuoraStr,
) -> ZuoraCode {
    guard(|| {
        let config = unsafe { handle_mut(config, "config") }?;
        let id = unsafe { client_id.required("client_id") }?;
        let secret = unsafe { client_secret.required("client_secret") }?;
        config.update(|builder| builder.credentials(id, secret));
        Ok(())
    })
}

/// The `Zuora-Entity-Ids` header sent with every call (a multi-entity tenant).
///
/// # Safety
/// `config` must be a live handle; `entity_ids` must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_entity_ids(
    config: *mut ZuoraConfig,
    entity_ids: ZuoraStr,
) -> ZuoraCode {
    guard(|| {
        let config = unsafe { handle_mut(config, "config") }?;
        let ids = unsafe { entity_ids.required("entity_ids") }?;
        config.update(|builder| builder.entity_ids(ids));
        Ok(())
    })
}

/// The `User-Agent` header.
///
/// # Safety
/// `config` must be a live handle; `user_agent` must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_user_agent(
    config: *mut ZuoraConfig,
    user_agent: ZuoraStr,
) -> ZuoraCode {
    guard(|| {
        let config = unsafe { handle_mut(config, "config") }?;
        let agent = unsafe { user_agent.required("user_agent") }?;
        config.update(|builder| builder.user_agent(agent));
        Ok(())
    })
}

/// One of the timeouts, in milliseconds. `which` is a value of `enum ZuoraTimeout`, passed
/// as an integer (any other is `ZUORA_ERR_STATE`).
///
/// # Safety
/// `config` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_timeout(
    config: *mut ZuoraConfig,
    which: u32,
    milliseconds: u64,
) -> ZuoraCode {
    guard(|| {
        let which = ZuoraTimeout::from_c(which)?;
        let config = unsafe { handle_mut(config, "config") }?;
        let value = millis(milliseconds);
        config.update(|builder| match which {
            ZuoraTimeout::ZuoraTimeoutConnect => builder.connect_timeout(value),
            ZuoraTimeout::ZuoraTimeoutAttempt => builder.attempt_timeout(value),
            ZuoraTimeout::ZuoraTimeoutOverall => builder.overall_timeout(value),
            ZuoraTimeout::ZuoraTimeoutIdle => builder.idle_timeout(value),
        });
        Ok(())
    })
}

/// One part of the retry policy; checked now, as `RetryPolicy`'s setters check it. `which`
/// is a value of `enum ZuoraRetrySetting` (any other is `ZUORA_ERR_STATE`).
///
/// # Safety
/// `config` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_retry(
    config: *mut ZuoraConfig,
    which: u32,
    value: u64,
) -> ZuoraCode {
    guard(|| {
        let which = ZuoraRetrySetting::from_c(which)?;
        let config = unsafe { handle_mut(config, "config") }?;
        let retry = config.retry;
        let updated = match which {
            ZuoraRetrySetting::ZuoraRetryMaxAttempts => {
                retry.with_max_attempts(u32::try_from(value).unwrap_or(u32::MAX))
            }
            ZuoraRetrySetting::ZuoraRetryBaseDelayMs => retry.with_base_delay(millis(value)),
            ZuoraRetrySetting::ZuoraRetryMaxDelayMs => retry.with_max_delay(millis(value)),
            ZuoraRetrySetting::ZuoraRetryMaxRetryAfterMs => {
                retry.with_max_retry_after(millis(value))
            }
        };
        config.retry = updated.map_err(fail_with)?;
        Ok(())
    })
}

/// The most bytes a whole answer may decode to (more is an error); checked now.
///
/// # Safety
/// `config` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_max_body_bytes(
    config: *mut ZuoraConfig,
    bytes: u64,
) -> ZuoraCode {
    guard(|| {
        let config = unsafe { handle_mut(config, "config") }?;
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        config.limits = config
            .limits
            .with_max_decoded_bytes(bytes)
            .map_err(fail_with)?;
        Ok(())
    })
}

/// The most pages a search or a report-data read may take before it is stopped.
///
/// # Safety
/// `config` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_max_pages(
    config: *mut ZuoraConfig,
    pages: u32,
) -> ZuoraCode {
    guard(|| {
        let config = unsafe { handle_mut(config, "config") }?;
        config.update(|builder| builder.max_pages(pages));
        Ok(())
    })
}

/// Ends an export whose converted output passes `bytes` with `ZUORA_ERR_EXPORT_BROKEN`; no
/// more than `bytes` of it reach the output. 0 (the default) sets no cap.
///
/// # Safety
/// `config` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_max_export_bytes(
    config: *mut ZuoraConfig,
    bytes: u64,
) -> ZuoraCode {
    guard(|| {
        let config = unsafe { handle_mut(config, "config") }?;
        config.update(|builder| builder.max_export_bytes((bytes > 0).then_some(bytes)));
        Ok(())
    })
}

/// Whether to ask for gzip answers (`Accept-Encoding: gzip`) and to gzip request bodies
/// (`Content-Encoding: gzip`).
///
/// # Safety
/// `config` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_config_set_gzip(
    config: *mut ZuoraConfig,
    responses: bool,
    requests: bool,
) -> ZuoraCode {
    guard(|| {
        let config = unsafe { handle_mut(config, "config") }?;
        config.update(|builder| builder.gzip_responses(responses).gzip_requests(requests));
        Ok(())
    })
}
