//! `alternator demo` (being built).

/// Flags of `alternator demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the verb.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`demo` is not built yet")
}
