//! Nearest neighbours by cosine over a whole incident file: the one routine behind the labelling
//! queue (each ticket's closest others), find similar (one query against the file), duplicate
//! groups (every ticket's neighbours above a threshold) and the CLI's `group`.
//!
//! Why blocked: the similarities of n tickets with each other are n² numbers — 400 MB at 10,000
//! tickets, 10 GB at 50,000. A block of query rows is multiplied with all corpus rows at once (one
//! matrix product: fast on every backend), each row keeps only its best `k` (at or above
//! `min_score`), and the block's matrix is dropped before the next; memory is one block per thread
//! plus O(n·k) for the answer. Blocks run on [`crate::parallel::map`] in rounds of as many blocks as
//! there are threads, and `progress` is called after each round, so a worker can report.
//!
//! Order is deterministic: a row's neighbours by cosine, highest first, ties to the lower index —
//! whatever the block size or the thread count.
//!
//! Imports: candle (the block products), the crate's error type and its data-parallel map.

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};

/// Rows per block by default: 256 rows × 10,000 tickets × 4 bytes = 10 MB per thread.
pub const DEFAULT_BLOCK_ROWS: usize = 256;

/// One row's neighbours: `(corpus index, cosine)`, highest first.
pub type Row = Vec<(usize, f32)>;

/// What to search for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Search {
    /// Neighbours kept per row (at most).
    pub k: usize,
    /// Neighbours below this cosine are not kept (`f32::NEG_INFINITY`: keep the best k whatever
    /// their cosine).
    pub min_score: f32,
    /// Rows per block.
    pub block_rows: usize,
}

impl Search {
    /// The best `k` of each row, whatever their cosine, in default blocks.
    pub fn top(k: usize) -> Search {
        Search {
            k,
            min_score: f32::NEG_INFINITY,
            block_rows: DEFAULT_BLOCK_ROWS,
        }
    }
}

/// The neighbours of each query row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Neighbours {
    /// Per query row, its neighbours.
    pub rows: Vec<Row>,
    /// Query rows that had more than `k` neighbours at or above `min_score` (only the best `k`
    /// kept): with a threshold, a sign that it is too low.
    pub truncated: usize,
}

/// Rows scaled to unit length (zero rows stay zero), flattened row-major, and their dimension; an
/// error names the first row whose dimension differs from the first row's.
pub(crate) fn normalised(embeddings: &[Vec<f32>]) -> Result<(Vec<f32>, usize)> {
    let d = embeddings.first().map_or(0, Vec::len);
    let mut flat = Vec::with_capacity(embeddings.len() * d);
    for (i, e) in embeddings.iter().enumerate() {
        if e.len() != d {
            return Err(Error::Invalid(format!(
                "embedding {i} has {} dimensions, the first has {d}",
                e.len()
            )));
        }
        flat.extend(super::retrieval::unit_vector(e));
    }
    Ok((flat, d))
}

