//! `alternator serve`: the HTTP recommendation service (see the `alternator-server` crate).
//!
//! Prints `listening on http://ADDR` as the first line on stdout once the socket is bound (so
//! `--addr 127.0.0.1:0` picks a free port that a caller can read), then serves until SIGINT or
//! SIGTERM. SIGHUP, or `POST /v1/admin/reload` with `--admin-token`, re-reads the model file.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alternator::meta::{MetaOptions, read_metadata};
use alternator_server::{Config, RunOptions, Service};
use anyhow::Context;

use crate::common::{init_threads, usage};

/// Flags of `alternator serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (written by `alternator fit`)
    #[arg(long)]
    pub model: PathBuf,
    /// Item metadata (MovieLens u.item / movies.csv, or id,title CSV): titles in responses
    /// and `liked_titles` fold-in
    #[arg(long)]
    pub items_meta: Option<PathBuf>,
    /// Address to listen on: IP:PORT, [IPv6]:PORT or HOST:PORT such as localhost:8080 (the
    /// first of the host's addresses that can be bound); port 0: any free port. Loopback by
    /// default
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Scoring threads [default: one per core]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Enable `POST /v1/admin/reload`, authorised by `Authorization: Bearer TOKEN`
    #[arg(long)]
    pub admin_token: Option<String>,
    /// Largest n a request may ask for
    #[arg(long, default_value_t = 1000)]
    pub max_n: usize,
    /// Largest request body, in bytes (larger: 413)
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body: usize,
    /// Time limit of one request, in seconds (then 503)
    #[arg(long, default_value_t = 30.0)]
    pub request_timeout: f64,
    /// Time a client has to send a request's headers, in seconds (also closes idle
    /// keep-alive connections)
    #[arg(long, default_value_t = 10.0)]
    pub header_timeout: f64,
    /// Most open connections
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Keep items with fewer than N training interactions out of every item list
    #[arg(long, visible_alias = "min-support", value_name = "N", default_value_t = 0)]
    pub min_item_interactions: u32,
}

/// The addresses `--addr` names: an IP address with a port, or a host name and port resolved
/// by the system (`localhost:8080` is 127.0.0.1 and/or ::1).
fn resolve(addr: &str) -> anyhow::Result<Vec<SocketAddr>> {
    if let Ok(a) = addr.parse::<SocketAddr>() {
        return Ok(vec![a]);
    }
    let example = "e.g. 127.0.0.1:8080, [::1]:8080 or localhost:8080";
    if addr
        .rsplit_once(':')
        .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
    {
        return usage(format!("--addr {addr:?}: expected HOST:PORT, {example}"));
    }
    match addr.to_socket_addrs() {
        Ok(list) => {
            let list: Vec<SocketAddr> = list.collect();
            if list.is_empty() {
                return usage(format!("--addr {addr:?}: the host name has no address; {example}"));
            }
            Ok(list)
        }
        Err(e) => usage(format!("--addr {addr:?}: cannot resolve the host name ({e}); {example}")),
    }
}

/// Binds the first of `addrs` that can be bound.
fn bind(addr: &str, addrs: &[SocketAddr]) -> anyhow::Result<TcpListener> {
    let mut failures = Vec::new();
    for a in addrs {
        match TcpListener::bind(a) {
            Ok(l) => return Ok(l),
            Err(e) => failures.push(format!("{a}: {e}")),
        }
    }
    usage(format!("cannot listen on {addr} ({})", failures.join("; ")))
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    if a.max_n == 0 {
        return usage("--max-n must be at least 1");
    }
    if a.max_body == 0 {
        return usage("--max-body must be at least 1");
    }
    if !(a.request_timeout.is_finite() && a.request_timeout > 0.0 && a.request_timeout <= 86_400.0)
    {
        return usage("--request-timeout must be a number of seconds in (0, 86400]");
    }
    if !(a.header_timeout.is_finite() && a.header_timeout > 0.0 && a.header_timeout <= 86_400.0) {
        return usage("--header-timeout must be a number of seconds in (0, 86400]");
    }
    if a.max_connections == 0 {
        return usage("--max-connections must be at least 1");
    }
    if a.admin_token.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return usage("--admin-token must not be empty");
    }
    let addrs = resolve(&a.addr)?;
    init_threads(a.threads)?;
    let meta = match &a.items_meta {
        Some(p) => Some(Arc::new(read_metadata(p, &MetaOptions::default())?)),
        None => None,
    };
    let mut config = Config::new(&a.model);
    config.meta = meta;
    config.admin_token = a.admin_token.clone();
    config.max_n = a.max_n;
    config.min_item_interactions = a.min_item_interactions;
    config.max_body_bytes = a.max_body;
    config.request_timeout = Duration::from_secs_f64(a.request_timeout);
    let service = Service::new(config)?;
    let listener = bind(&a.addr, &addrs)?;
    let bound = listener.local_addr().context("reading the bound address")?;
    {
        let m = service.current();
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{bound}")?;
        out.flush()?;
        eprintln!(
            "serving {} ({} users, {} items, rank {}, checksum {}){}",
            a.model.display(),
            m.model.users().len(),
            m.model.items().len(),
            m.model.rank(),
            m.checksum_hex(),
            if a.admin_token.is_some() { "; admin reload enabled" } else { "" }
        );
        if !bound.ip().is_loopback() {
            eprintln!(
                "warning: listening on a non-loopback address ({bound}); the service has no authentication"
            );
        }
    }
    let opts = RunOptions {
        max_connections: a.max_connections,
        header_timeout: Duration::from_secs_f64(a.header_timeout),
        ..RunOptions::default()
    };
    alternator_server::run(service, listener, opts).context("the server failed")?;
    eprintln!("shut down");
    Ok(())
}
