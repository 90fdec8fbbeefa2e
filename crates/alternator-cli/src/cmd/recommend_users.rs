//! `alternator recommend-users` (being built).

/// Flags of `alternator recommend-users`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`recommend-users` is not built yet")
}
