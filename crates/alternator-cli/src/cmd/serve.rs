//! `alternator serve` (being built).

/// Flags of `alternator serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`serve` is not built yet")
}
