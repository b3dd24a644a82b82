//! Stage 2 of the converter: tab-separated records as UTF-16 units to CSV or TSV in UTF-8,
//! in one pass that transcodes, finds the record structure and decides quoting together.
//!
//! The units are read 16 at a time. One scan of a block (`unit_blocks`: SSE2 compares and
//! move-masks) gives the units that stop a run (non-ASCII, a line break, CR, quote, a comma
//! in CSV, a tab once the field must be quoted), the tabs, and the block narrowed to bytes
//! with tabs as the separator. The units before each stop are written with one store, and
//! the tabs among them end fields, so a field's quoting is decided from the same scan. The
//! stops of a block are taken in turn from its masks; the common ones (a line break,
//! non-ASCII text, a field with a comma or a quoted field that ends in plain text) are
//! handled without leaving the loop, and only the rest go through the general state
//! machine one unit at a time.
//!
//! Input rules (Zuora's export): a field that starts with `"` is quoted and may hold tabs,
//! line breaks and doubled quotes; a `"` elsewhere is literal; a CR outside quotes is
//! dropped. Output: CSV per RFC 4180 (`,`, CRLF, fields with `,` `"` CR or LF quoted) or TSV
//! (tab, LF, fields with a tab `"` CR or LF quoted), quotes doubled.

use super::export_error::ExportError;
use super::unit_blocks::{self, BLOCK, NONE, Units, below};

const TAB: u16 = b'\t' as u16;
const LF: u16 = b'\n' as u16;
const CR: u16 = b'\r' as u16;
const QUOTE: u16 = b'"' as u16;
const COMMA: u16 = b',' as u16;

const DEL: u16 = 0x7F;

/// Appends the first `taken` of a block's bytes.
#[inline(always)]
fn push_bytes(bytes: &[u8; BLOCK], taken: usize, out: &mut Vec<u8>) {
    let at = out.len();
    // A fixed-size copy (one store) and a cut, not a copy of variable length.
    out.extend_from_slice(bytes);
    out.truncate(at + taken);
}

/// The first stop of a block, or the block's length if it has none.
#[inline(always)]
fn first(stops: u32) -> usize {
    stops.trailing_zeros().min(BLOCK as u32) as usize
}

/// Inserts a quote at `at`, moving what follows right by one. Fields are short, so the
/// common case moves 16 bytes with fixed-size copies instead of calling `memmove`.
fn insert_quote(out: &mut Vec<u8>, at: usize) {
    let end = out.len();
    if end - at > BLOCK {
        out.insert(at, b'"');
        return;
    }
    out.extend_from_slice(&[0; BLOCK + 1]);
    let mut moved = [0u8; BLOCK];
    moved.copy_from_slice(&out[at..at + BLOCK]);
    out[at + 1..at + 1 + BLOCK].copy_from_slice(&moved);
    out[at] = b'"';
    out.truncate(end + 1);
}

/// Appends units `from..to` (ASCII ones) as bytes, tabs as `tab_as`. The units are read
/// again from the text rather than from bytes narrowed before: reading back bytes just
/// stored at another offset stalls the processor (it cannot forward the stores).
fn push_units(units: Units<'_>, mut from: usize, to: usize, tab_as: u8, out: &mut Vec<u8>) {
    while from < to {
        let taken = (to - from).min(BLOCK);
        push_bytes(
            &unit_blocks::narrow(&units.block_at(from), tab_as),
            taken,
            out,
        );
        from += taken;
    }
}

/// Tab-separated UTF-16 records to CSV or TSV, carried across chunks.
pub(super) struct RecordWriter {
    csv: bool,
    pub(super) max_field: usize,
    in_quotes: bool,
    /// Inside quotes, a `"` was just read: a doubled quote or the end of the quoting.
    quote_seen: bool,
    field_started: bool,
    /// The open field holds a character that its output form must quote.
    needs_quoting: bool,
    /// Quotes in the open field's content (each is doubled when it is closed).
    quotes: usize,
    /// The open record has ended at least one field.
    record_open: bool,
    /// A high surrogate that ended the last units: its low half comes next.
    high_surrogate: Option<u16>,
    /// The open field's content, carried from one chunk to the next.
    carry: Vec<u8>,
    /// Records ended so far (the header included).
    pub(super) records: u64,
}

