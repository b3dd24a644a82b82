//! Sixteen UTF-16 units at a time: which of them stop a run, which are tabs, and the block
//! narrowed to bytes, all from one pass. The record writer asks this of every block of an
//! export, so it is answered with vector instructions.
//!
//! The units are first packed to bytes with signed saturation: an ASCII unit keeps its
//! value, a unit from 0x80 to 0x7FFF becomes 0x7F and one from 0x8000 up a byte with its top
//! bit set. So "not ASCII" is "0x7F or top bit", and every other question is one compare of
//! one 16-byte register. 0x7F is also DEL, which therefore stops a run too; the record
//! writer copies it as the plain character it is.
//!
//! On x86-64 this uses SSE2 (part of every x86-64 processor) through `safe_arch`, which
//! wraps the intrinsics in safe functions so this crate keeps no `unsafe` of its own. The
//! compiler does not find these instructions by itself: the same loops written over arrays
//! came out as one compare per unit and ran slower than the two-pass converter they
//! replaced (CSV 600 MB/s against 970). Elsewhere portable loops give the same answers.

/// Units in a block.
pub(super) const BLOCK: usize = 16;

/// A block of units, as their UTF-16LE bytes.
pub(super) type Block = [u8; 2 * BLOCK];

/// UTF-16 units read in place from their little-endian bytes (Zuora's encoding, so the
/// common export is never copied into a buffer of `u16` first).
#[derive(Clone, Copy)]
pub(super) struct Units<'a> {
    bytes: &'a [u8],
}

impl<'a> Units<'a> {
    /// The units of `bytes`; an odd last byte is not read.
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub(super) fn len(&self) -> usize {
        self.bytes.len() / 2
    }

    #[inline(always)]
    pub(super) fn get(&self, i: usize) -> Option<u16> {
        let at = i.checked_mul(2)?;
        match self.bytes.get(at..at.checked_add(2)?)? {
            &[low, high] => Some(u16::from_le_bytes([low, high])),
            _ => None,
        }
    }

    /// The bytes of the units from `i` on.
    pub(super) fn from(&self, i: usize) -> &'a [u8] {
        let at = i.saturating_mul(2).min(self.len() * 2);
        &self.bytes[at..self.len() * 2]
    }

    /// The block of units from `i`, padded past the end with 0xFFFF: not ASCII, so it
    /// always stops a run.
    #[inline(always)]
    pub(super) fn block_at(&self, i: usize) -> Block {
        let at = i.saturating_mul(2).min(self.len() * 2);
        match self.bytes.get(at..at.saturating_add(2 * BLOCK)) {
            Some(full) => full.try_into().unwrap_or([0xFF; 2 * BLOCK]),
            None => {
                let mut block = [0xFF; 2 * BLOCK];
                let rest = &self.bytes[at..self.len() * 2];
                block[..rest.len()].copy_from_slice(rest);
                block
            }
        }
    }
}

/// The units before position `n` of a block, as a bit mask (bit `j` is unit `j`).
#[inline(always)]
pub(super) fn below(n: usize) -> u32 {
    1u32.checked_shl(n as u32).map_or(u32::MAX, |bit| bit - 1)
}

/// What one block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scan {
    /// The units that stop a run: not ASCII, DEL, or one of the specials asked for.
    pub(super) stops: u32,
    /// The tabs.
    pub(super) tabs: u32,
    /// The block as bytes, tabs written as asked; right for every unit before the first stop.
    pub(super) bytes: [u8; BLOCK],
}

/// Stands for "no such special" in [`scan`]: DEL, which stops a run anyway.
pub(super) const NONE: u8 = 0x7F;

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use sse2 as imp;

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
use portable as imp;

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use super::{BLOCK, Block, NONE, Scan};
    use safe_arch::{
        bitand_m128i, bitandnot_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i,
        m128i, move_mask_i8_m128i, pack_i16_to_i8_m128i, set_splat_i8_m128i,
    };

    #[inline(always)]
    fn packed(block: &Block) -> m128i {
        let (low, high) = block.split_at(BLOCK);
        let half = |bytes: &[u8]| {
            load_unaligned_m128i(&<[u8; BLOCK]>::try_from(bytes).unwrap_or([0xFF; BLOCK]))
        };
        pack_i16_to_i8_m128i(half(low), half(high))
    }

    #[inline(always)]
    fn with_tabs_as(packed: m128i, tab_lanes: m128i, tab_as: u8) -> m128i {
        bitor_m128i(
            bitandnot_m128i(tab_lanes, packed),
            bitand_m128i(tab_lanes, set_splat_i8_m128i(tab_as as i8)),
        )
    }

    #[inline(always)]
    pub fn narrow(block: &Block, tab_as: u8) -> [u8; BLOCK] {
        let packed = packed(block);
        let tab_lanes = cmp_eq_mask_i8_m128i(packed, set_splat_i8_m128i(b'\t' as i8));
        with_tabs_as(packed, tab_lanes, tab_as).into()
    }

    #[inline(always)]
    pub fn scan(block: &Block, specials: [u8; 5], tab_as: u8) -> Scan {
        let packed = packed(block);
        let equal = |byte: u8| cmp_eq_mask_i8_m128i(packed, set_splat_i8_m128i(byte as i8));
        let hits = specials.iter().fold(equal(NONE), |hits, &special| {
            bitor_m128i(hits, equal(special))
        });
        // A lane is a stop if it matched, or if its top bit is set (a unit from 0x8000).
        let stops = move_mask_i8_m128i(bitor_m128i(packed, hits)) as u32 & 0xFFFF;
        let tab_lanes = equal(b'\t');
        let tabs = move_mask_i8_m128i(tab_lanes) as u32 & 0xFFFF;
        Scan {
            stops,
            tabs,
            bytes: with_tabs_as(packed, tab_lanes, tab_as).into(),
        }
    }
}

