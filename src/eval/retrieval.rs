//! Retrieval evaluation: "this ticket — which other tickets are the same problem?", measured the way
//! the duplicate-bug-report literature does, over a whole corpus rather than on pairs.
//!
//! Every incident with text is in the corpus. Every incident that has at least one link of a kind
//! (duplicate, or separately causal) is a query; all other incidents are ranked for it and its
//! linked incidents are the relevant ones. Links are undirected: "A duplicates B" makes B relevant
//! for A and A for B, and "A was caused by B" makes each relevant for the other (a user looking at
//! an effect wants the cause, and at a cause the incidents it made).
//!
//! **Ranking.** Higher score first; ties are broken by corpus position (the earlier incident in the
//! file ranks first), so a ranking, and every figure here, is a pure function of the scores. The
//! query itself is never ranked. A rank is computed by counting, not sorting: the rank of a
//! relevant item is one plus the number of items that come before it, so a query costs
//! O(corpus × relevant).
//!
//! **Figures** (means over the queries):
//! - recall@k: the share of a query's relevant items found in its top k;
//! - hit rate@k: the share of queries with at least one relevant item in the top k (the
//!   duplicate-report literature's "recall rate"); equal to recall@k when each query has one;
//! - MRR: the mean of 1 / the rank of the first relevant item;
//! - MAP: the mean of average precision, `(1/R) Σᵢ i / rankᵢ` over the query's R relevant items in
//!   rank order.
//!
//! **Methods.** The cosine of sentence embeddings (base and fine-tuned models), BM25 through the
//! `bm25` crate (English tokenizer: Unicode normalisation, stop words, Snowball stemming; k1 1.2,
//! b 0.75, fitted on the corpus) and a hybrid: `w · cosine' + (1 − w) · bm25'`, each score min–max
//! normalised over the query's candidates. The hybrid's weight is chosen on the 0.1 grid by
//! cross-fitting: the queries are split in two seeded halves and each half is scored with the
//! weight that gives the best MRR on the other half, so no query is scored with a weight chosen on
//! itself.
//!
//! **Honest splits.** A model fine-tuned on pairs made from the same incidents has seen some of
//! the links. [`held_out`] keeps only the queries whose text and whose relevant incidents' texts
//! appear in no training pair (texts compared as lowercase word sequences, so "Title. Body" and
//! "Title\nBody" are the same ticket). `ticketsim pairs` splits by cluster, so every link of an
//! eval-side incident is on the eval side and its queries survive whole.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::data::incidents::Incident;
use crate::data::links::Link;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// The cut-offs the summary table shows.
pub const CUTOFFS: [usize; 3] = [1, 5, 10];

/// The hybrid's weight grid: 0.0, 0.1, …, 1.0 (weight of the cosine).
pub const HYBRID_STEPS: usize = 10;

/// Which links make a query's relevant set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// `duplicate_of` (and the links of a link file).
    Duplicate,
    /// `caused_by`.
    Causal,
}

impl LinkKind {
    /// Both kinds, in report order.
    pub const ALL: [LinkKind; 2] = [LinkKind::Duplicate, LinkKind::Causal];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::Duplicate => "duplicate",
            LinkKind::Causal => "causal",
        }
    }
}

/// One query: an incident and the incidents relevant to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// The query's corpus position.
    pub item: usize,
    /// Relevant corpus positions, ascending, never `item`.
    pub relevant: Vec<usize>,
}

/// The corpus and its queries of each kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RetrievalSet {
    /// Incident ids, in corpus order.
    pub ids: Vec<String>,
    /// Incident texts ([`Incident::text`]), in corpus order.
    pub texts: Vec<String>,
    /// Titles (short descriptions, or the text's first line), for listings.
    pub titles: Vec<String>,
    /// Categories (for colouring the map).
    pub categories: Vec<Option<String>>,
    /// Queries by kind (kinds without links are absent).
    pub queries: BTreeMap<LinkKind, Vec<Query>>,
    /// Links that could not be used and why (unknown ids, self-links).
    pub notes: Vec<String>,
}

