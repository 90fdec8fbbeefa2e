//! `alternator similar` (being built).

/// Flags of `alternator similar`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`similar` is not built yet")
}
