//! Train/test splits: random, leave-k-out, by time.
