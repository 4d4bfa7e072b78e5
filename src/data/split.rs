//! Splits (in progress).