/// Each ticket's nearest other tickets in `embeddings` (itself left out).
pub fn within(
    embeddings: &[Vec<f32>],
    search: Search,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Neighbours> {
    let (flat, d) = normalised(embeddings)?;
    let n = embeddings.len();
    blocked(&flat, None, (n, n), d, search, progress)
}

/// The nearest tickets of `corpus` to each of `queries` (queries are not corpus rows: nothing is
/// left out).
pub fn across(
    queries: &[Vec<f32>],
    corpus: &[Vec<f32>],
    search: Search,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Neighbours> {
    let (c, d) = normalised(corpus)?;
    if queries.is_empty() {
        return Ok(Neighbours::default());
    }
    let (q, dq) = normalised(queries)?;
    if !corpus.is_empty() && dq != d {
        return Err(Error::Invalid(format!(
            "the queries have {dq} dimensions, the tickets {d}"
        )));
    }
    blocked(
        &c,
        Some(&q),
        (queries.len(), corpus.len()),
        d,
        search,
        progress,
    )
}

/// The work of [`within`] (`queries` = `None`: the corpus against itself) and [`across`], on unit
/// rows flattened row-major; `(m, n)`: query rows, corpus rows.
fn blocked(
    corpus: &[f32],
    queries: Option<&[f32]>,
    (m, n): (usize, usize),
    d: usize,
    search: Search,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Neighbours> {
    if search.block_rows == 0 {
        return Err(Error::Invalid("block_rows must be at least 1".into()));
    }
    let same = queries.is_none();
    let mut out = Neighbours::default();
    if search.k == 0 || n == 0 || d == 0 {
        out.rows = vec![Vec::new(); m];
        progress(m, m);
        return Ok(out);
    }
    let all = Tensor::from_slice(corpus, (n, d), &Device::Cpu)?;
    let all_t = all.t()?.contiguous()?;
    let q_all = match queries {
        Some(q) => Tensor::from_slice(q, (m, d), &Device::Cpu)?,
        None => all,
    };
    // One block of query rows: its cosines with every corpus row, then only the best kept.
    let block = |&start: &usize| -> Result<Vec<(Row, bool)>> {
        let rows = search.block_rows.min(m - start);
        let sims: Vec<Vec<f32>> = q_all.narrow(0, start, rows)?.matmul(&all_t)?.to_vec2()?;
        Ok(sims
            .into_iter()
            .enumerate()
            .map(|(r, row)| best(row, same.then_some(start + r), search))
            .collect())
    };
    let starts: Vec<usize> = (0..m).step_by(search.block_rows).collect();
    for round in starts.chunks(crate::parallel::data_threads().max(1)) {
        for rows in crate::parallel::map(round, block) {
            for (nb, cut) in rows? {
                out.truncated += usize::from(cut);
                out.rows.push(nb);
            }
        }
        progress(out.rows.len(), m);
    }
    Ok(out)
}

/// The best `search.k` of one row of cosines (`skip`: the row's own index), highest first, ties to
/// the lower index; and whether more than `k` qualified.
fn best(row: Vec<f32>, skip: Option<usize>, search: Search) -> (Row, bool) {
    let mut kept: Vec<(usize, f32)> = row
        .into_iter()
        .enumerate()
        .filter(|&(j, s)| Some(j) != skip && s >= search.min_score && !s.is_nan())
        .collect();
    let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    let cut = kept.len() > search.k;
    if cut {
        // Linear selection first: a row of 10,000 is not sorted to keep 3.
        kept.select_nth_unstable_by(search.k - 1, order);
        kept.truncate(search.k);
    }
    kept.sort_by(order);
    (kept, cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(n: usize, d: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| (0..d).map(|_| rng.next_f32() - 0.5).collect())
            .collect()
    }

    /// The obvious O(n²) answer, sorted in full.
    fn brute(q: &[Vec<f32>], c: &[Vec<f32>], same: bool, s: Search) -> Vec<Vec<(usize, f32)>> {
        q.iter()
            .enumerate()
            .map(|(i, u)| {
                let mut all: Vec<(usize, f32)> = c
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| !(same && i == j))
                    .map(|(j, v)| (j, crate::cosine(u, v)))
                    .filter(|&(_, x)| x >= s.min_score)
                    .collect();
                all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                all.truncate(s.k);
                all
            })
            .collect()
    }

    fn same_lists(got: &[Vec<(usize, f32)>], want: &[Vec<(usize, f32)>]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            let gi: Vec<usize> = g.iter().map(|x| x.0).collect();
            let wi: Vec<usize> = w.iter().map(|x| x.0).collect();
            assert_eq!(gi, wi);
            for (a, b) in g.iter().zip(w) {
                assert!((a.1 - b.1).abs() < 1e-5, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn blocked_search_is_the_brute_force_answer_whatever_the_block() {
        let e = random(203, 16, 7);
        for block_rows in [1, 10, 64, 500] {
            for (k, min_score) in [(3, f32::NEG_INFINITY), (50, 0.2), (1000, 0.0)] {
                let s = Search {
                    k,
                    min_score,
                    block_rows,
                };
                let mut calls = Vec::new();
                let got = within(&e, s, &mut |d, t| calls.push((d, t))).unwrap();
                same_lists(&got.rows, &brute(&e, &e, true, s));
                assert_eq!(calls.last(), Some(&(203, 203)), "progress ends at n of n");
                assert!(calls.windows(2).all(|w| w[0].0 < w[1].0));
                let want_cut = e
                    .iter()
                    .enumerate()
                    .filter(|&(i, u)| {
                        e.iter()
                            .enumerate()
                            .filter(|&(j, v)| j != i && crate::cosine(u, v) >= min_score)
                            .count()
                            > k
                    })
                    .count();
                assert_eq!(got.truncated, want_cut, "k {k}, min {min_score}");
            }
        }
    }

    #[test]
    fn queries_against_a_corpus_leave_nothing_out() {
        let c = random(90, 8, 1);
        let mut q = random(5, 8, 2);
        q.push(c[17].clone());
        let s = Search {
            k: 4,
            min_score: f32::NEG_INFINITY,
            block_rows: 2,
        };
        let got = across(&q, &c, s, &mut |_, _| {}).unwrap();
        same_lists(&got.rows, &brute(&q, &c, false, s));
        assert_eq!(got.rows[5][0].0, 17, "a copy of a ticket finds it first");
        // Empty inputs and k = 0 are answers, not errors; a dimension mismatch is an error.
        assert!(across(&[], &c, s, &mut |_, _| {}).unwrap().rows.is_empty());
        let none = across(&q, &[], s, &mut |_, _| {}).unwrap();
        assert!(none.rows.len() == 6 && none.rows.iter().all(Vec::is_empty));
        assert!(within(&c, Search::top(0), &mut |_, _| {})
            .unwrap()
            .rows
            .iter()
            .all(Vec::is_empty));
        let err = across(&[vec![1.0; 3]], &c, s, &mut |_, _| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("3 dimensions") && err.contains('8'), "{err}");
        let err = within(&[vec![1.0; 3], vec![1.0; 2]], s, &mut |_, _| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("embedding 1 has 2"), "{err}");
    }

    #[test]
    fn ties_go_to_the_lower_index_and_zero_rows_are_kept_apart() {
        // Rows 1, 2, 3 are the same vector: row 0's best are all equal, the lower index first.
        let e = vec![
            vec![1.0, 0.0],
            vec![1.0, 0.1],
            vec![1.0, 0.1],
            vec![1.0, 0.1],
            vec![0.0, 0.0],
        ];
        let got = within(&e, Search::top(2), &mut |_, _| {}).unwrap();
        assert_eq!(got.rows[0].iter().map(|x| x.0).collect::<Vec<_>>(), [1, 2]);
        // A zero vector has cosine 0 with everything, never NaN.
        assert!(got.rows[4].iter().all(|x| x.1 == 0.0));
    }
}