impl RetrievalSet {
    /// The queries of `kind` (empty when the file has no such links).
    pub fn queries(&self, kind: LinkKind) -> &[Query] {
        self.queries.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether any query exists: without links there is nothing to retrieve.
    pub fn has_queries(&self) -> bool {
        self.queries.values().any(|q| !q.is_empty())
    }
}

/// What a user is told when an incident file has no links to evaluate retrieval with.
pub const NO_LINKS_HELP: &str = "retrieval is measured on known links: an incident's \
    duplicate_of (or caused_by) names other incidents of the file, or a link file (id_a, id_b) \
    names pairs of them. These incidents have none, so there is no ticket whose right answers are \
    known.";

/// Build the corpus (every incident, in file order) and the queries from the incidents' own
/// `duplicate_of` / `caused_by` links plus `extra_duplicates` (a link file's pairs, read as
/// duplicates). Errors when no incident has text; links to ids that are not in the file are
/// counted in the notes. Incidents come from the loader, so ids are unique and texts non-empty.
pub fn retrieval_set(incidents: &[Incident], extra_duplicates: &[Link]) -> Result<RetrievalSet> {
    let mut set = RetrievalSet::default();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for inc in incidents {
        let text = inc.text();
        if text.trim().is_empty() || by_id.contains_key(inc.id.trim()) {
            continue;
        }
        by_id.insert(inc.id.trim(), set.ids.len());
        set.ids.push(inc.id.trim().to_string());
        set.titles.push(
            Some(inc.short_description.trim())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| text.lines().next().unwrap_or(""))
                .to_string(),
        );
        set.texts.push(text);
        set.categories.push(
            inc.category
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
        );
    }
    if set.ids.is_empty() {
        return Err(Error::Invalid(format!(
            "no incident has any text ({} incidents)",
            incidents.len()
        )));
    }
    let mut edges: BTreeMap<LinkKind, Vec<(usize, usize)>> = BTreeMap::new();
    let (mut unknown, mut self_links) = (0usize, 0usize);
    let mut add =
        |kind: LinkKind, a: &str, b: &str| match (by_id.get(a.trim()), by_id.get(b.trim())) {
            (Some(&a), Some(&b)) if a == b => self_links += 1,
            (Some(&a), Some(&b)) => edges.entry(kind).or_default().push((a, b)),
            _ => unknown += 1,
        };
    for inc in incidents {
        for id in &inc.duplicate_of {
            add(LinkKind::Duplicate, &inc.id, id);
        }
        for id in &inc.caused_by {
            add(LinkKind::Causal, &inc.id, id);
        }
    }
    for l in extra_duplicates {
        add(LinkKind::Duplicate, &l.a, &l.b);
    }
    if unknown + self_links > 0 {
        set.notes.push(format!(
            "{} link{} not used: {unknown} name an incident that is not in the file (or has no \
             text), {self_links} link an incident to itself",
            unknown + self_links,
            if unknown + self_links == 1 { "" } else { "s" }
        ));
    }
    for (kind, pairs) in edges {
        let mut relevant: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (a, b) in pairs {
            relevant.entry(a).or_default().push(b);
            relevant.entry(b).or_default().push(a);
        }
        let queries = relevant
            .into_iter()
            .map(|(item, mut r)| {
                r.sort_unstable();
                r.dedup();
                Query { item, relevant: r }
            })
            .collect();
        set.queries.insert(kind, queries);
    }
    Ok(set)
}

/// A text as a lowercase sequence of alphanumeric words: how [`held_out`] recognises the same
/// ticket written with different punctuation or line breaks.
pub fn text_key(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The queries whose links were held out of training: neither the query's text nor any relevant
/// incident's text is among `trained` (texts of the training pairs, both sides). Returns the kept
/// queries and how many were dropped.
pub fn held_out<'t>(
    set: &RetrievalSet,
    queries: &[Query],
    trained: impl IntoIterator<Item = &'t str>,
) -> (Vec<Query>, usize) {
    let trained: HashSet<String> = trained.into_iter().map(text_key).collect();
    let seen: Vec<bool> = set
        .texts
        .iter()
        .map(|t| trained.contains(&text_key(t)))
        .collect();
    let kept: Vec<Query> = queries
        .iter()
        .filter(|q| !seen[q.item] && q.relevant.iter().all(|&r| !seen[r]))
        .cloned()
        .collect();
    let dropped = queries.len() - kept.len();
    (kept, dropped)
}

/// How one query fared.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryOutcome {
    /// The 1-based rank of each relevant item, ascending.
    pub ranks: Vec<usize>,
}

