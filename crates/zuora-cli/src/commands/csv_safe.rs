//! `--csv-safe`: a cell that a spreadsheet would run as a formula (it begins with `=`, `+`,
//! `-`, `@`, a tab or a carriage return, as OWASP lists them) is written as text instead:
//! quoted, with a `'` before it. A number such as `-120.20` or `+1,430.5` is left alone.
//!
//! A filter over the converter's CSV (RFC 4180, as the core writes it): only a cell that
//! begins with one of those characters is held until its end (the core caps a field's
//! length), everything else streams through untouched.

use std::io::{self, Write};

/// The characters a spreadsheet reads a formula from at a cell's start.
const TRIGGERS: [u8; 6] = [b'=', b'+', b'-', b'@', b'\t', b'\r'];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// At a cell's first byte.
    Start,
    /// Just after an opening quote: the next byte is the content's first.
    Opened,
    /// In a cell; `quoted`, and `after_quote` just after a quote inside it.
    Within { quoted: bool, after_quote: bool },
}

/// The filter: `inner` gets the CSV with every formula cell neutralised.
pub struct FormulaGuard<W> {
    inner: W,
    field: Field,
    /// The raw bytes of a cell that begins with a trigger, held until it ends.
    held: Option<Vec<u8>>,
}

impl<W: Write> FormulaGuard<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            field: Field::Start,
            held: None,
        }
    }

    /// Writes a cell held to its end, then `terminator`.
    fn release(&mut self, terminator: &[u8]) -> io::Result<()> {
        if let Some(raw) = self.held.take() {
            self.inner.write_all(&neutralised(&raw))?;
        }
        self.inner.write_all(terminator)
    }

    /// The input has ended: a cell still held is written.
    pub fn finish(mut self) -> io::Result<W> {
        self.release(b"")?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    fn byte(&mut self, byte: u8, pass: &mut Vec<u8>) -> io::Result<()> {
        let ends_cell = |quoted: bool, after_quote: bool| {
            (!quoted || after_quote) && matches!(byte, b',' | b'\r' | b'\n')
        };
        match self.field {
            Field::Start if byte == b'"' => {
                // Held back until the content's first byte says whether the cell is held.
                self.field = Field::Opened;
                return Ok(());
            }
            Field::Start | Field::Opened => {
                let quoted = self.field == Field::Opened;
                // An unquoted CR at a cell's start ends an empty cell's record: not content.
                let starts_formula = (quoted || byte != b'\r') && TRIGGERS.contains(&byte);
                let opening: &[u8] = if quoted { b"\"" } else { b"" };
                if starts_formula && self.held.is_none() {
                    self.held = Some(opening.to_vec());
                } else {
                    pass.extend_from_slice(opening);
                }
                self.field = Field::Within {
                    quoted,
                    after_quote: false,
                };
                if !quoted && matches!(byte, b',' | b'\r' | b'\n') {
                    // An empty unquoted cell: the byte ends it.
                    return self.end(byte, pass);
                }
                if quoted && byte == b'"' {
                    self.field = Field::Within {
                        quoted: true,
                        after_quote: true,
                    };
                }
                return self.keep_or_pass(byte, pass);
            }
            Field::Within {
                quoted,
                after_quote,
            } => {
                if ends_cell(quoted, after_quote) {
                    return self.end(byte, pass);
                }
                if quoted && byte == b'"' {
                    self.field = Field::Within {
                        quoted,
                        after_quote: !after_quote,
                    };
                } else if quoted && after_quote {
                    self.field = Field::Within {
                        quoted,
                        after_quote: false,
                    };
                }
            }
        }
        self.keep_or_pass(byte, pass)
    }

    fn keep_or_pass(&mut self, byte: u8, pass: &mut Vec<u8>) -> io::Result<()> {
        match &mut self.held {
            Some(held) => held.push(byte),
            None => pass.push(byte),
        }
        Ok(())
    }

    /// `byte` (a comma, CR or LF outside quotes) ends the cell.
    fn end(&mut self, byte: u8, pass: &mut Vec<u8>) -> io::Result<()> {
        self.field = if byte == b'\r' {
            // The LF that follows starts nothing new on its own.
            Field::Within {
                quoted: false,
                after_quote: false,
            }
        } else {
            Field::Start
        };
        if self.held.is_some() {
            self.inner.write_all(pass)?;
            pass.clear();
            self.release(&[byte])
        } else {
            pass.push(byte);
            Ok(())
        }
    }
}

/// A held cell, raw as the CSV had it, written back as text unless it is a number.
fn neutralised(raw: &[u8]) -> Vec<u8> {
    let content: Vec<u8> = match raw.strip_prefix(b"\"") {
        Some(inner) => {
            let inner = inner.strip_suffix(b"\"").unwrap_or(inner);
            let mut unescaped = Vec::with_capacity(inner.len());
            let mut bytes = inner.iter().peekable();
            while let Some(&b) = bytes.next() {
                unescaped.push(b);
                if b == b'"' && bytes.peek() == Some(&&b'"') {
                    bytes.next();
                }
            }
            unescaped
        }
        None => raw.to_vec(),
    };
    if is_number(&content) {
        return raw.to_vec();
    }
    let mut out = Vec::with_capacity(content.len() + 4);
    out.extend_from_slice(b"\"'");
    for &b in &content {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
    out
}

/// `-120.20`, `+1,430.5`, `-3`: a sign, digits (with thousands commas), perhaps a fraction.
fn is_number(text: &[u8]) -> bool {
    let digits = match text.first() {
        Some(b'+' | b'-') => &text[1..],
        _ => text,
    };
    let (whole, fraction) = match digits.iter().position(|b| *b == b'.') {
        Some(at) => (&digits[..at], Some(&digits[at + 1..])),
        None => (digits, None),
    };
    !whole.is_empty()
        && whole[0].is_ascii_digit()
        && whole.iter().all(|b| b.is_ascii_digit() || *b == b',')
        && fraction.is_none_or(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit))
}

impl<W: Write> Write for FormulaGuard<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut pass = Vec::with_capacity(buf.len());
        for &byte in buf {
            self.byte(byte, &mut pass)?;
        }
        self.inner.write_all(&pass)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(csv: &str, chunk: usize) -> String {
        let mut guard = FormulaGuard::new(Vec::new());
        for piece in csv.as_bytes().chunks(chunk.max(1)) {
            guard.write_all(piece).unwrap_or_else(|e| panic!("{e}"));
        }
        let out = guard.finish().unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn formulas_become_text_and_numbers_stay() {
        let csv = "Name,Amount,Note\r\n=HYPERLINK(\"x\"),-120.20,@SUM(A1)\r\n\"+1,5\",\"-1,430.50\",\"=cmd|' /C calc'!A0\"\r\nplain,3,\r\n-,+x,\"a,b\"\r\n";
        let expected = "Name,Amount,Note\r\n\"'=HYPERLINK(\"\"x\"\")\",-120.20,\"'@SUM(A1)\"\r\n\"+1,5\",\"-1,430.50\",\"'=cmd|' /C calc'!A0\"\r\nplain,3,\r\n\"'-\",\"'+x\",\"a,b\"\r\n";
        for chunk in [1, 2, 3, 7, 1000] {
            assert_eq!(guarded(csv, chunk), expected, "chunks of {chunk}");
        }
    }

    #[test]
    fn a_held_cell_at_the_end_is_written() {
        assert_eq!(guarded("a,=1+1", 2), "a,\"'=1+1\"");
    }
}
