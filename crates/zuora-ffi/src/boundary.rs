//! The plumbing every function shares, written once: the panic boundary, the thread's last
//! error, and the checked conversions of C arguments (strings, byte slices, handles,
//! out-pointers).

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::code::ZuoraCode;

thread_local! {
    static LAST_ERROR: RefCell<CText> = RefCell::new(CText::new(""));
}

/// Remembers `message` as the calling thread's last error and returns `code`.
pub(crate) fn fail(code: ZuoraCode, message: impl Into<String>) -> ZuoraCode {
    LAST_ERROR.with(|last| *last.borrow_mut() = CText::new(message));
    code
}

/// An enum of the header that C passes as a `uint32_t`: C may pass any integer, and a Rust
/// enum holding a value it does not declare is undefined behaviour, so the integer is
/// checked here and an unknown one is `ZUORA_ERR_STATE` (rustls-ffi learned the same).
pub(crate) trait FromC: Sized + Copy + 'static {
    /// Every value, as declared.
    const ALL: &'static [Self];
    /// Its name in the header, for the error.
    const NAME: &'static str;
    /// The value's integer.
    fn raw(self) -> u32;

    /// The value `raw` stands for, or `ZUORA_ERR_STATE` with a message.
    fn from_c(raw: u32) -> Result<Self, ZuoraCode> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.raw() == raw)
            .ok_or_else(|| {
                fail(
                    ZuoraCode::ZuoraErrState,
                    format!("{raw} is not a value of enum {}", Self::NAME),
                )
            })
    }
}

/// Implements [`FromC`] for a fieldless `repr(C)` enum and its variants.
macro_rules! from_c {
    ($enum:ident: $($variant:ident),+ $(,)?) => {
        impl $crate::boundary::FromC for $enum {
            const ALL: &'static [Self] = &[$($enum::$variant),+];
            const NAME: &'static str = stringify!($enum);
            fn raw(self) -> u32 {
                self as u32
            }
        }
    };
}
pub(crate) use from_c;

/// Remembers `error` as the thread's last error and returns its code.
pub(crate) fn fail_with(error: impl Into<zuora_core::Error>) -> ZuoraCode {
    let error = error.into();
    fail(ZuoraCode::of(&error), error.to_string())
}

/// The calling thread's last error message; it stays put until the thread's next failure
/// replaces it (the thread-local outlives every call).
pub(crate) fn last_error() -> ZuoraStr {
    LAST_ERROR.with(|last| last.borrow().get())
}

/// Text kept with a NUL byte after it (not counted in its length), so a [`ZuoraStr`] of it can
/// also go to C APIs that want a C string, such as libcurl's `CURLOPT_URL`.
pub(crate) struct CText(String);

impl CText {
    pub(crate) fn new(text: impl Into<String>) -> Self {
        let mut text = text.into();
        text.push('\0');
        Self(text)
    }

    pub(crate) fn get(&self) -> ZuoraStr {
        ZuoraStr {
            ptr: self.0.as_ptr(),
            len: self.0.len().saturating_sub(1),
        }
    }
}

impl Drop for CText {
    /// Overwritten before it is freed: a request's header lines carry the bearer token.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Runs `body`: a panic becomes `ZUORA_ERR_PANIC` (it never unwinds into C), an error its code.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), ZuoraCode>) -> ZuoraCode {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ZuoraCode::ZuoraOk,
        Ok(Err(code)) => code,
        Err(_) => fail(
            ZuoraCode::ZuoraErrPanic,
            "a panic was caught at the C boundary (a bug in zuora-rs)",
        ),
    }
}

/// Runs an accessor that returns a value: a panic gives `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// UTF-8 text with an explicit length; nothing needs a NUL terminator. As an argument, a NULL
/// `ptr` means "none" where the text is optional. As a result, it borrows from the handle that
/// gave it and lives until that handle next changes or is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ZuoraStr {
    /// The first byte (NULL for none).
    pub ptr: *const u8,
    /// The number of bytes.
    pub len: usize,
}

/// Bytes of any content with an explicit length; borrowed as [`ZuoraStr`] is.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ZuoraBytes {
    /// The first byte (NULL when empty).
    pub ptr: *const u8,
    /// The number of bytes.
    pub len: usize,
}

/// One header of an answer, as the caller's HTTP stack received it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ZuoraHeader {
    /// The name.
    pub name: ZuoraBytes,
    /// The value.
    pub value: ZuoraBytes,
}

impl ZuoraStr {
    /// An empty string (a NULL pointer and 0).
    pub(crate) const EMPTY: Self = Self {
        ptr: std::ptr::null(),
        len: 0,
    };