impl RecordWriter {
    pub(super) fn new(csv: bool, max_field: usize) -> Self {
        Self {
            csv,
            max_field,
            in_quotes: false,
            quote_seen: false,
            field_started: false,
            needs_quoting: false,
            quotes: 0,
            record_open: false,
            high_surrogate: None,
            carry: Vec::new(),
            records: 0,
        }
    }

    fn separator(&self) -> u8 {
        if self.csv { b',' } else { b'\t' }
    }

    /// Converts `units` (UTF-16LE: an even number of bytes), appending whole fields to `out`
    /// and carrying the open one. `start` is the text's byte position where `units` begin
    /// (a unit takes two bytes), for the position a lone surrogate is reported at.
    pub(super) fn convert(
        &mut self,
        units: &[u8],
        start: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), ExportError> {
        let units = Units::new(units);
        // Plain text grows by at most one byte per unit; the rest grows as it goes.
        out.reserve(units.len() + units.len() / 4 + self.carry.len() + 2 * BLOCK);
        let mut field_start = out.len();
        out.extend_from_slice(&self.carry);
        self.carry.clear();
        let mut i = 0;
        if let Some(high) = self.high_surrogate.take() {
            let Some(low) = units.get(0) else {
                self.high_surrogate = Some(high);
                return self.park(out, field_start);
            };
            if !(0xDC00..0xE000).contains(&low) {
                return Err(ExportError::Utf16(after(start, 0)));
            }
            push_pair(high, low, out);
            self.field_started = true;
            i = 1;
        }
        while i < units.len() {
            if self.quote_seen {
                self.quote_seen = false;
                if units.get(i) == Some(QUOTE) {
                    out.push(b'"');
                    self.quotes = self.quotes.saturating_add(1);
                    self.needs_quoting = true;
                    i += 1;
                    continue;
                }
                // The quoting ended; the unit is read as outside quotes.
                self.in_quotes = false;
            }
            i = self.run(units, i, start, out, &mut field_start)?;
            self.check_field(out, field_start)?;
            let Some(unit) = units.get(i) else { break };
            if self.in_quotes {
                // Inside quotes only a quote stops an ASCII run.
                self.quote_seen = true;
                i += 1;
            } else {
                self.special(unit as u8, out, &mut field_start);
                i += 1;
            }
            self.check_field(out, field_start)?;
        }
        self.park(out, field_start)
    }

    /// Moves the open field from `out` to the carry.
    fn park(&mut self, out: &mut Vec<u8>, field_start: usize) -> Result<(), ExportError> {
        self.carry.extend_from_slice(&out[field_start..]);
        out.truncate(field_start);
        Ok(())
    }

