//! The relationship classifier: duplicate / causal / related / none from a pair of ticket
//! embeddings.

pub mod cv;
pub mod features;
pub mod head;
pub mod logistic;