impl QueryOutcome {
    /// Rank every relevant item of `relevant` under `scores` (one score per corpus item; `exclude`,
    /// the query itself, is not ranked). Higher first, ties to the lower position; NaN ranks last.
    pub fn new(scores: &[f32], exclude: usize, relevant: &[usize]) -> Self {
        let key = |i: usize| {
            let s = scores[i];
            if s.is_nan() {
                f32::NEG_INFINITY
            } else {
                s
            }
        };
        let mut ranks: Vec<usize> = relevant
            .iter()
            .map(|&r| {
                let sr = key(r);
                1 + (0..scores.len())
                    .filter(|&i| i != exclude && i != r)
                    .filter(|&i| {
                        let si = key(i);
                        si > sr || (si == sr && i < r)
                    })
                    .count()
            })
            .collect();
        ranks.sort_unstable();
        QueryOutcome { ranks }
    }

    /// 1 / the rank of the first relevant item.
    pub fn reciprocal_rank(&self) -> f64 {
        self.ranks.first().map_or(0.0, |&r| 1.0 / r as f64)
    }

    /// Average precision over the whole ranking.
    pub fn average_precision(&self) -> f64 {
        if self.ranks.is_empty() {
            return 0.0;
        }
        let sum: f64 = self
            .ranks
            .iter()
            .enumerate()
            .map(|(i, &r)| (i + 1) as f64 / r as f64)
            .sum();
        sum / self.ranks.len() as f64
    }

    /// Share of the relevant items in the top `k`.
    pub fn recall_at(&self, k: usize) -> f64 {
        if self.ranks.is_empty() {
            return 0.0;
        }
        self.ranks.iter().filter(|&&r| r <= k).count() as f64 / self.ranks.len() as f64
    }

    /// Whether a relevant item is in the top `k`.
    pub fn hit_at(&self, k: usize) -> bool {
        self.ranks.first().is_some_and(|&r| r <= k)
    }
}

/// The figures of one method over a set of queries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetrievalMetrics {
    /// Queries averaged over.
    pub queries: usize,
    /// recall@k for k = 1..=`max_k` (index k − 1).
    pub recall_at: Vec<f64>,
    /// Hit rate@k for k = 1..=`max_k`.
    pub hit_rate_at: Vec<f64>,
    /// Mean reciprocal rank.
    pub mrr: f64,
    /// Mean average precision.
    pub map: f64,
}

impl RetrievalMetrics {
    /// Means over `outcomes`, with curves up to `max_k`. `None` without queries.
    pub fn from_outcomes(outcomes: &[&QueryOutcome], max_k: usize) -> Option<Self> {
        if outcomes.is_empty() {
            return None;
        }
        let n = outcomes.len() as f64;
        let mean =
            |f: &dyn Fn(&QueryOutcome) -> f64| outcomes.iter().map(|o| f(o)).sum::<f64>() / n;
        Some(RetrievalMetrics {
            queries: outcomes.len(),
            recall_at: (1..=max_k).map(|k| mean(&|o| o.recall_at(k))).collect(),
            hit_rate_at: (1..=max_k)
                .map(|k| mean(&|o| o.hit_at(k) as u8 as f64))
                .collect(),
            mrr: mean(&QueryOutcome::reciprocal_rank),
            map: mean(&QueryOutcome::average_precision),
        })
    }

    /// recall@k (`None` past the curve).
    pub fn recall(&self, k: usize) -> Option<f64> {
        k.checked_sub(1)
            .and_then(|i| self.recall_at.get(i).copied())
    }
}

/// A BM25 index over the corpus (the `bm25` crate's embedder and scorer).
pub struct Bm25Index {
    embedder: bm25::Embedder,
    scorer: bm25::Scorer<usize>,
    len: usize,
}

impl Bm25Index {
    /// Index `texts` (English tokenizer, k1 1.2, b 0.75, average length fitted on the corpus).
    pub fn new<S: AsRef<str>>(texts: &[S]) -> Self {
        let corpus: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        let embedder =
            bm25::EmbedderBuilder::with_fit_to_corpus(bm25::Language::English, &corpus).build();
        let mut scorer = bm25::Scorer::new();
        for (i, t) in corpus.iter().enumerate() {
            scorer.upsert(&i, embedder.embed(t));
        }
        Bm25Index {
            embedder,
            scorer,
            len: corpus.len(),
        }
    }

