//! Records of the core's TSV output (UTF-8, tab-separated, LF-terminated; a field holding a
//! tab, CR, LF or `"` quoted, quotes doubled), split as bytes arrive in any chunks.

use crate::TableError;

/// Splits TSV bytes into records. Memory: one record at a time (the core's converter has
/// already capped every field).
#[derive(Debug, Default)]
pub struct Records {
    /// Bytes of a record not yet complete (the end of the last chunk).
    pending: Vec<u8>,
    /// Whether `pending` ends inside quotes.
    pending_quoted: bool,
    /// Where each field of the record being handed out lies (reused record after record).
    spans: Vec<Span>,
    /// The text of the fields that held doubled quotes, unescaped (reused).
    unescaped: String,
    /// The allocation of the fields handed out, kept between records.
    fields: Vec<&'static str>,
    /// Records handed out so far (the header is record 0).
    count: u64,
}

impl Records {
    /// Splits `chunk`, handing each complete record to `each` with its index (0: the
    /// header).
    pub fn push(
        &mut self,
        chunk: &[u8],
        mut each: impl FnMut(u64, &[&str]) -> Result<(), TableError>,
    ) -> Result<(), TableError> {
        let mut rest = chunk;
        if !self.pending.is_empty() || self.pending_quoted {
            // The record begun in an earlier chunk ends in this one (or not yet).
            match record_end(rest, self.pending_quoted) {
                Ok(end) => {
                    self.pending.extend_from_slice(&rest[..end]);
                    rest = &rest[end + 1..];
                    let record = std::mem::take(&mut self.pending);
                    self.pending_quoted = false;
                    let outcome = self.hand_out_bytes(&record, &mut each);
                    self.pending = record;
                    self.pending.clear();
                    outcome?;
                }
                Err(quoted) => {
                    self.pending.extend_from_slice(rest);
                    self.pending_quoted = quoted;
                    return Ok(());
                }
            }
        }
        // Whole records straight from the chunk; only an unfinished one is copied. The text
        // up to the chunk's last LF (always a character boundary) is checked as UTF-8 in one
        // call: checking each short record on its own costs several times more.
        let complete = memchr::memrchr(b'\n', rest).map_or(0, |last| last + 1);
        let text = std::str::from_utf8(&rest[..complete]).map_err(|error| {
            let before = &rest[..error.valid_up_to()];
            TableError::Malformed {
                record: self.count + memchr::memchr_iter(b'\n', before).count() as u64,
                reason: "not UTF-8".into(),
            }
        })?;
        let mut at = 0;
        let quoted = loop {
            match record_end(&text.as_bytes()[at..], false) {
                Ok(end) => {
                    self.hand_out(&text[at..at + end], &mut each)?;
                    at += end + 1;
                }
                Err(quoted) => break quoted,
            }
        };
        let unfinished = &rest[at..];
        let tail = &rest[complete.max(at)..];
        self.pending.extend_from_slice(unfinished);
        // Whether the unfinished record ends inside quotes: as its checked part did, flipped
        // by each quote of the part after the last LF.
        self.pending_quoted = quoted ^ (memchr::memchr_iter(b'"', tail).count() % 2 == 1);
        Ok(())
    }

    /// The input ended: a last record without its LF is still a record.
    pub fn finish(
        &mut self,
        mut each: impl FnMut(u64, &[&str]) -> Result<(), TableError>,
    ) -> Result<(), TableError> {
        if self.pending.is_empty() && !self.pending_quoted {
            return Ok(());
        }
        let record = std::mem::take(&mut self.pending);
        self.pending_quoted = false;
        self.hand_out_bytes(&record, &mut each)
    }

    fn hand_out_bytes(
        &mut self,
        record: &[u8],
        each: &mut impl FnMut(u64, &[&str]) -> Result<(), TableError>,
    ) -> Result<(), TableError> {
        let text = std::str::from_utf8(record).map_err(|_| TableError::Malformed {
            record: self.count,
            reason: "not UTF-8".into(),
        })?;
        self.hand_out(text, each)
    }

    fn hand_out(
        &mut self,
        text: &str,
        each: &mut impl FnMut(u64, &[&str]) -> Result<(), TableError>,
    ) -> Result<(), TableError> {
        split(text, &mut self.spans, &mut self.unescaped, self.count)?;
        let mut fields = reuse(std::mem::take(&mut self.fields));
        fields.extend(self.spans.iter().map(|span| match span.unescaped {
            false => &text[span.start..span.end],
            true => &self.unescaped[span.start..span.end],
        }));
        let outcome = each(self.count, &fields);
        self.fields = reuse(fields);
        outcome?;
        self.count += 1;
        Ok(())
    }
}

