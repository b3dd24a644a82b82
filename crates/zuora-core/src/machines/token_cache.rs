//! The token a client reuses until shortly before it expires.

use std::time::{Duration, Instant};

use crate::operations::token_request::MAX_TOKEN_LIFETIME;
use crate::values::secret::AccessToken;

/// Renew a token this long before it expires (Zuora's guide uses 300 s).
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The token a client reuses across calls, renewed [`TOKEN_REFRESH_MARGIN`] before it
/// expires (or halfway through its life, for a token that lives less than twice the margin)
/// rather than minted per call.
///
/// ```
/// use std::time::{Duration, Instant};
/// use zuora_core::{values::AccessToken, machines::TokenCache};
/// let now = Instant::now();
/// let mut cache = TokenCache::default();
/// assert!(cache.usable(now).is_none());
/// let token = AccessToken::new("t1")?;
/// cache.store(token.clone(), Duration::from_secs(3599), now);
/// assert_eq!(cache.usable(now + Duration::from_secs(3000)), Some(token.clone()));
/// assert_eq!(cache.usable(now + Duration::from_secs(3300)), None, "inside the 300 s margin");
/// cache.store(token.clone(), Duration::from_secs(60), now);
/// assert!(cache.usable(now + Duration::from_secs(29)).is_some(), "a short token keeps half its life");
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TokenCache {
    /// The token and when to stop using it.
    current: Option<(AccessToken, Instant)>,
}

impl TokenCache {
    /// The token to use at `now`, or `None` when a new one must be fetched.
    pub fn usable(&self, now: Instant) -> Option<AccessToken> {
        let (token, renew_at) = self.current.as_ref()?;
        (now < *renew_at).then(|| token.clone())
    }

    /// Keeps a token issued at `now`.
    pub fn store(&mut self, token: AccessToken, expires_in: Duration, now: Instant) {
        // A short-lived token keeps half its life, so it is used at least once.
        let expires_in = expires_in.min(MAX_TOKEN_LIFETIME);
        let margin = TOKEN_REFRESH_MARGIN.min(expires_in / 2);
        let renew_at = now
            .checked_add(expires_in.saturating_sub(margin))
            .unwrap_or(now);
        self.current = Some((token, renew_at));
    }

    /// Forgets `stale` after Zuora refused it; a newer token (stored meanwhile by another
    /// call) is kept, so concurrent 401s cause one refresh, not one each.
    pub fn invalidate(&mut self, stale: &AccessToken) {
        if self
            .current
            .as_ref()
            .is_some_and(|(token, _)| token == stale)
        {
            self.current = None;
        }
    }
}
