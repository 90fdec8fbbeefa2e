//! Alternating least squares training: explicit (Spark ALS-WR) and implicit (Hu, Koren & Volinsky).
