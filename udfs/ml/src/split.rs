//! Deterministic train/evaluation split by row hash.
//!
//! A row goes to evaluation when `hash(row values, occurrence, seed) / 2^64 <
//! fraction`. The hash is FNV-1a (64-bit) over each value's text form, mixed
//! with the seed and with how many identical rows came before it (so
//! duplicates are split like any other rows). Which rows are held out never
//! depends on the order they arrive in: identical rows are interchangeable.

use std::collections::HashMap;

use crate::data::{Column, ColumnValues, write_number};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// A hash of each row's values (their text forms) and of how many identical
/// rows came before it. Identical rows are interchangeable, so every use of
/// these hashes is independent of the order rows arrive in.
pub fn row_hashes(columns: &[&Column], rows: usize) -> Vec<u64> {
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut buf = String::new();
    (0..rows)
        .map(|r| {
            let mut h = FNV_OFFSET;
            for c in columns {
                // each value's text form (`ColumnValues::text_at`), without allocating
                match &c.values {
                    ColumnValues::Text(v) => match &v[r] {
                        Some(s) => h = fnv1a(h, s.as_bytes()),
                        None => h = fnv1a(h, &[0xff]),
                    },
                    ColumnValues::Numeric(v) => match v[r] {
                        Some(x) => {
                            buf.clear();
                            write_number(&mut buf, x);
                            h = fnv1a(h, buf.as_bytes());
                        }
                        None => h = fnv1a(h, &[0xff]),
                    },
                }
                h = fnv1a(h, &[0x1f]);
            }
            let occurrence = seen.entry(h).or_insert(0);
            *occurrence += 1;
            mix(fnv1a(h, &occurrence.to_le_bytes()))
        })
        .collect()
}

/// A value in `[0, 1)` for each row, from its hash and the seed.
pub fn row_fractions(hashes: &[u64], seed: u64) -> Vec<f64> {
    hashes
        .iter()
        .map(|h| {
            (mix(h ^ mix(seed.wrapping_add(0x9e37_79b9_7f4a_7c15))) >> 11) as f64
                / (1u64 << 53) as f64
        })
        .collect()
}

/// A value in `[0, 1)` from one key's text form and a seed: the same key and
/// seed always give the same value, on any machine (FNV-1a, then splitmix64).
pub fn key_fraction(key: &str, seed: u64) -> f64 {
    let h = fnv1a(fnv1a(FNV_OFFSET, key.as_bytes()), &seed.to_le_bytes());
    (mix(h) >> 11) as f64 / (1u64 << 53) as f64
}

/// splitmix64's finaliser: spreads nearby inputs evenly over 64 bits.
pub fn mix(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The permutation that sorts rows by their hash: training on rows in this
/// order gives the same model whatever order the query returned them in.
pub fn canonical_order(hashes: &[u64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..hashes.len()).collect();
    idx.sort_by_key(|i| hashes[*i]);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_fractions_are_stable_and_uniform() {
        // fixed values: a change here would move rows between splits
        assert_eq!(key_fraction("1", 42), key_fraction("1", 42));
        assert_ne!(key_fraction("1", 42), key_fraction("1", 43));
        let below = (0..10_000)
            .filter(|i| key_fraction(&i.to_string(), 42) < 0.2)
            .count();
        assert!((1850..2150).contains(&below), "{below}");
    }

    #[test]
    fn duplicates_are_split_like_other_rows() {
        // 10,000 rows holding only two distinct values
        let v: Vec<Option<f64>> = (0..10_000).map(|i| Some((i % 2) as f64)).collect();
        let c = Column {
            name: "a".into(),
            sql_type: "bigint".into(),
            values: ColumnValues::Numeric(v),
        };
        let held = row_fractions(&row_hashes(&[&c], 10_000), 42)
            .iter()
            .filter(|f| **f < 0.2)
            .count();
        assert!((1800..2200).contains(&held), "{held}");
    }
}
