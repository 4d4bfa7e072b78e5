//! Relationship pairs: two tickets and how they relate — duplicate, causal, related or none.

use serde::{Deserialize, Serialize};

/// How two tickets relate. `Causal` is directed: in a [`RelationshipPair`], `a` caused `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// The same problem reported twice.
    Duplicate,
    /// `a` caused `b`.
    Causal,
    /// Connected (same service, same change, same root area) but not the same problem.
    Related,
    /// Unrelated.
    None,
}

impl Relation {
    /// Every class, in the fixed order reports and classifiers use (class index = position).
    pub const ALL: [Relation; 4] = [
        Relation::Duplicate,
        Relation::Causal,
        Relation::Related,
        Relation::None,
    ];

    /// The lowercase name written to files: duplicate, causal, related, none.
    pub fn name(self) -> &'static str {
        match self {
            Relation::Duplicate => "duplicate",
            Relation::Causal => "causal",
            Relation::Related => "related",
            Relation::None => "none",
        }
    }

    /// Position in [`Relation::ALL`].
    pub fn index(self) -> usize {
        Relation::ALL
            .iter()
            .position(|&r| r == self)
            .expect("in ALL")
    }
}

/// Two ticket texts and their relationship.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelationshipPair {
    /// First ticket's text (the cause, for [`Relation::Causal`]).
    pub a: String,
    /// Second ticket's text (the effect, for [`Relation::Causal`]).
    pub b: String,
    /// The label.
    pub relation: Relation,
    /// Id of the first ticket, when the file has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_a: Option<String>,
    /// Id of the second ticket, when the file has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_b: Option<String>,
}
