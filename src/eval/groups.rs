//! Duplicate groups in a backlog: which tickets are one incident reported many times — and how
//! well the groups match known duplicate clusters.
//!
//! **Algorithm: threshold communities** (sentence-transformers' `util.community_detection`, which
//! many teams already use). Every ticket's neighbourhood is the set of tickets whose cosine with it
//! is ≥ the threshold (itself included, at most [`GroupConfig::max_group`] of them, the most
//! similar kept). Neighbourhoods with at least [`GroupConfig::min_group`] members are candidates;
//! the largest candidate becomes a group, its members leave the pool, and the next largest forms
//! from its members still free, as long as at least `min_group` are. Every ticket left over is a
//! group of its own.
//!
//! Why not connected components of the threshold graph: one borderline pair chains two unrelated
//! problems into one group, and in a backlog of thousands such chains make giant groups (the
//! classic single-linkage failure). Why not average-linkage clustering: it needs the whole
//! distance matrix, O(n²) memory — 10 GB at 50,000 tickets. A community is built around one
//! ticket, so every member of a freshly formed group is within the threshold of its centre; the
//! similarity matrix is computed in blocks of rows and only the neighbours above the threshold are
//! kept ([`super::neighbours`], the search the labelling queue and find similar use too), so memory
//! grows with the neighbours, not with n².
//!
//! Order is deterministic: candidates by size (larger first), then by centre position; groups are
//! numbered in that order; singletons follow in file order. A group's **central ticket** (its
//! title) is the member with the highest mean cosine to the other members.
//!
//! **Scores against known clusters** (connected components of the duplicate links; unlinked tickets
//! are clusters of one): pairwise precision, recall and F1 (over all pairs of tickets: "grouped
//! together" against "linked together") and the adjusted Rand index (Hubert & Arabie 1985;
//! sklearn's `adjusted_rand_score`), all from the contingency table, never from an n² loop.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::neighbours::Search;
use super::retrieval::{LinkKind, RetrievalSet};
use crate::data::generate::UnionFind;
use crate::error::{Error, Result};

/// Settings of [`group`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupConfig {
    /// Tickets whose cosine is ≥ this are neighbours.
    pub threshold: f32,
    /// Fewest members of a group (2: a pair is a duplicate group).
    pub min_group: usize,
    /// Most neighbours kept per ticket (the most similar): bounds memory when the threshold is low.
    pub max_group: usize,
    /// Rows of the similarity matrix computed at once.
    pub block_rows: usize,
}

/// The threshold [`group`] uses when neither the user nor the model folder gives one. Measured
/// (README, "Duplicate groups"): at 0.8 about half the pairs all-MiniLM-L6-v2 groups on GitBugs
/// are known duplicates (pairwise precision 0.48, recall 0.23); the pair evaluation's best-F1
/// threshold (0.56) makes a 72-ticket group there, because it is tuned on pairs that are half
/// duplicates while a backlog has far fewer.
pub const DEFAULT_THRESHOLD: f32 = 0.8;

impl GroupConfig {
    /// An error naming the setting that is out of range.
    pub fn validate(&self) -> Result<()> {
        if !(-1.0..=1.0).contains(&self.threshold) {
            return Err(Error::Invalid(format!(
                "threshold {} is outside [-1, 1], the range of a cosine",
                self.threshold
            )));
        }
        if self.min_group < 2 || self.max_group < self.min_group || self.block_rows == 0 {
            return Err(Error::Invalid(format!(
                "min_group must be at least 2 and at most max_group, block_rows at least 1 (got \
                 {}, {}, {})",
                self.min_group, self.max_group, self.block_rows
            )));
        }
        Ok(())
    }
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            threshold: DEFAULT_THRESHOLD,
            min_group: 2,
            max_group: 1000,
            block_rows: 256,
        }
    }
}

/// One group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Members' positions, ascending.
    pub members: Vec<usize>,
    /// The central ticket's position (highest mean cosine to the other members).
    pub central: usize,
    /// Each member's cosine with the central ticket, in `members` order.
    pub similarity_to_central: Vec<f32>,
}

