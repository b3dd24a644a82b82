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
    /// The fields of the record being handed out; their buffers are reused record after
    /// record.
    fields: Vec<String>,
    /// Records handed out so far (the header is record 0).
    count: u64,
}

impl Records {
    /// Splits `chunk`, handing each complete record to `each` with its index (0: the
    /// header).
    pub fn push(
        &mut self,
        chunk: &[u8],
        mut each: impl FnMut(u64, &[String]) -> Result<(), TableError>,
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
                    let outcome = self.hand_out(&record, &mut each);
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
        // Whole records straight from the chunk; only an unfinished one is copied.
        loop {
            match record_end(rest, false) {
                Ok(end) => {
                    self.hand_out(&rest[..end], &mut each)?;
                    rest = &rest[end + 1..];
                }
                Err(quoted) => {
                    self.pending.extend_from_slice(rest);
                    self.pending_quoted = quoted;
                    return Ok(());
                }
            }
        }
    }

    /// The input ended: a last record without its LF is still a record.
    pub fn finish(
        &mut self,
        mut each: impl FnMut(u64, &[String]) -> Result<(), TableError>,
    ) -> Result<(), TableError> {
        if self.pending.is_empty() && !self.pending_quoted {
            return Ok(());
        }
        let record = std::mem::take(&mut self.pending);
        self.pending_quoted = false;
        self.hand_out(&record, &mut each)
    }

    fn hand_out(
        &mut self,
        record: &[u8],
        each: &mut impl FnMut(u64, &[String]) -> Result<(), TableError>,
    ) -> Result<(), TableError> {
        let used = split(record, &mut self.fields, self.count)?;
        each(self.count, &self.fields[..used])?;
        self.count += 1;
        Ok(())
    }
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

/// Splits `record` into `fields` (reusing their buffers); returns how many it has.
fn split(record: &[u8], fields: &mut Vec<String>, index: u64) -> Result<usize, TableError> {
    let text = std::str::from_utf8(record).map_err(|_| TableError::Malformed {
        record: index,
        reason: "not UTF-8".into(),
    })?;
    let mut used = 0;
    let mut rest = text;
    loop {
        if fields.len() == used {
            fields.push(String::new());
        }
        let field = &mut fields[used];
        field.clear();
        used += 1;
        let after = if let Some(quoted) = rest.strip_prefix('"') {
            let mut tail = quoted;
            loop {
                let close = tail.find('"').ok_or_else(|| TableError::Malformed {
                    record: index,
                    reason: "a quote left open".into(),
                })?;
                field.push_str(&tail[..close]);
                tail = &tail[close + 1..];
                match tail.strip_prefix('"') {
                    Some(more) => {
                        field.push('"');
                        tail = more;
                    }
                    None => break,
                }
            }
            tail
        } else {
            let end = memchr::memchr(b'\t', rest.as_bytes()).unwrap_or(rest.len());
            field.push_str(&rest[..end]);
            &rest[end..]
        };
        match after.strip_prefix('\t') {
            Some(next) => rest = next,
            None if after.is_empty() => return Ok(used),
            None => {
                return Err(TableError::Malformed {
                    record: index,
                    reason: "text after a closing quote".into(),
                });
            }
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
            let mut keep = |_: u64, fields: &[String]| {
                seen.push(fields.to_vec());
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
}
