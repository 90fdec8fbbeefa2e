//! Hot numeric loops: Gram accumulation, Cholesky and conjugate-gradient row solves.
