//! Synthetic handwriting (being written).