    /// Copies units from `i` until one that needs the general path in the current state,
    /// and returns where that one is (or the end). Outside quotes, tabs end fields (and
    /// become separators) without stopping the copy, unless the open field must be quoted;
    /// non-ASCII, a CR, a line break and a field with a comma ending in plain text are
    /// handled here too, so most records never leave this loop. Inside quotes only a quote
    /// stops it, and a line break, CR or separator there marks the field for quoting.
    #[inline(always)]
    fn run(
        &mut self,
        units: Units<'_>,
        mut i: usize,
        start: u64,
        out: &mut Vec<u8>,
        field_start: &mut usize,
    ) -> Result<usize, ExportError> {
        let separator = self.separator();
        if self.in_quotes {
            loop {
                let block = units.block_at(i);
                let scanned =
                    unit_blocks::scan(&block, [QUOTE as u8, NONE, NONE, NONE, NONE], b'\t');
                let taken = first(scanned.stops);
                if !self.needs_quoting {
                    let marks = [LF as u8, CR as u8, separator, NONE, NONE];
                    let marked = unit_blocks::scan(&block, marks, b'\t').stops;
                    // Non-ASCII units count as marked there, but none is before the stop.
                    self.needs_quoting = marked & below(taken) != 0;
                }
                push_bytes(&scanned.bytes, taken, out);
                i += taken;
                if taken < BLOCK {
                    match units.get(i) {
                        Some(unit) if unit >= DEL => {
                            i = self.non_ascii(units, i, start, out)?;
                            self.check_field(out, *field_start)?;
                        }
                        _ => return Ok(i.min(units.len())),
                    }
                }
            }
        }
        // Units that stop the copy besides non-ASCII, line breaks, CR and quotes. Once the
        // field must be quoted a comma is plain content, and a tab must stop the copy to
        // close the quoting.
        let (comma, tab) = match (self.csv, self.needs_quoting) {
            (_, true) => (NONE, TAB as u8),
            (true, false) => (COMMA as u8, NONE),
            (false, false) => (NONE, NONE),
        };
        let specials = [LF as u8, CR as u8, QUOTE as u8, comma, tab];
        loop {
            // One scan per block: the stops in it are taken in turn from its masks, so a
            // stop does not wait for a new block to be read and compared.
            let base = i;
            let scanned = unit_blocks::scan(&units.block_at(base), specials, separator);
            let mut from = 0;
            loop {
                let stop = first(scanned.stops & !below(from));
                let at = out.len();
                if from == 0 {
                    push_bytes(&scanned.bytes, stop, out);
                } else {
                    push_units(units, base + from, base + stop, separator, out);
                }
                let tabs = if self.needs_quoting {
                    0
                } else {
                    (scanned.tabs & below(stop)) >> from
                };
                if tabs != 0 {
                    self.fields_ended_at(tabs, at, out, field_start)?;
                    let last = (u32::BITS - 1 - tabs.leading_zeros()) as usize;
                    self.field_started = from + last + 1 < stop;
                } else {
                    self.field_started |= stop > from;
                }
                if stop == BLOCK {
                    i = base + BLOCK;
                    break;
                }
                i = base + stop;
                match units.get(i) {
                    Some(CR) => i += 1,
                    Some(LF) if !self.needs_quoting => {
                        self.check_field(out, *field_start)?;
                        self.end_record(out, field_start);
                        i += 1;
                    }
                    Some(QUOTE) if !self.field_started => {
                        match self.quoted_field(units, i, out, field_start) {
                            Some(next) => i = next,
                            None => return Ok(i),
                        }
                    }
                    Some(COMMA) if comma == COMMA as u8 => {
                        let marks = scanned.stops | scanned.tabs;
                        let run = base + from;
                        match self.comma_field(units, base, marks, run, stop, out, field_start) {
                            Some(next) => i = next,
                            None => return Ok(i),
                        }
                    }
                    Some(unit) if unit >= DEL => {
                        i = self.non_ascii(units, i, start, out)?;
                        self.field_started = true;
                        self.check_field(out, *field_start)?;
                    }
                    _ => return Ok(i.min(units.len())),
                }
                if i >= base + BLOCK {
                    break;
                }
                from = i - base;
            }
        }
    }

