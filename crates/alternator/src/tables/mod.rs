//! Parquet tables, the files Spark, pandas and every data platform exchange: reading them
//! (the interactions reader in [`crate::data`] and Spark model directories in
//! [`crate::spark`] build on `read`) and writing them in the schemas Spark uses
//! (`write`): recommendation lists as `recommendForAllUsers` gives them, factor tables,
//! predictions beside the input's own columns.
//!
//! Files are written through [`crate::files`] (atomically), Snappy-compressed as Spark writes
//! them.

pub(crate) mod read;
mod write;

pub use write::{
    ListWriter, RowFate, all_int32, filter_rows, write_bias_table, write_factor_table,
    write_predictions, write_rows_with_prediction,
};
