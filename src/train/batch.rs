//! Batching of training pairs: seeded shuffling, and sentence-transformers'
//! `NoDuplicatesBatchSampler` for in-batch-negative losses.

use std::collections::HashSet;

use crate::rng::Rng;

/// Indices `0..n` shuffled with `seed`, cut into batches of `batch_size` (the last may be smaller,
/// as the library's `DataLoader(drop_last=False)`).
pub fn shuffled_batches(n: usize, batch_size: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    order
        .chunks(batch_size.max(1))
        .map(|c| c.to_vec())
        .collect()
}

/// Batches over `rows` (each row's texts: a pair, or anchor, positive, negative) in which no text
/// occurs twice: a row whose text is already in the batch waits for a later batch, so with an
/// in-batch-negative loss no true duplicate is ever scored as a negative
/// (sentence-transformers#3189). Texts compare exactly, after trimming. Every row appears in
/// exactly one batch; the order is seeded.
pub fn no_duplicate_batches<S: AsRef<str>>(
    rows: &[Vec<S>],
    batch_size: usize,
    seed: u64,
) -> Vec<Vec<usize>> {
    let mut remaining: Vec<usize> = (0..rows.len()).collect();
    Rng::new(seed).shuffle(&mut remaining);
    let batch_size = batch_size.max(1);
    let mut batches = Vec::new();
    while !remaining.is_empty() {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut batch = Vec::with_capacity(batch_size);
        let mut deferred = Vec::new();
        for &i in &remaining {
            let texts = || rows[i].iter().map(|t| t.as_ref().trim());
            if batch.len() < batch_size && !texts().any(|t| seen.contains(t)) {
                seen.extend(texts());
                batch.push(i);
            } else {
                deferred.push(i);
            }
        }
        batches.push(batch);
        remaining = deferred;
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_batches_cover_everything_reproducibly() {
        let b = shuffled_batches(10, 4, 42);
        assert_eq!(b.iter().map(|x| x.len()).collect::<Vec<_>>(), vec![4, 4, 2]);
        let mut all: Vec<usize> = b.concat();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(b, shuffled_batches(10, 4, 42));
        assert_ne!(b, shuffled_batches(10, 4, 43));
    }

    #[test]
    fn no_batch_repeats_a_text() {
        // Ticket-like data: many pairs share a text (one incident duplicated by several others).
        // Triplets too: the third text (an explicit negative) counts like the other two.
        let mut pairs = Vec::new();
        for i in 0..60 {
            pairs.push(vec![
                format!("printer {}", i % 7),
                format!("dup of {}", i % 11),
            ]);
        }
        pairs.push(vec!["printer 0 ".to_string(), "x".to_string()]); // same text after trimming
        for i in 0..10 {
            pairs.push(vec![
                format!("vpn {i}"),
                format!("vpn again {i}"),
                "x".to_string(),
            ]);
        }
        let batches = no_duplicate_batches(&pairs, 8, 1);
        let mut used: Vec<usize> = batches.concat();
        used.sort();
        assert_eq!(
            used,
            (0..pairs.len()).collect::<Vec<_>>(),
            "every pair exactly once"
        );
        for b in &batches {
            assert!(b.len() <= 8 && !b.is_empty());
            let mut texts: Vec<&str> = b
                .iter()
                .flat_map(|&i| pairs[i].iter().map(|t| t.trim()))
                .collect();
            let n = texts.len();
            texts.sort();
            texts.dedup();
            assert_eq!(texts.len(), n, "duplicate text in batch {b:?}");
        }
        assert_eq!(batches, no_duplicate_batches(&pairs, 8, 1));
    }
}
