//! Export results, converted while they stream: gzip → UTF-16LE → tab-separated records →
//! UTF-8 CSV (RFC 4180) or TSV, with memory bounded by one record.

use std::io::Write;

/// What to write an export as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// The bytes as Zuora sent them (UTF-16LE, tab-separated), gzip removed.
    Raw,
    /// UTF-8 CSV per RFC 4180: comma-separated, CRLF line ends, fields with `,` `"` CR or
    /// LF quoted, quotes doubled.
    Csv,
    /// UTF-8, tab-separated, LF line ends, fields with a tab, CR, LF or `"` quoted, quotes
    /// doubled.
    Tsv,
}

impl core::str::FromStr for ExportFormat {
    type Err = crate::InvalidInput;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "raw" => Ok(Self::Raw),
            "csv" => Ok(Self::Csv),
            "tsv" => Ok(Self::Tsv),
            _ => Err(crate::InvalidInput::not_one_of(
                "export format",
                value,
                "csv, tsv or raw",
            )),
        }
    }
}

/// An export that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The gzip stream is corrupt or cut short.
    #[error("the export's gzip stream is corrupt or incomplete: {0}")]
    Gzip(String),
    /// Not UTF-16LE: an odd byte count or a lone surrogate.
    #[error("the export is not valid UTF-16LE near byte {0}")]
    Utf16(u64),
    /// The text ends inside a quoted field: the download was cut short.
    #[error("the export ends inside a quoted field: it was cut short")]
    Truncated,
}

/// Converts an export chunk by chunk.
///
/// ```
/// use zuora_core::{ExportDecoder, ExportFormat};
/// let utf16: Vec<u8> = [0xFF, 0xFE].into_iter()
///     .chain("a\tb, c\n1\t\"x\ty\"\n".encode_utf16().flat_map(u16::to_le_bytes))
///     .collect();
/// let mut decoder = ExportDecoder::new(ExportFormat::Csv, false);
/// let mut csv = Vec::new();
/// for chunk in utf16.chunks(3) {              // any chunking gives the same output
///     decoder.feed(chunk, &mut csv)?;
/// }
/// decoder.finish(&mut csv)?;
/// assert_eq!(String::from_utf8(csv)?, "a,\"b, c\"\r\n1,x\ty\r\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ExportDecoder {
    format: ExportFormat,
    gzip: Option<flate2::write::GzDecoder<Vec<u8>>>,
    bytes_seen: u64,
    odd_byte: Option<u8>,
    high_surrogate: Option<u16>,
    at_start: bool,
    field: String,
    fields_in_record: usize,
    in_quotes: bool,
    quote_seen: bool,
    field_started: bool,
}

impl core::fmt::Debug for ExportDecoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExportDecoder")
            .field("format", &self.format)
            .field("bytes_seen", &self.bytes_seen)
            .finish_non_exhaustive()
    }
}

impl ExportDecoder {
    /// A decoder; `gzipped` when the answer said `Content-Encoding: gzip`.
    pub fn new(format: ExportFormat, gzipped: bool) -> Self {
        Self {
            format,
            gzip: gzipped.then(|| flate2::write::GzDecoder::new(Vec::new())),
            bytes_seen: 0,
            odd_byte: None,
            high_surrogate: None,
            at_start: true,
            field: String::new(),
            fields_in_record: 0,
            in_quotes: false,
            quote_seen: false,
            field_started: false,
        }
    }

