//! The whole-backlog analysis the web app's Evaluate step shows for an incident file: retrieval
//! ([`super::retrieval`]), duplicate groups ([`super::groups`]) and the map ([`super::map`]) of
//! each model, from embeddings already computed — one function, so the worker and any other
//! caller put the pieces together the same way as `ticketsim retrieve` and `ticketsim group`.

use serde::{Deserialize, Serialize};

use super::groups::{group, known_clusters, score_groups, GroupConfig, GroupScores, Grouping};
use super::map::{map_classes, project_2d, TicketMap};
use super::retrieval::{retrieval_report, LinkKind, RetrievalReport, RetrievalSet};
use crate::error::Result;

/// One model's groups and map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelBacklog {
    /// "base" or "fine-tuned".
    pub name: String,
    /// The threshold the groups used.
    pub threshold: f32,
    /// The groups.
    pub grouping: Grouping,
    /// Against the known duplicate clusters, when there are links.
    pub scores: Option<GroupScores>,
    /// The tickets in 2-D.
    pub map: TicketMap,
}

/// Everything the Evaluate step shows for an incident file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacklogAnalysis {
    /// Incident ids, in corpus order.
    pub ids: Vec<String>,
    /// Titles, in corpus order (shown as text, never as HTML).
    pub titles: Vec<String>,
    /// The map's colour class of each ticket and the class names (categories, else known
    /// clusters, else the first model's groups).
    pub classes: Vec<usize>,
    /// See `classes`.
    pub class_names: Vec<String>,
    /// What the colours are ("category", …).
    pub coloured_by: String,
    /// Retrieval: BM25 and each model (with no links, no tables and a note saying what is needed).
    pub retrieval: RetrievalReport,
    /// Groups and map per model, in the order given.
    pub models: Vec<ModelBacklog>,
}

/// What the map colours each ticket by: its category when the file has categories, else its known
/// duplicate cluster (`truth`), else its group (`groups`); tickets alone in their cluster or group
/// get no label (grey). Returns the labels and what they are.
pub fn colour_labels(
    set: &RetrievalSet,
    truth: Option<&[usize]>,
    groups: Option<&[usize]>,
) -> (Vec<Option<String>>, &'static str) {
    if set.categories.iter().any(Option::is_some) {
        return (set.categories.clone(), "category");
    }
    let (ids, what) = match (truth, groups) {
        (Some(t), _) => (t, "known duplicate cluster"),
        (None, Some(g)) => (g, "duplicate group"),
        (None, None) => return (vec![None; set.texts.len()], "nothing"),
    };
    let mut size = std::collections::HashMap::new();
    for &c in ids {
        *size.entry(c).or_insert(0usize) += 1;
    }
    (
        ids.iter()
            .map(|c| (size[c] > 1).then(|| format!("group {}", c + 1)))
            .collect(),
        what,
    )
}

/// Analyse `set` with each `(name, embeddings of set.texts)`: retrieval on the queries not in
/// `trained` (when given), groups at `threshold`, maps. `progress(done, total)` counts grouping
/// rows over all models.
pub fn analyse(
    set: &RetrievalSet,
    trained: Option<&[&str]>,
    models: &[(&str, &[Vec<f32>])],
    threshold: f32,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<BacklogAnalysis> {
    let cfg = GroupConfig {
        threshold,
        ..GroupConfig::default()
    };
    cfg.validate()?;
    let retrieval = retrieval_report(set, trained, models, 10, seed);
    let truth = (!set.queries(LinkKind::Duplicate).is_empty()).then(|| known_clusters(set));
    let n = set.texts.len();
    let total = n * models.len();
    let mut out = Vec::with_capacity(models.len());
    for (m, (name, emb)) in models.iter().enumerate() {
        let grouping = group(emb, &cfg, &mut |done, _| progress(m * n + done, total))?;
        let scores = truth
            .as_ref()
            .map(|t| score_groups(&grouping.assignment, t))
            .transpose()?;
        out.push(ModelBacklog {
            name: name.to_string(),
            threshold,
            grouping,
            scores,
            map: project_2d(emb)?,
        });
    }
    let (labels, coloured_by) = colour_labels(
        set,
        truth.as_deref(),
        out.first().map(|m| m.grouping.assignment.as_slice()),
    );
    let (classes, class_names) = map_classes(&labels, super::charts::MAP_CLASSES);
    Ok(BacklogAnalysis {
        ids: set.ids.clone(),
        titles: set.titles.clone(),
        classes,
        class_names,
        coloured_by: coloured_by.into(),
        retrieval,
        models: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::retrieval::retrieval_set;

    #[test]
    fn puts_retrieval_groups_and_maps_together() {
        let inc = |id: &str, title: &str, dup: &[&str], cat: &str| {
            crate::data::incidents::test_incident(id, title, dup, &[], Some(cat))
        };
        let set = retrieval_set(
            &[
                inc("1", "vpn down", &[], "network"),
                inc("2", "vpn is down", &["1"], "network"),
                inc("3", "printer jam", &[], "printing"),
                inc("4", "<b>printer</b> jammed", &["3"], "printing"),
            ],
            &[],
        )
        .unwrap();
        let emb: Vec<Vec<f32>> = vec![
            vec![1.0, 0.0, 0.1],
            vec![0.99, 0.05, 0.1],
            vec![0.0, 1.0, 0.0],
            vec![0.05, 0.98, 0.0],
        ];
        let mut calls = 0;
        let a = analyse(&set, None, &[("base", &emb)], 0.9, 1, &mut |_, _| {
            calls += 1
        })
        .unwrap();
        assert!(calls >= 1);
        assert_eq!(a.retrieval.tables[0].queries, 4);
        assert_eq!(a.models[0].grouping.groups.len(), 2);
        assert_eq!(
            a.models[0].scores.as_ref().unwrap().adjusted_rand_index,
            1.0
        );
        assert_eq!(a.models[0].map.points.len(), 4);
        assert_eq!(a.coloured_by, "category");
        assert_eq!(a.class_names, vec!["network", "printing"]);
        assert_eq!(
            a.titles[3], "<b>printer</b> jammed",
            "titles stay as written"
        );
        assert!(analyse(&set, None, &[("base", &emb)], 2.0, 1, &mut |_, _| ()).is_err());
    }

    #[test]
    fn a_file_without_links_gets_groups_a_map_and_the_explanation() {
        let inc = |id: &str, title: &str| {
            crate::data::incidents::test_incident(id, title, &[], &[], None)
        };
        let set = retrieval_set(
            &[
                inc("1", "vpn down"),
                inc("2", "vpn is down"),
                inc("3", "printer jam"),
            ],
            &[],
        )
        .unwrap();
        let emb: Vec<Vec<f32>> = vec![vec![1.0, 0.0], vec![0.99, 0.1], vec![0.0, 1.0]];
        let a = analyse(&set, None, &[("base", &emb)], 0.9, 1, &mut |_, _| ()).unwrap();
        assert!(a.retrieval.tables.is_empty());
        assert!(a
            .retrieval
            .notes
            .iter()
            .any(|n| n == super::super::retrieval::NO_LINKS_HELP));
        assert_eq!(a.models[0].grouping.groups.len(), 1);
        assert!(a.models[0].scores.is_none(), "nothing to score against");
        assert_eq!(a.coloured_by, "duplicate group");
        assert_eq!(a.class_names, vec!["group 1", "other"]);
    }
}