/// An empty vector of any lifetime in `fields`' allocation: the fields of each record borrow
/// that record, and one allocation serves them all.
fn reuse<'b>(mut fields: Vec<&str>) -> Vec<&'b str> {
    fields.clear();
    // An in-place collect: the standard library keeps the allocation (same layout).
    fields.into_iter().map(|_| "").collect()
}

/// Where one field's text lies: in the record itself, or (when it held doubled quotes) in
/// the unescaped text.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    unescaped: bool,
}

/// Where the first record of `bytes` ends (its LF, outside quotes), starting inside quotes
/// if `quoted`; if it has not ended, whether `bytes` ends inside quotes.
fn record_end(bytes: &[u8], mut quoted: bool) -> Result<usize, bool> {
    let mut at = 0;
    // memchr finds the next quote or LF with SIMD: most bytes are neither.
    while let Some(found) = memchr::memchr2(b'"', b'\n', &bytes[at..]) {
        let index = at + found;
        match bytes[index] {
            b'"' => quoted = !quoted,
            _ if !quoted => return Ok(index),
            _ => {}
        }
        at = index + 1;
    }
    Err(quoted)
}

/// Splits `text` into the `spans` of its fields, unescaping doubled quotes into
/// `unescaped`.
fn split(
    text: &str,
    spans: &mut Vec<Span>,
    unescaped: &mut String,
    index: u64,
) -> Result<(), TableError> {
    spans.clear();
    unescaped.clear();
    let malformed = |reason: &str| TableError::Malformed {
        record: index,
        reason: reason.into(),
    };
    let bytes = text.as_bytes();
    let mut at = 0;
    loop {
        let after = if bytes.get(at) == Some(&b'"') {
            // Quoted: up to the quote not doubled.
            let open = at + 1;
            let mut close = open;
            let mut doubled = false;
            loop {
                close += memchr::memchr(b'"', &bytes[close..])
                    .ok_or_else(|| malformed("a quote left open"))?;
                if bytes.get(close + 1) == Some(&b'"') {
                    doubled = true;
                    close += 2;
                } else {
                    break;
                }
            }
            let inner = &text[open..close];
            spans.push(if doubled {
                let start = unescaped.len();
                unescaped.push_str(&inner.replace("\"\"", "\""));
                Span {
                    start,
                    end: unescaped.len(),
                    unescaped: true,
                }
            } else {
                Span {
                    start: open,
                    end: close,
                    unescaped: false,
                }
            });
            close + 1
        } else {
            let end = memchr::memchr(b'\t', &bytes[at..]).map_or(bytes.len(), |found| at + found);
            spans.push(Span {
                start: at,
                end,
                unescaped: false,
            });
            end
        };
        match bytes.get(after) {
            Some(b'\t') => at = after + 1,
            None => return Ok(()),
            Some(_) => return Err(malformed("text after a closing quote")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // A panic is how a test fails.
    use super::*;

    #[test]
    fn records_split_in_any_chunks_with_quotes() {
        let input = b"a\tb\n1\t\"x\ty\"\n\"q\"\"\"\t\"l\nm\"\n3\t4";
        for size in 1..input.len() {
            let mut records = Records::default();
            let mut seen = Vec::new();
            let mut keep = |_: u64, fields: &[&str]| {
                seen.push(fields.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>());
                Ok(())
            };
            for chunk in input.chunks(size) {
                records.push(chunk, &mut keep).unwrap();
            }
            records.finish(&mut keep).unwrap();
            assert_eq!(
                seen,
                [["a", "b"], ["1", "x\ty"], ["q\"", "l\nm"], ["3", "4"]],
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn characters_split_between_chunks_and_bad_bytes() {
        let input = "h\té\n€\t\"ü\nß\"\nx\t😀".as_bytes();
        for size in 1..input.len() {
            let mut records = Records::default();
            let mut seen = Vec::new();
            let mut keep = |_: u64, fields: &[&str]| {
                seen.push(fields.join("|"));
                Ok(())
            };
            for chunk in input.chunks(size) {
                records.push(chunk, &mut keep).unwrap();
            }
            records.finish(&mut keep).unwrap();
            assert_eq!(seen, ["h|é", "€|ü\nß", "x|😀"], "chunks of {size}");
        }
        let mut records = Records::default();
        let error = records
            .push(b"a\tb\n1\t2\n\xff\t3\n", |_, _| Ok(()))
            .unwrap_err();
        assert!(
            matches!(error, TableError::Malformed { record: 2, .. }),
            "{error:?}"
        );
    }
}
