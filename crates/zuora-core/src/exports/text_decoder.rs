//! Stage 1 of the converter: bytes in the export's encoding to UTF-16 units.

use super::export_error::ExportError;

/// How the export's text is encoded. Zuora documents UTF-16LE; a byte-order mark of UTF-16BE
/// or UTF-8 is obeyed (a choice: Zuora is silent), and without a mark the text is read as the
/// documented UTF-16LE. Never guessed: a guess turns text starting with `Ā` (bytes `00 01`)
/// into big-endian garbage, and text starting with `中` (bytes `2D 4E`) into "bad UTF-8".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    Utf16Le,
    Utf16Be,
    Utf8,
}

impl Encoding {
    /// Decides from the first bytes (at least three, unless the text is shorter): a
    /// byte-order mark, or else UTF-16LE.
    pub(super) fn sniff(start: &[u8]) -> Self {
        match start {
            [0xFE, 0xFF, ..] => Self::Utf16Be,
            [0xEF, 0xBB, 0xBF, ..] => Self::Utf8,
            _ => Self::Utf16Le,
        }
    }
}

/// Bytes in the export's encoding to UTF-16LE units, handed on with the byte position
/// where they begin. UTF-16LE, the documented encoding, is handed on in place (only a unit
/// split across chunks is joined); UTF-16BE is swapped into a buffer. Surrogates are checked
/// where the units are read (the record writer), in stream order. UTF-8 (a choice: Zuora
/// documents UTF-16LE, a UTF-8 byte-order mark is obeyed) is validated here and widened, so
/// one record writer serves every encoding; it is the rare case, so it is widened by the
/// standard library, unit by unit, rather than in bulk.
#[derive(Default)]
pub(super) struct TextDecoder {
    pub(super) encoding: Option<Encoding>,
    /// Bytes held back: the start until the encoding is known, an incomplete UTF-8 sequence.
    pending: Vec<u8>,
    odd_byte: Option<u8>,
    /// Text bytes decoded so far (UTF-16 units count two each, the byte-order mark included):
    /// the position errors report.
    pub(super) bytes_seen: u64,
    started: bool,
    /// Any text beyond a byte-order mark.
    pub(super) any_text: bool,
    /// Units made here (UTF-16BE swapped, UTF-8 widened), as UTF-16LE bytes.
    units: Vec<u8>,
}

/// Where decoded text goes: UTF-16LE units (an even number of bytes) and the text position
/// (in bytes) of the first one.
pub(super) type UnitSink<'a> = dyn FnMut(&[u8], u64) -> Result<(), ExportError> + 'a;

impl TextDecoder {
    pub(super) fn decode(&mut self, bytes: &[u8], sink: &mut UnitSink) -> Result<(), ExportError> {
        let encoding = match self.encoding {
            Some(encoding) => encoding,
            None => {
                self.pending.extend_from_slice(bytes);
                if self.pending.len() < 3 {
                    return Ok(());
                }
                let encoding = Encoding::sniff(&self.pending);
                self.encoding = Some(encoding);
                let start = std::mem::take(&mut self.pending);
                return self.decode_as(encoding, &start, sink);
            }
        };
        self.decode_as(encoding, bytes, sink)
    }

    pub(super) fn finish(&mut self, sink: &mut UnitSink) -> Result<(), ExportError> {
        if self.encoding.is_none() && !self.pending.is_empty() {
            let encoding = Encoding::sniff(&self.pending);
            self.encoding = Some(encoding);
            let start = std::mem::take(&mut self.pending);
            self.decode_as(encoding, &start, sink)?;
        }
        match self.encoding {
            Some(Encoding::Utf8) if !self.pending.is_empty() => {
                Err(ExportError::Utf8(self.bytes_seen))
            }
            Some(Encoding::Utf16Le | Encoding::Utf16Be) if self.odd_byte.is_some() => {
                Err(ExportError::Utf16(self.bytes_seen))
            }
            _ => Ok(()),
        }
    }

    fn decode_as(
        &mut self,
        encoding: Encoding,
        bytes: &[u8],
        sink: &mut UnitSink,
    ) -> Result<(), ExportError> {
        match encoding {
            Encoding::Utf8 => self.utf8(bytes, sink),
            Encoding::Utf16Le => self.utf16(bytes, false, sink),
            Encoding::Utf16Be => self.utf16(bytes, true, sink),
        }
    }

    fn utf16(
        &mut self,
        mut bytes: &[u8],
        big_endian: bool,
        sink: &mut UnitSink,
    ) -> Result<(), ExportError> {
        if let Some(first) = self.odd_byte.take() {
            let Some((&second, rest)) = bytes.split_first() else {
                self.odd_byte = Some(first);
                return Ok(());
            };
            // The unit split across chunks goes on its own.
            let joined = if big_endian {
                [second, first]
            } else {
                [first, second]
            };
            self.hand_on(&joined, sink)?;
            bytes = rest;
        }
        let whole = bytes.len() & !1;
        self.odd_byte = bytes.get(whole).copied();
        let bytes = &bytes[..whole];
        if !big_endian {
            return self.hand_on(bytes, sink);
        }
        let mut swapped = std::mem::take(&mut self.units);
        swapped.clear();
        swapped.extend(bytes.chunks_exact(2).flat_map(|pair| [pair[1], pair[0]]));
        let handed = self.hand_on(&swapped, sink);
        self.units = swapped;
        handed
    }

    /// Hands on UTF-16LE units, less the byte-order mark at the very start.
    fn hand_on(&mut self, mut units: &[u8], sink: &mut UnitSink) -> Result<(), ExportError> {
        let mut position = self.bytes_seen;
        self.bytes_seen = position.saturating_add(units.len() as u64);
        if !self.started && !units.is_empty() {
            self.started = true;
            if let Some(rest) = units.strip_prefix(&[0xFF, 0xFE]) {
                units = rest;
                position = position.saturating_add(2);
            }
        }
        if units.is_empty() {
            return Ok(());
        }
        self.any_text = true;
        sink(units, position)
    }

    fn utf8(&mut self, bytes: &[u8], sink: &mut UnitSink) -> Result<(), ExportError> {
        let joined;
        let mut input = if self.pending.is_empty() {
            bytes
        } else {
            self.pending.extend_from_slice(bytes);
            joined = std::mem::take(&mut self.pending);
            &joined[..]
        };
        if !self.started && !input.is_empty() {
            if input.len() < 3 && [0xEF, 0xBB, 0xBF].starts_with(input) {
                self.pending = input.to_vec();
                return Ok(());
            }
            self.started = true;
            if let Some(rest) = input.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
                self.bytes_seen = 3;
                input = rest;
            }
        }
        let text = match std::str::from_utf8(input) {
            Ok(text) => text,
            Err(error) if error.error_len().is_none() => {
                // An incomplete sequence at the end: the rest comes in the next chunk.
                let (valid, rest) = input.split_at(error.valid_up_to());
                self.pending = rest.to_vec();
                std::str::from_utf8(valid).unwrap_or_default()
            }
            Err(error) => {
                let at = self.bytes_seen.saturating_add(error.valid_up_to() as u64);
                return Err(ExportError::Utf8(at));
            }
        };
        let position = self.bytes_seen;
        self.bytes_seen = position.saturating_add(text.len() as u64);
        if text.is_empty() {
            return Ok(());
        }
        self.any_text = true;
        self.units.clear();
        self.units
            .extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        sink(&self.units, position)
    }
}
