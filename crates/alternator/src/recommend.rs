//! Recommendation: top-N per user, batch scoring, similar items/users, fold-in.