    /// The BM25 score of every corpus item for `query` (0 where no term matches).
    pub fn scores(&self, query: &str) -> Vec<f32> {
        let mut s = vec![0.0; self.len];
        for m in self.scorer.matches(&self.embedder.embed(query)) {
            s[m.id] = m.score;
        }
        s
    }
}

/// `e` scaled to unit length (a zero vector stays zero), so that the cosine of two such vectors is
/// their dot product.
pub fn unit_vector(e: &[f32]) -> Vec<f32> {
    let n = e.iter().map(|x| x * x).sum::<f32>().sqrt();
    e.iter()
        .map(|x| if n > 0.0 { x / n } else { 0.0 })
        .collect()
}

/// Cosine of row `query` with every row of `unit` (rows from [`unit_vector`], scaled once per
/// model rather than once per query).
pub fn cosine_scores(unit: &[Vec<f32>], query: usize) -> Vec<f32> {
    let q = &unit[query];
    unit.iter()
        .map(|e| e.iter().zip(q).map(|(a, b)| a * b).sum::<f32>())
        .collect()
}

/// Min–max normalisation over the candidates (every item but `exclude`); constant scores become 0.
fn min_max(scores: &[f32], exclude: usize) -> Vec<f32> {
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for (i, &s) in scores.iter().enumerate() {
        if i != exclude && s.is_finite() {
            lo = lo.min(s);
            hi = hi.max(s);
        }
    }
    let span = hi - lo;
    scores
        .iter()
        .map(|&s| if span > 0.0 { (s - lo) / span } else { 0.0 })
        .collect()
}

/// One row of the retrieval table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodRow {
    /// What ranked: `bm25`, `cosine: <model>` or `hybrid: <model>`.
    pub method: String,
    /// The figures.
    pub metrics: RetrievalMetrics,
    /// Hybrid only: the cosine weight each half of the queries was scored with (chosen on the
    /// other half).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hybrid_weights: Option<[f64; 2]>,
}

/// The retrieval table of one link kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetrievalTable {
    /// Which links.
    pub kind: LinkKind,
    /// Corpus size (incidents ranked, the query excluded).
    pub corpus: usize,
    /// Queries evaluated.
    pub queries: usize,
    /// One row per method: BM25, then each model's cosine and hybrid.
    pub rows: Vec<MethodRow>,
}

