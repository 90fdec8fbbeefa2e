//! `alternator split` (being built).

/// Flags of `alternator split`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`split` is not built yet")
}