    /// The common CSV case of a field holding a comma (an amount such as `1,729.76`, a date
    /// such as `Feb 7, 2026 8:26:11 AM`) that ends at a tab or line break with nothing but
    /// ASCII before it: writes it quoted at once and returns where the run goes on, so the
    /// comma and the field's end cost no stops of their own. The comma is unit `comma` of
    /// the block at `base`, whose stops and tabs are `marks`; `None` leaves it to the
    /// general path.
    #[allow(clippy::too_many_arguments)] // The block's state, passed as it stands.
    fn comma_field(
        &mut self,
        units: Units<'_>,
        base: usize,
        marks: u32,
        run: usize,
        comma: usize,
        out: &mut Vec<u8>,
        field_start: &mut usize,
    ) -> Option<usize> {
        // Where the field ends (other commas are content), found before anything is
        // written: in this block's masks when it is there, else by scanning on.
        let mut later = marks & !below(comma + 1);
        let end = loop {
            let next = first(later);
            if next == BLOCK {
                break self.field_end(units, base + BLOCK, base + comma)?;
            }
            if units.get(base + next) != Some(COMMA) {
                break base + next;
            }
            later &= later - 1;
        };
        let comma = base + comma;
        let last = units.get(end);
        if !matches!(last, Some(TAB | LF))
            || out.len() - *field_start + (end - comma) > self.max_field
        {
            return None;
        }
        // The content so far came from fast runs: no quote in it to double. When all of it
        // came from the current run it is written again from the units behind the opening
        // quote: moving it within `out` would read bytes just stored, which the processor
        // cannot forward and waits for.
        let before = out.len() - *field_start;
        if before <= comma - run {
            out.truncate(*field_start);
            out.push(b'"');
            push_units(units, comma - before, comma, b',', out);
        } else {
            insert_quote(out, *field_start);
        }
        push_units(units, comma, end, b',', out);
        out.push(b'"');
        self.field_written(last == Some(TAB), out, field_start);
        Some(end + 1)
    }

    /// Where the field that holds unit `field` ends: the first tab, line break, CR, quote or
    /// non-ASCII unit from `from` on. `None` past the field cap.
    fn field_end(&self, units: Units<'_>, mut from: usize, field: usize) -> Option<usize> {
        loop {
            let specials = [TAB as u8, LF as u8, CR as u8, QUOTE as u8, NONE];
            let ends = unit_blocks::scan(&units.block_at(from), specials, b',').stops;
            if ends != 0 {
                return Some(from + ends.trailing_zeros() as usize);
            }
            from += BLOCK;
            if from - field > self.max_field {
                return None;
            }
        }
    }

    /// The common case of a quoted field (`"Northwind` LF `Traders"`, `"He said ""ASAP"""`):
    /// one that starts with a quote and ends, with nothing but ASCII in it, at a quote
    /// followed by a tab or line break. Writes it at once and returns where the run goes on;
    /// `None` leaves it to the general path. `open` is where its opening quote is.
    ///
    /// Its output is its content, quoted if the output form needs it; a field with a
    /// doubled quote always does, and then the output doubles it again: the input's own
    /// text, copied as it is.
    fn quoted_field(
        &mut self,
        units: Units<'_>,
        open: usize,
        out: &mut Vec<u8>,
        field_start: &mut usize,
    ) -> Option<usize> {
        let marks = [LF as u8, CR as u8, self.separator(), NONE, NONE];
        let mut close = open + 1;
        let mut marked = false;
        loop {
            let block = units.block_at(close);
            let stops =
                unit_blocks::scan(&block, [QUOTE as u8, NONE, NONE, NONE, NONE], b'\t').stops;
            let taken = first(stops);
            marked |= unit_blocks::scan(&block, marks, b'\t').stops & below(taken) != 0;
            close += taken;
            // Counted in input units, doubled quotes as two: never under the output's own
            // count, so a field this lets through is within the cap.
            if close - open > self.max_field {
                return None;
            }
            if taken == BLOCK {
                continue;
            }
            if units.get(close) == Some(QUOTE) && units.get(close + 1) == Some(QUOTE) {
                marked = true;
                close += 2;
                continue;
            }
            break;
        }
        let last = units.get(close + 1);
        if units.get(close) != Some(QUOTE) || !matches!(last, Some(TAB | LF)) {
            return None;
        }
        if marked {
            out.push(b'"');
        }
        push_units(units, open + 1, close, b'\t', out);
        if marked {
            out.push(b'"');
        }
        self.field_written(last == Some(TAB), out, field_start);
        Some(close + 2)
    }