/// Evaluate BM25, each model's cosine and each model's hybrid with BM25 on `queries` (all methods
/// on the same queries). `models` are `(name, embeddings in corpus order)`. `seed` splits the
/// queries for the hybrid's cross-fitted weight. `None` when there are no queries.
pub fn evaluate(
    set: &RetrievalSet,
    kind: LinkKind,
    queries: &[Query],
    bm25: &Bm25Index,
    models: &[(&str, &[Vec<f32>])],
    max_k: usize,
    seed: u64,
) -> Option<RetrievalTable> {
    if queries.is_empty() {
        return None;
    }
    let max_k = max_k.max(1);
    // Per query: BM25's outcome, and per model the cosine's and the hybrid's at every weight.
    let mut bm25_out = Vec::with_capacity(queries.len());
    let mut cos_out: Vec<Vec<QueryOutcome>> = vec![Vec::new(); models.len()];
    let mut hyb_out: Vec<Vec<Vec<QueryOutcome>>> = vec![Vec::new(); models.len()];
    let units: Vec<Vec<Vec<f32>>> = models
        .iter()
        .map(|(_, emb)| emb.iter().map(|e| unit_vector(e)).collect())
        .collect();
    for q in queries {
        let b = bm25.scores(&set.texts[q.item]);
        bm25_out.push(QueryOutcome::new(&b, q.item, &q.relevant));
        let bn = min_max(&b, q.item);
        for (m, unit) in units.iter().enumerate() {
            let c = cosine_scores(unit, q.item);
            cos_out[m].push(QueryOutcome::new(&c, q.item, &q.relevant));
            let cn = min_max(&c, q.item);
            let per_weight = (0..=HYBRID_STEPS)
                .map(|s| {
                    let w = s as f32 / HYBRID_STEPS as f32;
                    let h: Vec<f32> = cn
                        .iter()
                        .zip(&bn)
                        .map(|(c, b)| w * c + (1.0 - w) * b)
                        .collect();
                    QueryOutcome::new(&h, q.item, &q.relevant)
                })
                .collect();
            hyb_out[m].push(per_weight);
        }
    }
    // Two seeded halves of the queries for the hybrid's weight.
    let mut order: Vec<usize> = (0..queries.len()).collect();
    Rng::new(seed).shuffle(&mut order);
    let mut half = vec![0usize; queries.len()];
    for &i in &order[order.len() / 2..] {
        half[i] = 1;
    }
    let metrics = |outs: Vec<&QueryOutcome>| {
        RetrievalMetrics::from_outcomes(&outs, max_k).expect("at least one query")
    };
    let mut rows = vec![MethodRow {
        method: "bm25".into(),
        metrics: metrics(bm25_out.iter().collect()),
        hybrid_weights: None,
    }];
    for (m, (name, _)) in models.iter().enumerate() {
        rows.push(MethodRow {
            method: format!("cosine: {name}"),
            metrics: metrics(cos_out[m].iter().collect()),
            hybrid_weights: None,
        });
    }
    for (m, (name, _)) in models.iter().enumerate() {
        let mrr_on = |h: usize, s: usize| -> f64 {
            let v: Vec<f64> = (0..queries.len())
                .filter(|&i| half[i] == h)
                .map(|i| hyb_out[m][i][s].reciprocal_rank())
                .collect();
            if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        // Each half's weight is the best on the other half; ties to the smaller weight (the one
        // nearer keyword search, the cheaper explanation).
        let pick = |other: usize| -> usize {
            (0..=HYBRID_STEPS).fold(0, |best, s| {
                if mrr_on(other, s) > mrr_on(other, best) {
                    s
                } else {
                    best
                }
            })
        };
        let steps = [pick(1), pick(0)];
        let outs: Vec<&QueryOutcome> = (0..queries.len())
            .map(|i| &hyb_out[m][i][steps[half[i]]])
            .collect();
        rows.push(MethodRow {
            method: format!("hybrid: {name}"),
            metrics: metrics(outs),
            hybrid_weights: Some(steps.map(|s| s as f64 / HYBRID_STEPS as f64)),
        });
    }
    Some(RetrievalTable {
        kind,
        corpus: set.texts.len(),
        queries: queries.len(),
        rows,
    })
}

/// Every table of an incident file: one per link kind that has queries left.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetrievalReport {
    /// Incidents ranked (the corpus).
    pub corpus: usize,
    /// One table per link kind with queries.
    pub tables: Vec<RetrievalTable>,
    /// Per kind, queries left out because their links were trained on (see [`held_out`]).
    pub dropped_as_trained: BTreeMap<LinkKind, usize>,
    /// What the reader should know: unusable links, kinds without queries.
    pub notes: Vec<String>,
}

/// Evaluate every link kind of `set`: BM25, and the cosine and hybrid of each of `models`
/// (`(name, embeddings of set.texts)`). With `trained` (the texts of the training pairs) only the
/// held-out queries count. The one entry point of the CLI's `retrieve`, `train --test-incidents`
/// and the web app.
pub fn retrieval_report(
    set: &RetrievalSet,
    trained: Option<&[&str]>,
    models: &[(&str, &[Vec<f32>])],
    max_k: usize,
    seed: u64,
) -> RetrievalReport {
    let bm25 = Bm25Index::new(&set.texts);
    let mut report = RetrievalReport {
        corpus: set.texts.len(),
        tables: Vec::new(),
        dropped_as_trained: BTreeMap::new(),
        notes: set.notes.clone(),
    };
    if !set.has_queries() {
        report.notes.push(NO_LINKS_HELP.to_string());
    }
    for kind in LinkKind::ALL {
        let all = set.queries(kind);
        if all.is_empty() {
            continue;
        }
        let queries = match trained {
            Some(t) => {
                let (kept, dropped) = held_out(set, all, t.iter().copied());
                report.dropped_as_trained.insert(kind, dropped);
                if kept.is_empty() {
                    report.notes.push(format!(
                        "all {} {} queries were trained on: no held-out {} link is left to \
                         measure (split the incidents with `ticketsim pairs` and train on its \
                         training_pairs.json)",
                        all.len(),
                        kind.name(),
                        kind.name()
                    ));
                }
                kept
            }
            None => all.to_vec(),
        };
        if let Some(t) = evaluate(set, kind, &queries, &bm25, models, max_k, seed) {
            report.tables.push(t);
        }
    }
    report
}

