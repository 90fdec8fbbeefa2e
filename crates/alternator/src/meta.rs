//! Item metadata: titles and genres joined into outputs, and fuzzy title search.
