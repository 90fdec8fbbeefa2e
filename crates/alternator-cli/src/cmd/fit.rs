//! `alternator fit` (being built).

/// Flags of `alternator fit`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`fit` is not built yet")
}