/// The grouping of a whole file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grouping {
    /// Groups of two or more, largest first.
    pub groups: Vec<Group>,
    /// Each ticket's group id: an index into `groups`, or `groups.len() + k` for the k-th
    /// singleton.
    pub assignment: Vec<usize>,
    /// Tickets whose neighbourhood hit [`GroupConfig::max_group`] (the threshold may be too low).
    pub capped: usize,
}

impl Grouping {
    /// Tickets in a group of two or more.
    pub fn grouped(&self) -> usize {
        self.groups.iter().map(|g| g.members.len()).sum()
    }
}

/// Group `embeddings` (one per ticket, in file order). `progress(done, total)` is called after each
/// block of rows, so a caller can report and a worker can stay responsive.
pub fn group(
    embeddings: &[Vec<f32>],
    cfg: &GroupConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Grouping> {
    cfg.validate()?;
    let n = embeddings.len();
    // Each ticket's neighbourhood: itself and its most similar others at or above the threshold,
    // at most `max_group` members (the shared blocked search: memory O(n · max_group), not n²).
    let found = super::neighbours::within(
        embeddings,
        Search {
            k: cfg.max_group - 1,
            min_score: cfg.threshold,
            block_rows: cfg.block_rows,
        },
        progress,
    )?;
    let capped = found.truncated;
    let neighbours: Vec<Vec<(usize, f32)>> = found
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, others)| std::iter::once((i, 1.0)).chain(others).collect())
        .collect();

    let mut candidates: Vec<usize> = (0..n)
        .filter(|&i| neighbours[i].len() >= cfg.min_group)
        .collect();
    candidates.sort_by(|&a, &b| {
        neighbours[b]
            .len()
            .cmp(&neighbours[a].len())
            .then(a.cmp(&b))
    });
    let mut taken = vec![false; n];
    let mut groups = Vec::new();
    for c in candidates {
        let free: Vec<usize> = neighbours[c]
            .iter()
            .map(|&(j, _)| j)
            .filter(|&j| !taken[j])
            .collect();
        if free.len() < cfg.min_group {
            continue;
        }
        for &j in &free {
            taken[j] = true;
        }
        let mut members = free;
        members.sort_unstable();
        groups.push(members);
    }
    // Larger groups first (a later candidate can end up smaller than its rank), then by first
    // member, so ids are stable.
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));

    let row = |i: usize| &embeddings[i];
    let cos = |a: usize, b: usize| crate::encoder::cosine(row(a), row(b));
    let mut assignment = vec![usize::MAX; n];
    let mut out = Vec::with_capacity(groups.len());
    for (g, members) in groups.into_iter().enumerate() {
        for &m in &members {
            assignment[m] = g;
        }
        let central = *members
            .iter()
            .max_by(|&&a, &&b| {
                let mean = |x: usize| members.iter().map(|&y| cos(x, y)).sum::<f32>();
                // Ties to the earlier ticket.
                mean(a).total_cmp(&mean(b)).then(b.cmp(&a))
            })
            .expect("a group has members");
        let similarity_to_central = members.iter().map(|&m| cos(central, m)).collect();
        out.push(Group {
            members,
            central,
            similarity_to_central,
        });
    }
    for (next, a) in (out.len()..).zip(assignment.iter_mut().filter(|a| **a == usize::MAX)) {
        *a = next;
    }
    Ok(Grouping {
        groups: out,
        assignment,
        capped,
    })
}

/// Known clusters: connected components of the duplicate links of `set`, one id per ticket
/// (numbered by first member); unlinked tickets are clusters of one.
pub fn known_clusters(set: &RetrievalSet) -> Vec<usize> {
    let n = set.texts.len();
    let mut uf = UnionFind::new(n);
    for q in set.queries(LinkKind::Duplicate) {
        for &r in &q.relevant {
            uf.union(q.item, r);
        }
    }
    let mut ids: HashMap<usize, usize> = HashMap::new();
    (0..n)
        .map(|i| {
            let root = uf.find(i);
            let next = ids.len();
            *ids.entry(root).or_insert(next)
        })
        .collect()
}

