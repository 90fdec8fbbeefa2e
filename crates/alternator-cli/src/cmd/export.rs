//! `alternator export` (being built).

/// Flags of `alternator export`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`export` is not built yet")
}