impl RetrievalTable {
    /// The table as Markdown: one row per method, recall@1/5/10, MRR and MAP to three places.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "{} links: {} queries, {} incidents ranked\n\n| method | recall@1 | recall@5 | \
             recall@10 | MRR | MAP |\n|---|---|---|---|---|---|\n",
            self.kind.name(),
            self.queries,
            self.corpus
        );
        for r in &self.rows {
            let cell = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
            let mut method = r.method.clone();
            if let Some([a, b]) = r.hybrid_weights {
                method.push_str(&format!(" (w {a:.1} / {b:.1})"));
            }
            s.push_str(&format!(
                "| {method} | {} | {} | {} | {:.3} | {:.3} |\n",
                cell(r.metrics.recall(1)),
                cell(r.metrics.recall(5)),
                cell(r.metrics.recall(10)),
                r.metrics.mrr,
                r.metrics.map
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(scores: &[f32], exclude: usize, relevant: &[usize]) -> QueryOutcome {
        QueryOutcome::new(scores, exclude, relevant)
    }

    #[test]
    fn metrics_match_hand_computed_rankings() {
        // Query 0; ranking of the others by score: 3 (0.9), 1 (0.8), 4 (0.5), 2 (0.1).
        let s = [1.0, 0.8, 0.1, 0.9, 0.5];
        // Relevant 1 and 2: ranks 2 and 4.
        let o = outcome(&s, 0, &[2, 1]);
        assert_eq!(o.ranks, vec![2, 4]);
        assert_eq!(o.reciprocal_rank(), 0.5);
        // AP = (1/2 + 2/4) / 2.
        assert!((o.average_precision() - 0.5).abs() < 1e-12);
        assert_eq!(o.recall_at(1), 0.0);
        assert_eq!(o.recall_at(2), 0.5);
        assert_eq!(o.recall_at(4), 1.0);
        assert!(!o.hit_at(1) && o.hit_at(2));
        // Relevant first: everything perfect.
        let o = outcome(&s, 0, &[3]);
        assert_eq!((o.reciprocal_rank(), o.average_precision()), (1.0, 1.0));
    }

    #[test]
    fn ties_go_to_the_earlier_item_and_nan_ranks_last() {
        // Items 1, 2, 3 tie: 1 ranks first, then 2, then 3.
        let s = [0.0, 0.5, 0.5, 0.5];
        assert_eq!(outcome(&s, 0, &[1]).ranks, vec![1]);
        assert_eq!(outcome(&s, 0, &[2]).ranks, vec![2]);
        assert_eq!(outcome(&s, 0, &[3]).ranks, vec![3]);
        // The query itself never takes a place, even with the top score.
        let s = [0.5, 0.9, 0.5];
        assert_eq!(outcome(&s, 1, &[2]).ranks, vec![2]);
        assert_eq!(outcome(&s, 2, &[0]).ranks, vec![2]);
        let s = [0.0, f32::NAN, -5.0];
        assert_eq!(outcome(&s, 0, &[1]).ranks, vec![2]);
    }

    #[test]
    fn means_over_queries() {
        let a = outcome(&[0.0, 1.0, 0.5], 0, &[1]); // rank 1
        let b = outcome(&[0.0, 1.0, 0.5], 0, &[2]); // rank 2
        let m = RetrievalMetrics::from_outcomes(&[&a, &b], 3).unwrap();
        assert_eq!(m.queries, 2);
        assert_eq!(m.recall_at, vec![0.5, 1.0, 1.0]);
        assert_eq!(m.hit_rate_at, vec![0.5, 1.0, 1.0]);
        assert!((m.mrr - 0.75).abs() < 1e-12);
        assert!((m.map - 0.75).abs() < 1e-12);
        assert_eq!(m.recall(1), Some(0.5));
        assert_eq!(m.recall(4), None);
        assert!(RetrievalMetrics::from_outcomes(&[], 3).is_none());
    }

    fn incident(id: &str, title: &str, dup: &[&str], cause: &[&str]) -> Incident {
        crate::data::incidents::test_incident(id, title, dup, cause, None)
    }

    #[test]
    fn queries_from_links_are_undirected_and_unknown_ids_are_noted() {
        let inc = vec![
            incident("A", "vpn down", &[], &[]),
            incident("B", "vpn not connecting", &["A"], &[]),
            incident("C", "vpn drops", &["A", "ZZZ"], &[]),
            incident("D", "switch failure", &[], &[]),
            incident("E", "network outage", &[], &["D"]),
        ];
        let extra = [Link {
            a: "D".into(),
            b: "D".into(),
        }];
        let set = retrieval_set(&inc, &extra).unwrap();
        assert_eq!(
            set.queries(LinkKind::Duplicate),
            &[
                Query {
                    item: 0,
                    relevant: vec![1, 2]
                },
                Query {
                    item: 1,
                    relevant: vec![0]
                },
                Query {
                    item: 2,
                    relevant: vec![0]
                },
            ]
        );
        assert_eq!(
            set.queries(LinkKind::Causal),
            &[
                Query {
                    item: 3,
                    relevant: vec![4]
                },
                Query {
                    item: 4,
                    relevant: vec![3]
                },
            ]
        );
        assert!(set.notes[0].contains("1 name an incident that is not in the file"));
        assert!(set.notes[0].contains("1 link an incident to itself"));
        let none = retrieval_set(&inc[3..4], &[]).unwrap();
        assert!(!none.has_queries());
    }

    #[test]
    fn held_out_drops_queries_whose_links_were_trained_on() {
        let inc = vec![
            incident("A", "vpn down", &[], &[]),
            incident("B", "VPN  down!", &["A"], &[]),
            incident("C", "printer jam", &[], &[]),
            incident("D", "printer jammed", &["C"], &[]),
        ];
        let set = retrieval_set(&inc, &[]).unwrap();
        let q = set.queries(LinkKind::Duplicate);
        // "vpn down" was trained on (punctuation and case do not matter): A's and B's queries go.
        let (kept, dropped) = held_out(&set, q, ["Vpn down.", "something else"]);
        assert_eq!(dropped, 2);
        assert_eq!(kept.iter().map(|q| q.item).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn bm25_ranks_the_keyword_match_first_and_hybrid_weights_are_cross_fitted() {
        let inc = vec![
            incident("1", "outlook crashes when opening calendar", &[], &[]),
            incident("2", "calendar in outlook crashes on open", &["1"], &[]),
            incident("3", "printer on floor 3 offline", &[], &[]),
            incident("4", "printer floor 3 not printing", &["3"], &[]),
            incident("5", "password reset needed", &[], &[]),
            incident("6", "cannot reset my password", &["5"], &[]),
        ];
        let set = retrieval_set(&inc, &[]).unwrap();
        let bm25 = Bm25Index::new(&set.texts);
        let s = bm25.scores(&set.texts[0]);
        assert_eq!(outcome(&s, 0, &[1]).ranks, vec![1]);
        assert_eq!(s[4], 0.0, "no shared term, no score");
        // A "model" whose embeddings put the duplicates far apart: the cosine ranks them last, and
        // the hybrid's weights are reported per half.
        let emb: Vec<Vec<f32>> = (0..6)
            .map(|i| {
                let a = i as f32;
                vec![a.cos(), a.sin()]
            })
            .collect();
        let q = set.queries(LinkKind::Duplicate);
        let t = evaluate(&set, LinkKind::Duplicate, q, &bm25, &[("m", &emb)], 10, 7).unwrap();
        assert_eq!(t.queries, 6);
        assert_eq!(
            t.rows.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(),
            vec!["bm25", "cosine: m", "hybrid: m"]
        );
        assert_eq!(t.rows[0].metrics.mrr, 1.0);
        assert_eq!(t.rows[0].metrics.recall_at.len(), 10);
        let w = t.rows[2].hybrid_weights.unwrap();
        assert!(w.iter().all(|w| (0.0..=1.0).contains(w)));
        // The hybrid can do no worse than BM25 here: weight 0 is BM25 itself and MRR 1 is reached
        // on both halves, so both pick it.
        assert_eq!(w, [0.0, 0.0]);
        assert_eq!(t.rows[2].metrics.mrr, 1.0);
    }
}
