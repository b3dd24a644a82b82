//! Records of the core's TSV output (UTF-8, tab-separated, LF-terminated; a field holding a
//! tab, CR, LF or `"` quoted, quotes doubled), split as bytes arrive in any chunks.

use crate::TableError;

/// Splits TSV bytes into records. Memory: one record at a time (the core's converter has
/// already capped every field).
#[derive(Debug, Default)]
pub struct Records {
    /// Bytes of the record not yet complete.
    pending: Vec<u8>,
    /// The fields of the record being handed out.
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
        self.pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(end) = record_end(&self.pending[start..]) {
            let record = &self.pending[start..start + end];
            split(record, &mut self.fields, self.count)?;
            each(self.count, &self.fields)?;
            self.count += 1;
            start += end + 1;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// The input ended: a last record without its LF is still a record.
    pub fn finish(
        &mut self,
        mut each: impl FnMut(u64, &[String]) -> Result<(), TableError>,
    ) -> Result<(), TableError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let record = std::mem::take(&mut self.pending);
        split(&record, &mut self.fields, self.count)?;
        each(self.count, &self.fields)?;
        self.count += 1;
        Ok(())
    }
}

/// Where the first record of `bytes` ends (its LF), outside quotes; `None` if it has not
/// ended yet.
fn record_end(bytes: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, byte) in bytes.iter().enumerate() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

fn split(record: &[u8], fields: &mut Vec<String>, index: u64) -> Result<(), TableError> {
    let text = std::str::from_utf8(record).map_err(|_| TableError::Malformed {
        record: index,
        reason: "not UTF-8".into(),
    })?;
    fields.clear();
    let mut rest = text;
    loop {
        let (field, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut tail = quoted;
            loop {
                let close = tail.find('"').ok_or_else(|| TableError::Malformed {
                    record: index,
                    reason: "a quote left open".into(),
                })?;
                value.push_str(&tail[..close]);
                tail = &tail[close + 1..];
                match tail.strip_prefix('"') {
                    Some(more) => {
                        value.push('"');
                        tail = more;
                    }
                    None => break,
                }
            }
            (value, tail)
        } else {
            let end = rest.find('\t').unwrap_or(rest.len());
            (rest[..end].to_owned(), &rest[end..])
        };
        fields.push(field);
        match after.strip_prefix('\t') {
            Some(next) => rest = next,
            None if after.is_empty() => return Ok(()),
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