    /// A required argument.
    ///
    /// # Safety
    /// `ptr` must be NULL or point to `len` readable bytes that outlive `'a`.
    pub(crate) unsafe fn required<'a>(self, what: &str) -> Result<&'a str, ZuoraCode> {
        match unsafe { self.optional(what) }? {
            Some(text) => Ok(text),
            None => Err(fail(ZuoraCode::ZuoraErrNull, format!("{what} is NULL"))),
        }
    }

    /// An optional argument: a NULL `ptr` is `None`.
    ///
    /// # Safety
    /// As [`ZuoraStr::required`].
    pub(crate) unsafe fn optional<'a>(self, what: &str) -> Result<Option<&'a str>, ZuoraCode> {
        if self.ptr.is_null() {
            return Ok(None);
        }
        // SAFETY: the caller promises `len` readable bytes at a non-NULL `ptr`.
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr, self.len) };
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| fail(ZuoraCode::ZuoraErrUtf8, format!("{what} is not UTF-8")))
    }
}

impl ZuoraBytes {
    /// Borrows `bytes` for C.
    pub(crate) fn of(bytes: &[u8]) -> Self {
        Self {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }

    /// An argument: NULL is empty when `len` is 0.
    ///
    /// # Safety
    /// `ptr` must be NULL or point to `len` readable bytes that outlive `'a`.
    pub(crate) unsafe fn get<'a>(self, what: &str) -> Result<&'a [u8], ZuoraCode> {
        if self.ptr.is_null() {
            if self.len == 0 {
                return Ok(&[]);
            }
            return Err(fail(ZuoraCode::ZuoraErrNull, format!("{what} is NULL")));
        }
        // SAFETY: the caller promises `len` readable bytes at a non-NULL `ptr`.
        Ok(unsafe { std::slice::from_raw_parts(self.ptr, self.len) })
    }
}

/// One field of a handle for an accessor that returns it by value: NULL (or a panic) gives
/// `fallback`.
///
/// # Safety
/// `ptr` must be NULL or a live handle of this type from this library.
pub(crate) unsafe fn read<H, T: Copy>(
    ptr: *const H,
    fallback: T,
    field: impl FnOnce(&H) -> T,
) -> T {
    // SAFETY: the caller promises a live handle or NULL.
    guard_value(fallback, || unsafe { ptr.as_ref() }.map_or(fallback, field))
}

/// A handle argument, shared.
///
/// # Safety
/// `ptr` must be NULL or a live handle of this type from this library.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, ZuoraCode> {
    // SAFETY: the caller promises a live handle or NULL.
    unsafe { ptr.as_ref() }.ok_or_else(|| fail(ZuoraCode::ZuoraErrNull, format!("{what} is NULL")))
}

/// A handle argument, exclusive.
///
/// # Safety
/// `ptr` must be NULL or a live handle of this type from this library, used by one thread.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, ZuoraCode> {
    // SAFETY: the caller promises a live handle or NULL, not shared with another thread.
    unsafe { ptr.as_mut() }.ok_or_else(|| fail(ZuoraCode::ZuoraErrNull, format!("{what} is NULL")))
}

/// Writes `value` through an out-pointer.
///
/// # Safety
/// `out` must be NULL or writable.
pub(crate) unsafe fn put<T>(out: *mut T, value: T) -> Result<(), ZuoraCode> {
    if out.is_null() {
        return Err(fail(ZuoraCode::ZuoraErrNull, "an out-pointer is NULL"));
    }
    // SAFETY: checked non-NULL; the caller promises it is writable.
    unsafe { out.write(value) };
    Ok(())
}

/// Hands a new handle to C through an out-pointer; C frees it with the type's `_free`.
///
/// # Safety
/// `out` must be NULL or writable.
pub(crate) unsafe fn put_handle<T>(out: *mut *mut T, value: T) -> Result<(), ZuoraCode> {
    if out.is_null() {
        return Err(fail(ZuoraCode::ZuoraErrNull, "an out-pointer is NULL"));
    }
    // SAFETY: checked non-NULL; the caller promises it is writable.
    unsafe { out.write(Box::into_raw(Box::new(value))) };
    Ok(())
}

/// Frees a handle from [`put_handle`]; NULL is ignored.
///
/// # Safety
/// `ptr` must be NULL or a live handle of this type, not used again.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the caller hands back a pointer from `put_handle`, once.
            drop(unsafe { Box::from_raw(ptr) });
        }));
    }
}

/// A duration in milliseconds from C.
pub(crate) fn millis(value: u64) -> std::time::Duration {
    std::time::Duration::from_millis(value)
}

/// A duration for C, in whole milliseconds (rounded up, so a short wait never becomes 0).
pub(crate) fn to_millis(value: std::time::Duration) -> u64 {
    let whole = value.as_millis();
    let rounded = if value.subsec_nanos().is_multiple_of(1_000_000) {
        whole
    } else {
        whole.saturating_add(1)
    };
    u64::try_from(rounded).unwrap_or(u64::MAX)
}
