//! Deterministic train/evaluation split by row hash.
//!
//! A row goes to evaluation when `hash(row values, seed) / 2^64 < fraction`.
//! The hash is FNV-1a (64-bit) over each value's text form, so the split of a
//! row never depends on where it sits in the input.

use crate::data::Column;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// A value in `[0, 1)` for each row, from its values and the seed.
pub fn row_fractions(columns: &[&Column], rows: usize, seed: u64) -> Vec<f64> {
    (0..rows)
        .map(|r| {
            let mut h = fnv1a(FNV_OFFSET, &seed.to_le_bytes());
            for c in columns {
                match c.values.text_at(r) {
                    Some(s) => h = fnv1a(h, s.as_bytes()),
                    None => h = fnv1a(h, &[0xff]),
                }
                h = fnv1a(h, &[0x1f]);
            }
            // final avalanche (splitmix64) so nearby inputs spread evenly
            h ^= h >> 30;
            h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            h ^= h >> 27;
            h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
            h ^= h >> 31;
            (h >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}