    /// After a field written whole: the separator (`tab`) or the record's end.
    fn field_written(&mut self, tab: bool, out: &mut Vec<u8>, field_start: &mut usize) {
        self.field_started = false;
        if tab {
            out.push(self.separator());
            self.record_open = true;
        } else {
            out.extend_from_slice(if self.csv { b"\r\n" } else { b"\n" });
            self.record_open = false;
            self.records = self.records.saturating_add(1);
        }
        *field_start = out.len();
    }

    /// The tabs (`tabs`, bits of a block written to `out` from `at`) each ended a field: the
    /// first one ends the field that was open (checked against the cap), the last one opens
    /// the next.
    fn fields_ended_at(
        &mut self,
        tabs: u32,
        at: usize,
        out: &[u8],
        field_start: &mut usize,
    ) -> Result<(), ExportError> {
        let first = tabs.trailing_zeros() as usize;
        self.check_field(&out[..at + first], *field_start)?;
        if self.max_field < BLOCK {
            // Fields between tabs of one block are shorter than a block: only a cap that
            // small needs them checked.
            let mut rest = tabs & !(1 << first);
            let mut start = at + first + 1;
            while rest != 0 {
                let tab = rest.trailing_zeros() as usize;
                self.check_field(&out[..at + tab], start)?;
                start = at + tab + 1;
                rest &= rest - 1;
            }
        }
        let last = (u32::BITS - 1 - tabs.leading_zeros()) as usize;
        *field_start = at + last + 1;
        self.record_open = true;
        Ok(())
    }

    /// Writes the non-ASCII units from `i` as UTF-8 and returns where the next ASCII unit
    /// is. DEL, which stops a block's run with them (see `unit_blocks`), is copied as the
    /// plain character it is. A surrogate must be half of a pair; a high one that ends
    /// `units` is held for the next chunk.
    fn non_ascii(
        &mut self,
        units: Units<'_>,
        mut i: usize,
        start: u64,
        out: &mut Vec<u8>,
    ) -> Result<usize, ExportError> {
        let after = |i: usize| after(start, i);
        let mut pairs = units.from(i).chunks_exact(2);
        while let Some(&[low_byte, high_byte]) = pairs.next() {
            let unit = u16::from_le_bytes([low_byte, high_byte]);
            if unit <= DEL {
                if unit < DEL {
                    break;
                }
                out.push(DEL as u8);
                i += 1;
                continue;
            }
            if unit & 0xF800 != 0xD800 {
                // Two or three bytes, written as three and cut to length: the mix of
                // scripts in one export makes a branch on the length a poor guess.
                let three = unit >= 0x800;
                let bytes = if three {
                    [
                        0xE0 | (unit >> 12) as u8,
                        0x80 | ((unit >> 6) & 0x3F) as u8,
                        0x80 | (unit & 0x3F) as u8,
                    ]
                } else {
                    [0xC0 | (unit >> 6) as u8, 0x80 | (unit & 0x3F) as u8, 0]
                };
                let at = out.len();
                out.extend_from_slice(&bytes);
                out.truncate(at + 2 + usize::from(three));
                i += 1;
                continue;
            }
            if unit >= 0xDC00 {
                return Err(ExportError::Utf16(after(i)));
            }
            match pairs.next() {
                None => {
                    self.high_surrogate = Some(unit);
                    return Ok(units.len());
                }
                Some(&[low, high]) if (0xDC..0xE0).contains(&high) => {
                    push_pair(unit, u16::from_le_bytes([low, high]), out);
                }
                Some(_) => return Err(ExportError::Utf16(after(i + 1))),
            }
            i += 2;
        }
        Ok(i)
    }

