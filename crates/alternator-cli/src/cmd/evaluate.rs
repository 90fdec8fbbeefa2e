//! `alternator evaluate` (being built).

/// Flags of `alternator evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`evaluate` is not built yet")
}
