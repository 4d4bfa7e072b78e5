//! Pair generation from incidents (in progress).