/// The same answers unit by unit: used where SSE2 is not, and in tests everywhere (so the
/// x86-64 build checks it against the vector one).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
mod portable {
    use super::{BLOCK, Block, NONE, Scan};

    pub fn scan(block: &Block, specials: [u8; 5], tab_as: u8) -> Scan {
        let mut scan = Scan {
            stops: 0,
            tabs: 0,
            bytes: [0; BLOCK],
        };
        for (j, pair) in block.chunks_exact(2).enumerate() {
            let unit = u16::from_le_bytes([pair[0], pair[1]]);
            let byte = unit.min(0x7F) as u8;
            if unit >= 0x7F || specials.contains(&byte) || byte == NONE {
                scan.stops |= 1 << j;
            }
            if byte == b'\t' {
                scan.tabs |= 1 << j;
            }
            scan.bytes[j] = if byte == b'\t' { tab_as } else { byte };
        }
        scan
    }

    pub fn narrow(block: &Block, tab_as: u8) -> [u8; BLOCK] {
        scan(block, [NONE; 5], tab_as).bytes
    }
}

/// `block` as bytes, tabs written as `tab_as`: [`Scan::bytes`] alone.
#[inline(always)]
pub(super) fn narrow(block: &Block, tab_as: u8) -> [u8; BLOCK] {
    imp::narrow(block, tab_as)
}

/// Scans `block`: its stops (besides non-ASCII and DEL, the units equal to one of
/// `specials`, [`NONE`] for none), its tabs, and its bytes with tabs written as `tab_as`.
#[inline(always)]
pub(super) fn scan(block: &Block, specials: [u8; 5], tab_as: u8) -> Scan {
    imp::scan(block, specials, tab_as)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_vector_answers_are_the_unit_by_unit_ones(
            units in proptest::array::uniform16(proptest::prop_oneof![
                0u16..0x100, proptest::strategy::Just(0x7F), proptest::strategy::Just(0x80),
                proptest::strategy::Just(0x7FFF), proptest::strategy::Just(0x8000),
                proptest::strategy::Just(0xFFFF), proptest::num::u16::ANY,
            ]),
            special in 0u8..0x80,
            tab_as in 0u8..0x80,
        ) {
            let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
            let block = Units::new(&bytes).block_at(0);
            let specials = [b'\n', b'"', special, NONE, NONE];
            let scanned = scan(&block, specials, tab_as);
            let bits = |test: &dyn Fn(u16) -> bool| {
                units.iter().enumerate().fold(0u32, |bits, (j, &u)| bits | (u32::from(test(u)) << j))
            };
            let stop = |u: u16| u >= 0x7F || specials.iter().any(|&s| u16::from(s) == u);
            proptest::prop_assert_eq!(scanned.stops, bits(&stop));
            proptest::prop_assert_eq!(scanned.tabs, bits(&|u| u == 9));
            proptest::prop_assert_eq!(narrow(&block, tab_as), scanned.bytes);
            let portable = portable::scan(&block, specials, tab_as);
            proptest::prop_assert_eq!((portable.stops, portable.tabs), (scanned.stops, scanned.tabs));
            proptest::prop_assert_eq!(portable::narrow(&block, tab_as), portable.bytes);
            for (j, &unit) in units.iter().enumerate() {
                if unit < 0x7F {
                    let want = if unit == 9 { tab_as } else { unit as u8 };
                    proptest::prop_assert_eq!(scanned.bytes[j], want);
                    proptest::prop_assert_eq!(portable.bytes[j], want);
                }
            }
        }
    }

    #[test]
    fn a_block_past_the_end_is_padded() {
        let bytes = [b'a', 0, b'b', 0, b'c'];
        let units = Units::new(&bytes);
        assert_eq!(
            (units.len(), units.get(1), units.get(2)),
            (2, Some(98), None)
        );
        let block = units.block_at(1);
        assert_eq!(&block[..4], &[b'b', 0, 0xFF, 0xFF]);
        assert_eq!(scan(&block, [NONE; 5], b',').stops, 0xFFFE);
        assert_eq!(units.block_at(7), [0xFF; 32]);
    }

    #[test]
    fn below_is_the_units_before_a_position() {
        assert_eq!(below(0), 0);
        assert_eq!(below(3), 0b111);
        assert_eq!(below(16), 0xFFFF);
        assert_eq!(below(32), u32::MAX);
    }
}
