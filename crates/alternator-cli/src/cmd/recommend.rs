//! `alternator recommend` (being built).

/// Flags of `alternator recommend`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`recommend` is not built yet")
}