    /// Converts one chunk, appending the output to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), ExportError> {
        match self.gzip.as_mut() {
            Some(gzip) => {
                gzip.write_all(chunk)
                    .map_err(|e| ExportError::Gzip(e.to_string()))?;
                let plain = std::mem::take(gzip.get_mut());
                self.text(&plain, out)?;
                // Hand the buffer back to keep its capacity.
                let mut plain = plain;
                plain.clear();
                if let Some(gzip) = self.gzip.as_mut() {
                    *gzip.get_mut() = plain;
                }
                Ok(())
            }
            None => self.text(chunk, out),
        }
    }

    /// Ends the stream: fails if it was cut short (gzip, UTF-16 or a quoted field).
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        if let Some(mut gzip) = self.gzip.take() {
            gzip.try_finish()
                .map_err(|e| ExportError::Gzip(e.to_string()))?;
            let plain = std::mem::take(gzip.get_mut());
            self.text(&plain, out)?;
        }
        if self.odd_byte.is_some() || self.high_surrogate.is_some() {
            return Err(ExportError::Utf16(self.bytes_seen));
        }
        if self.format == ExportFormat::Raw {
            return Ok(());
        }
        if self.in_quotes {
            return Err(ExportError::Truncated);
        }
        if self.field_started || self.fields_in_record > 0 {
            self.end_record(out);
        }
        Ok(())
    }

    fn text(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), ExportError> {
        if self.format == ExportFormat::Raw {
            out.extend_from_slice(bytes);
            self.bytes_seen += bytes.len() as u64;
            return Ok(());
        }
        let mut index = 0;
        if let Some(low) = self.odd_byte.take() {
            match bytes.first() {
                Some(&high) => {
                    self.unit(u16::from_le_bytes([low, high]), out)?;
                    index = 1;
                }
                None => {
                    self.odd_byte = Some(low);
                    return Ok(());
                }
            }
        }
        let pairs = bytes[index..].chunks_exact(2);
        let remainder = pairs.remainder();
        for pair in pairs {
            self.unit(u16::from_le_bytes([pair[0], pair[1]]), out)?;
        }
        self.odd_byte = remainder.first().copied();
        Ok(())
    }

    fn unit(&mut self, unit: u16, out: &mut Vec<u8>) -> Result<(), ExportError> {
        self.bytes_seen += 2;
        if std::mem::take(&mut self.at_start) && unit == 0xFEFF {
            return Ok(());
        }
        let c = match (self.high_surrogate.take(), unit) {
            (None, 0xD800..=0xDBFF) => {
                self.high_surrogate = Some(unit);
                return Ok(());
            }
            (Some(high), 0xDC00..=0xDFFF) => {
                let code =
                    0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                char::from_u32(code).ok_or(ExportError::Utf16(self.bytes_seen))?
            }
            (Some(_), _) | (None, 0xDC00..=0xDFFF) => {
                return Err(ExportError::Utf16(self.bytes_seen));
            }
            (None, unit) => {
                char::from_u32(u32::from(unit)).ok_or(ExportError::Utf16(self.bytes_seen))?
            }
        };
        self.character(c, out);
        Ok(())
    }

    /// The tab-separated reader: quoted fields may hold tabs, line breaks and doubled quotes.
    fn character(&mut self, c: char, out: &mut Vec<u8>) {
        if self.in_quotes {
            if self.quote_seen {
                self.quote_seen = false;
                if c == '"' {
                    self.field.push('"');
                    return;
                }
                self.in_quotes = false;
            } else {
                if c == '"' {
                    self.quote_seen = true;
                } else {
                    self.field.push(c);
                }
                return;
            }
        }
        match c {
            '"' if !self.field_started => {
                self.in_quotes = true;
                self.field_started = true;
            }
            '\t' => self.end_field(out),
            '\n' => self.end_record(out),
            '\r' => {}
            c => {
                self.field_started = true;
                self.field.push(c);
            }
        }
    }

    fn end_field(&mut self, out: &mut Vec<u8>) {
        let (separator, specials): (u8, &[char]) = match self.format {
            ExportFormat::Csv => (b',', &[',', '"', '\r', '\n']),
            _ => (b'\t', &['\t', '"', '\r', '\n']),
        };
        if self.fields_in_record > 0 {
            out.push(separator);
        }
        if self.field.contains(specials) {
            out.push(b'"');
            out.extend_from_slice(self.field.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(self.field.as_bytes());
        }
        self.field.clear();
        self.field_started = false;
        self.fields_in_record += 1;
    }

    fn end_record(&mut self, out: &mut Vec<u8>) {
        self.end_field(out);
        out.extend_from_slice(if self.format == ExportFormat::Csv {
            b"\r\n"
        } else {
            b"\n"
        });
        self.fields_in_record = 0;
    }
}

/// *Export results*: `GET /reportruns/export/{id}?pivoted=…` (`pivoted` always sent: Zuora's
/// OpenAPI description requires it). The answer streams; only a failed answer is read
/// whole, through [`Operation::parse_response`](crate::Operation::parse_response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReportRun {
    /// The completed run.
    pub run_id: crate::ReportRunId,
    /// Crosstab (as in the UI) for Summary reports; `false` gives the flat table.
    pub pivoted: bool,
    /// Common headers.
    pub options: crate::CallOptions,
}

impl crate::Operation for ExportReportRun {
    type Output = std::convert::Infallible;
    fn name(&self) -> &'static str {
        "export_report_run"
    }
    fn resend_safety(&self) -> crate::ResendSafety {
        crate::ResendSafety::Idempotent
    }
    fn to_request(
        &self,
        environment: &crate::Environment,
        token: Option<&crate::AccessToken>,
    ) -> Result<crate::HttpRequest, crate::Error> {
        let token = token.ok_or_else(|| crate::Error::build("export needs a token"))?;
        let mut url = format!(
            "{}{}/reportruns/export/",
            environment.base_url(),
            crate::REPORTING_PREFIX
        );
        crate::ids::push_path_segment(&mut url, self.run_id.as_str());
        url.push_str(if self.pivoted {
            "?pivoted=true"
        } else {
            "?pivoted=false"
        });
        crate::request::finish(
            crate::request::start_request(http::Method::GET, url, token, &self.options)?,
            Vec::new(),
        )
    }
    /// Only failed answers come here (a 200 is streamed): always an error.
    fn parse_response(
        &self,
        response: &crate::HttpResponse,
        limits: crate::ResponseLimits,
    ) -> Result<std::convert::Infallible, crate::ResponseError> {
        let meta = crate::ResponseMeta::from_response(response);
        let kind = match crate::decode_body(response.headers(), response.body(), limits) {
            Ok(body) => {
                crate::response::classify_failure(meta.status, response.headers(), &body, "export")
            }
            Err(kind) => kind,
        };
        Err(crate::ResponseError::new(meta, kind))
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
    pub meta: crate::ResponseMeta,
}

impl ExportSummary {
    /// A summary from its parts.
    pub fn new(bytes_received: u64, bytes_written: u64, meta: crate::ResponseMeta) -> Self {
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
