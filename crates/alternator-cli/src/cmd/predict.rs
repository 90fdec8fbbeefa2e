//! `alternator predict` (being built).

/// Flags of `alternator predict`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`predict` is not built yet")
}