/// How a grouping agrees with known clusters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupScores {
    /// Pairs grouped together that are linked together / pairs grouped together.
    pub pairwise_precision: f64,
    /// Pairs grouped together that are linked together / pairs linked together.
    pub pairwise_recall: f64,
    /// Harmonic mean of the two.
    pub pairwise_f1: f64,
    /// Adjusted Rand index (1 = identical partitions, about 0 = chance).
    pub adjusted_rand_index: f64,
    /// Pairs grouped together.
    pub predicted_pairs: u64,
    /// Pairs linked together (in one known cluster).
    pub true_pairs: u64,
}

fn pairs(k: u64) -> u64 {
    k * k.saturating_sub(1) / 2
}

/// Score `predicted` (a group id per ticket) against `truth` (a cluster id per ticket). Precision
/// is 0 when nothing is grouped, recall 0 when nothing is linked; ARI is 1 for identical partitions
/// and, when both are all singletons or one block, 1 as sklearn defines it.
pub fn score_groups(predicted: &[usize], truth: &[usize]) -> Result<GroupScores> {
    if predicted.len() != truth.len() {
        return Err(Error::Invalid(format!(
            "{} group ids for {} tickets",
            predicted.len(),
            truth.len()
        )));
    }
    let n = predicted.len() as u64;
    let mut cells: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut a: BTreeMap<usize, u64> = BTreeMap::new();
    let mut b: BTreeMap<usize, u64> = BTreeMap::new();
    for (&p, &t) in predicted.iter().zip(truth) {
        *cells.entry((p, t)).or_default() += 1;
        *a.entry(p).or_default() += 1;
        *b.entry(t).or_default() += 1;
    }
    let tp: u64 = cells.values().map(|&c| pairs(c)).sum();
    let pred: u64 = a.values().map(|&c| pairs(c)).sum();
    let true_: u64 = b.values().map(|&c| pairs(c)).sum();
    let ratio = |x: u64, y: u64| if y == 0 { 0.0 } else { x as f64 / y as f64 };
    let (p, r) = (ratio(tp, pred), ratio(tp, true_));
    let f1 = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    let total = pairs(n) as f64;
    let expected = if total == 0.0 {
        0.0
    } else {
        pred as f64 * true_ as f64 / total
    };
    let max = 0.5 * (pred as f64 + true_ as f64);
    let ari = if (max - expected).abs() < 1e-12 {
        1.0
    } else {
        (tp as f64 - expected) / (max - expected)
    };
    Ok(GroupScores {
        pairwise_precision: p,
        pairwise_recall: r,
        pairwise_f1: f1,
        adjusted_rand_index: ari,
        predicted_pairs: pred,
        true_pairs: true_,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::retrieval::retrieval_set;

    #[test]
    fn ari_and_pairwise_match_hand_computed_values() {
        // sklearn: adjusted_rand_score([0,0,1,1], [0,0,1,2]) = 0.5714285714285715
        let s = score_groups(&[0, 0, 1, 2], &[0, 0, 1, 1]).unwrap();
        assert!((s.adjusted_rand_index - 0.571_428_571_428_571_5).abs() < 1e-12);
        // Predicted pairs {01}; true pairs {01, 23}: P 1, R 0.5.
        assert_eq!((s.predicted_pairs, s.true_pairs), (1, 2));
        assert_eq!((s.pairwise_precision, s.pairwise_recall), (1.0, 0.5));
        assert!((s.pairwise_f1 - 2.0 / 3.0).abs() < 1e-12);
        // Identical partitions (ids differ): 1. sklearn: adjusted_rand_score([0,0,1,1,2],[5,5,3,3,4]).
        let s = score_groups(&[0, 0, 1, 1, 2], &[5, 5, 3, 3, 4]).unwrap();
        assert_eq!(s.adjusted_rand_index, 1.0);
        // sklearn: adjusted_rand_score([0,0,0,1,1,1], [0,0,1,1,2,2]) = 0.24242424242424246
        let s = score_groups(&[0, 0, 1, 1, 2, 2], &[0, 0, 0, 1, 1, 1]).unwrap();
        assert!((s.adjusted_rand_index - 0.242_424_242_424_242_46).abs() < 1e-12);
        assert!(score_groups(&[0], &[0, 1]).is_err());
    }

    fn unit(angle_deg: f32) -> Vec<f32> {
        let a = angle_deg.to_radians();
        vec![a.cos(), a.sin()]
    }

    #[test]
    fn communities_do_not_chain_and_pick_the_central_ticket() {
        // A chain 0°, 20°, 40°, 60°, 80° (neighbours at cos 20° ≈ 0.94 ≥ 0.9, two steps apart
        // cos 40° ≈ 0.77 < 0.9): connected components would make one group of five; communities
        // give {0,1,2}-style groups around a centre. Plus a far pair at 180°, 185° and a lone 270°.
        let emb: Vec<Vec<f32>> = [0.0, 20.0, 40.0, 60.0, 80.0, 180.0, 185.0, 270.0]
            .iter()
            .map(|&a| unit(a))
            .collect();
        let cfg = GroupConfig {
            threshold: 0.9,
            block_rows: 3,
            ..GroupConfig::default()
        };
        let mut calls = Vec::new();
        let g = group(&emb, &cfg, &mut |d, t| calls.push((d, t))).unwrap();
        // After each round of blocks (one block per thread): rising, ending at all 8.
        assert_eq!(calls.last(), Some(&(8, 8)));
        assert!(calls.windows(2).all(|w| w[0].0 < w[1].0) && calls[0].0 % 3 == 0);
        // Candidates of size 3 (centres 1, 2, 3, first wins: 1 → {0,1,2}), then 3's free
        // neighbours {3, 4}, then the pair {5, 6}.
        let members: Vec<&[usize]> = g.groups.iter().map(|g| g.members.as_slice()).collect();
        assert_eq!(members, vec![&[0, 1, 2][..], &[3, 4], &[5, 6]]);
        assert_eq!(g.groups[0].central, 1);
        assert_eq!(g.groups[1].central, 3, "a tie goes to the earlier ticket");
        assert_eq!(g.assignment, vec![0, 0, 0, 1, 1, 2, 2, 3]);
        assert_eq!(g.grouped(), 7);
        assert!((g.groups[0].similarity_to_central[0] - 20f32.to_radians().cos()).abs() < 1e-6);
        assert!(group(
            &emb,
            &GroupConfig {
                threshold: 1.5,
                ..cfg.clone()
            },
            &mut |_, _| ()
        )
        .is_err());
    }

    #[test]
    fn hand_built_incidents_with_known_groups() {
        let inc = |id: &str, dup: &[&str]| {
            crate::data::incidents::test_incident(id, &format!("ticket {id}"), dup, &[], None)
        };
        // Known: {a, b, c} (b→a, c→b), {d, e}, {f}.
        let set = retrieval_set(
            &[
                inc("a", &[]),
                inc("b", &["a"]),
                inc("c", &["b"]),
                inc("d", &[]),
                inc("e", &["d"]),
                inc("f", &[]),
            ],
            &[],
        )
        .unwrap();
        let truth = known_clusters(&set);
        assert_eq!(truth, vec![0, 0, 0, 1, 1, 2]);
        // Embeddings that put a, b, c together and d, e together: perfect scores.
        let emb: Vec<Vec<f32>> = [0.0, 3.0, 6.0, 90.0, 93.0, 200.0]
            .iter()
            .map(|&a| unit(a))
            .collect();
        let g = group(&emb, &GroupConfig::default(), &mut |_, _| ()).unwrap();
        let s = score_groups(&g.assignment, &truth).unwrap();
        assert_eq!((s.pairwise_precision, s.pairwise_recall), (1.0, 1.0));
        assert_eq!(s.adjusted_rand_index, 1.0);
        // Too strict a threshold groups nothing: recall 0, ARI 0.
        let g = group(
            &emb,
            &GroupConfig {
                threshold: 0.9999,
                ..GroupConfig::default()
            },
            &mut |_, _| (),
        )
        .unwrap();
        assert!(g.groups.is_empty());
        let s = score_groups(&g.assignment, &truth).unwrap();
        assert_eq!((s.pairwise_recall, s.adjusted_rand_index), (0.0, 0.0));
    }
}
