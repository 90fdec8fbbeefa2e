//! `alternator tune` (being built).

/// Flags of `alternator tune`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`tune` is not built yet")
}
