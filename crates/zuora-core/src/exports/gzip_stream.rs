//! Inflating a gzip body fed in chunks, straight into the caller's buffer.
//!
//! flate2's push-style decoder (`write::MultiGzDecoder`) inflates into a buffer of its own
//! and hands that on, which costs the thread that inflates (the receiving thread, when a
//! client converts on another) a copy of every inflated byte: about a tenth of its time,
//! since inflating is the slower of the two. zlib itself reads the gzip header and checks
//! the trailer (CRC-32 and length) when told the stream is gzip, so this module only adds
//! what it leaves to its caller: members one after another (RFC 1952 § 2.2; tools that
//! append to a gzip file make them), and the chunked feeding with a bound on the output.

use flate2::{Decompress, FlushDecompress, Status};

use super::export_error::ExportError;

/// How much output room is made at a time: the inflater writes no more per step.
pub(super) const STEP: usize = 32 << 10;

/// Where the stream is between calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// No byte yet.
    Start,
    /// Inside a member (its header may still be arriving).
    InMember,
    /// Just after a member's trailer: the stream may end here, or another member begin.
    BetweenMembers,
}

/// A gzip stream of one or more members, inflated chunk by chunk.
pub(crate) struct GzipStream {
    inflate: Decompress,
    place: Place,
}

impl core::fmt::Debug for GzipStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GzipStream")
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

impl Default for GzipStream {
    fn default() -> Self {
        Self {
            // 15: the largest window, which any gzip writer may have used.
            inflate: Decompress::new_gzip(15),
            place: Place::Start,
        }
    }
}

impl GzipStream {
    /// Inflates from the start of `input`, appending to `out`, until the input is used up or
    /// `out` holds `until` bytes or more (its capacity grows to at most [`STEP`] past
    /// `until`; a larger one it had already may be filled); says how
    /// many bytes of `input` it took. Each call with input left and `out` below `until`
    /// takes some input or writes some output, or fails: a caller's loop always ends.
    ///
    /// # Errors
    ///
    /// [`ExportError::Gzip`]: a corrupt stream, a bad trailer, or bytes after a member that
    /// do not start another.
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        until: usize,
    ) -> Result<usize, ExportError> {
        let mut taken = 0;
        while taken < input.len() && out.len() < until {
            if self.place == Place::BetweenMembers {
                // The next member's header is checked by zlib as the first one's was.
                self.inflate.reset(true);
            }
            self.place = Place::InMember;
            if out.capacity() - out.len() < STEP {
                // Doubling (so a piece grown to a batch was copied about once), but never
                // past one step beyond `until`, whatever Vec's own policy would do.
                let wanted = until.saturating_sub(out.len());
                out.reserve_exact(out.len().max(STEP).min(wanted).max(STEP));
            }
            let (in_before, out_before) = (self.inflate.total_in(), out.len());
            // Writes into `out`'s spare capacity only: never reallocates.
            let outcome = self
                .inflate
                .decompress_vec(&input[taken..], out, FlushDecompress::None);
            let status = outcome.map_err(|error| ExportError::Gzip(error.to_string()))?;
            let took = usize::try_from(self.inflate.total_in().saturating_sub(in_before))
                .unwrap_or(usize::MAX);
            taken = taken.saturating_add(took).min(input.len());
            if status == Status::StreamEnd {
                self.place = Place::BetweenMembers;
            } else if took == 0 && out.len() == out_before {
                // Room and input, yet nothing moved: not a state a sound stream reaches.
                return Err(ExportError::Gzip(
                    "the gzip stream takes no more input".to_owned(),
                ));
            }
        }
        Ok(taken)
    }

    /// Ends the stream: fails if it stopped inside a member (cut short). No byte at all is
    /// not a gzip failure: the caller's text is then empty, which it reports.
    ///
    /// # Errors
    ///
    /// [`ExportError::Gzip`] when the last member is incomplete.
    pub(crate) fn finish(&self) -> Result<(), ExportError> {
        match self.place {
            Place::Start | Place::BetweenMembers => Ok(()),
            Place::InMember => Err(ExportError::Gzip("the gzip stream is cut short".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).expect("in memory");
        encoder.finish().expect("in memory")
    }

    /// Everything `input` inflates to, fed in `cut`-byte chunks with `until` per call.
    fn inflate_all(input: &[u8], cut: usize, until: usize) -> Result<Vec<u8>, ExportError> {
        let mut stream = GzipStream::default();
        let mut all = Vec::new();
        for chunk in input.chunks(cut.max(1)) {
            let mut taken = 0;
            while taken < chunk.len() {
                let mut out = Vec::new();
                taken += stream.inflate(&chunk[taken..], &mut out, until)?;
                assert!(out.len() < until + STEP, "{} past {until}", out.len());
                all.extend_from_slice(&out);
            }
        }
        stream.finish()?;
        Ok(all)
    }

    #[test]
    fn members_in_any_chunking_inflate_to_their_text() {
        let (first, second) = (b"first member ".repeat(5000), b"second".repeat(7000));
        let mut members = gzip(&first);
        members.extend(gzip(&second));
        let expected = [first, second].concat();
        for cut in [1, 7, 4096, members.len()] {
            for until in [1, 1000, 1 << 20] {
                assert_eq!(inflate_all(&members, cut, until), Ok(expected.clone()));
            }
        }
    }

    #[test]
    fn a_cut_short_or_corrupt_stream_or_trailing_bytes_are_errors() {
        let whole = gzip(&b"text".repeat(1000));
        for end in [1, 10, whole.len() / 2, whole.len() - 1] {
            assert!(
                matches!(
                    inflate_all(&whole[..end], 5, 1 << 20),
                    Err(ExportError::Gzip(_))
                ),
                "cut at {end}"
            );
        }
        let mut bad_trailer = whole.clone();
        let at = bad_trailer.len() - 6;
        bad_trailer[at] ^= 1; // the CRC-32
        assert!(matches!(
            inflate_all(&bad_trailer, 64, 1 << 20),
            Err(ExportError::Gzip(_))
        ));
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"not gzip");
        assert!(matches!(
            inflate_all(&trailing, 64, 1 << 20),
            Err(ExportError::Gzip(_))
        ));
        assert!(matches!(
            inflate_all(b"plain text", 3, 1 << 20),
            Err(ExportError::Gzip(_))
        ));
        // No byte at all is not a gzip failure (the caller finds the text empty).
        assert_eq!(inflate_all(&[], 1, 1), Ok(Vec::new()));
    }

    /// A stream that expands a thousandfold stays within the bound per call.
    #[test]
    fn output_per_call_is_bounded() {
        let bomb = gzip(&vec![0u8; 8 << 20]);
        let mut stream = GzipStream::default();
        let mut out = Vec::new();
        let taken = stream.inflate(&bomb, &mut out, 100_000).expect("inflates");
        assert!(taken < bomb.len());
        assert!(out.capacity() < 100_000 + STEP, "{}", out.capacity());
    }
}
