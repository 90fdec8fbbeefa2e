//! `alternator import`: converts a Spark `ALSModel` directory (`model.save(path)` in
//! PySpark) into an Alternator model file. Every verb reads the directory directly too
//! (`--model DIR`); a model file loads faster and, with `--train`, remembers the training
//! interactions, so that recommendations leave out what each user has already seen.

use std::path::PathBuf;

use alternator::Model;

use crate::common::InputArgs;
use crate::paths;

/// Flags of `alternator import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Spark ALSModel directory (metadata/, userFactors/, itemFactors/)
    #[arg(long, value_name = "DIR")]
    pub spark: PathBuf,
    /// The model file to write
    #[arg(long)]
    pub model: PathBuf,
    /// The training interactions, kept in the model to filter seen items (Spark's model
    /// has none)
    #[arg(long, value_name = "FILE")]
    pub train: Option<PathBuf>,
    /// Wait until the model is on disk (fsync the file and its directory)
    #[arg(long)]
    pub fsync: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    paths::refuse_stdout("--model", &a.model, "import writes a model file")?;
    paths::refuse_overwrite(
        &[("--spark", Some(&a.spark)), ("--train", a.train.as_deref())],
        &[("--model", Some(&a.model))],
    )?;
    let mut model = Model::load_spark(&a.spark)?;
    if let Some(train) = &a.train {
        let data = a.input.read_with(train, |r| _ = r.ignore_times(true))?;
        let (m, unknown) = model.with_training(&data)?;
        if unknown > 0 {
            eprintln!(
                "{}: {unknown} interaction(s) with a user or item the model does not know were \
                 left out",
                train.display()
            );
        }
        model = m;
    }
    model.save_with(&a.model, paths::save_options(a.fsync))?;
    eprintln!(
        "imported {}: {} users, {} items, rank {}{} -> {}",
        a.spark.display(),
        model.users().len(),
        model.items().len(),
        model.rank(),
        if a.train.is_some() { ", with its training interactions" } else { "" },
        a.model.display()
    );
    Ok(())
}