    /// Handles the ASCII unit that stopped a run outside quotes.
    fn special(&mut self, byte: u8, out: &mut Vec<u8>, field_start: &mut usize) {
        match byte {
            b'\t' => self.end_field(out, field_start),
            b'\n' => self.end_record(out, field_start),
            b'\r' => {}
            b'"' if !self.field_started => {
                self.in_quotes = true;
                self.field_started = true;
            }
            other => {
                // A literal quote, or a comma in CSV: the field's output must be quoted.
                out.push(other);
                self.quotes = self.quotes.saturating_add(usize::from(other == b'"'));
                self.needs_quoting = true;
                self.field_started = true;
            }
        }
    }

    fn check_field(&self, out: &[u8], field_start: usize) -> Result<(), ExportError> {
        if out.len().saturating_sub(field_start) > self.max_field {
            return Err(ExportError::FieldTooLong {
                limit: self.max_field,
                record: self.records.saturating_add(1),
            });
        }
        Ok(())
    }

    /// Rewrites the open field as a quoted field if it must be (no allocation: the content
    /// moves right in place, by one byte plus one per quote it doubles).
    fn close_field(&mut self, out: &mut Vec<u8>, field_start: usize) {
        let quotes = std::mem::take(&mut self.quotes);
        if std::mem::take(&mut self.needs_quoting) {
            if quotes == 0 {
                // The common case (a comma, a line break): wrap without doubling anything.
                out.insert(field_start, b'"');
                out.push(b'"');
                self.field_started = false;
                return;
            }
            let old_end = out.len();
            out.resize(old_end + quotes + 2, b'"');
            // Copy from the back: each byte moves right by the quotes still before it, plus one.
            let mut write = old_end + quotes + 1; // the closing quote stays at the very end
            let mut read = old_end;
            while read > field_start {
                read -= 1;
                let byte = out[read];
                write -= 1;
                out[write] = byte;
                if byte == b'"' {
                    write -= 1;
                    out[write] = b'"';
                }
            }
            out[field_start] = b'"';
        }
        self.field_started = false;
    }

    fn end_field(&mut self, out: &mut Vec<u8>, field_start: &mut usize) {
        self.close_field(out, *field_start);
        out.push(self.separator());
        *field_start = out.len();
        self.record_open = true;
    }

    fn end_record(&mut self, out: &mut Vec<u8>, field_start: &mut usize) {
        self.close_field(out, *field_start);
        out.extend_from_slice(if self.csv { b"\r\n" } else { b"\n" });
        *field_start = out.len();
        self.record_open = false;
        self.records = self.records.saturating_add(1);
    }

    /// Ends the text. `end` is its length in bytes, where a held high surrogate is reported.
    pub(super) fn finish(&mut self, end: u64, out: &mut Vec<u8>) -> Result<(), ExportError> {
        if self.high_surrogate.is_some() {
            return Err(ExportError::Utf16(end));
        }
        // A closing quote as the very last character ends the field; anything else inside
        // quotes means the text was cut short.
        if self.in_quotes && !self.quote_seen {
            return Err(ExportError::Truncated);
        }
        self.in_quotes = false;
        self.quote_seen = false;
        let mut field_start = out.len();
        out.extend_from_slice(&self.carry);
        self.carry.clear();
        if self.field_started || self.record_open || out.len() > field_start {
            self.end_record(out, &mut field_start);
        }
        Ok(())
    }
}

/// The text position just after unit `i` of units that begin at `start`: where a lone
/// surrogate is reported.
fn after(start: u64, i: usize) -> u64 {
    start.saturating_add(2u64.saturating_mul(i as u64 + 1))
}

/// Writes a surrogate pair as the four UTF-8 bytes of its character.
fn push_pair(high: u16, low: u16, out: &mut Vec<u8>) {
    let code = 0x10000 + ((u32::from(high) & 0x3FF) << 10) + (u32::from(low) & 0x3FF);
    out.extend_from_slice(&[
        0xF0 | (code >> 18) as u8,
        0x80 | ((code >> 12) & 0x3F) as u8,
        0x80 | ((code >> 6) & 0x3F) as u8,
        0x80 | (code & 0x3F) as u8,
    ]);
}
