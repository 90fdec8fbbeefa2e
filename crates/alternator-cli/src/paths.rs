//! The files a verb writes. No output may be one of the verb's own inputs (or another of its
//! outputs), whatever names, symbolic links or hard links lead to it; `-` is standard output;
//! every file is written atomically through the library's [`alternator::files`] (a temporary
//! file beside the target, renamed over it on success; a symbolic link is written through).

use std::io::Write;
use std::path::{Path, PathBuf};

use alternator::SaveOptions;
use alternator::files::{AtomicFile, resolve_links};

use crate::common::usage;

/// True for `-`, standard output.
pub fn is_stdout(p: &Path) -> bool {
    p.as_os_str() == "-"
}

/// A flag and the path given to it, if any.
pub type Named<'a> = (&'a str, Option<&'a Path>);

/// Refuses (exit code 2) an output that is the same file as one of `inputs` or as an earlier
/// output, naming both flags. `-` (standard output) is never a file.
pub fn refuse_overwrite(inputs: &[Named<'_>], outputs: &[Named<'_>]) -> anyhow::Result<()> {
    let given = |list: &[Named<'_>]| -> Vec<(String, PathBuf)> {
        list.iter()
            .filter_map(|&(flag, p)| p.map(|p| (flag.to_string(), p.to_path_buf())))
            .filter(|(_, p)| !is_stdout(p))
            .collect()
    };
    let (inputs, outputs) = (given(inputs), given(outputs));
    for (k, (oflag, out)) in outputs.iter().enumerate() {
        for (iflag, input) in &inputs {
            if let Some(how) = same_file(out, input) {
                return usage(format!(
                    "{oflag} {} is {how} {iflag} {}: writing {oflag} would destroy that input; \
                     choose another {oflag} path",
                    out.display(),
                    input.display()
                ));
            }
        }
        for (pflag, prev) in outputs.iter().take(k) {
            if let Some(how) = same_file(out, prev) {
                return usage(format!(
                    "{oflag} {} is {how} {pflag} {}: give each output its own path",
                    out.display(),
                    prev.display()
                ));
            }
        }
    }
    Ok(())
}

/// How `a` and `b` are one file, when they are: the same path, or another name for it
/// (a symbolic or hard link, `./x` and `x`, …).
pub fn same_file(a: &Path, b: &Path) -> Option<&'static str> {
    let how = if a == b {
        "the same file as"
    } else {
        "(through a link or another name) the same file as"
    };
    if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        // Both exist: the same device and inode (any links followed).
        #[cfg(unix)]
        let same = {
            use std::os::unix::fs::MetadataExt;
            ma.dev() == mb.dev() && ma.ino() == mb.ino()
        };
        #[cfg(not(unix))]
        let same = {
            let _ = (ma, mb);
            matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
        };
        return same.then_some(how);
    }
    // One does not exist (yet): compare where each would be, links followed.
    match (normal(a), normal(b)) {
        (Some(x), Some(y)) if x == y => Some(how),
        _ => (a == b).then_some(how),
    }
}

/// `p` with its links followed and its directory made canonical (the file need not exist).
fn normal(p: &Path) -> Option<PathBuf> {
    let r = resolve_links(p).ok()?;
    let name = r.file_name()?;
    let dir = match r.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(name))
}

/// How models are saved: with `fsync` when `fsync` is set or the environment has
/// `ALTERNATOR_FSYNC=1`.
pub fn save_options(fsync: bool) -> SaveOptions {
    let env = std::env::var("ALTERNATOR_FSYNC").is_ok_and(|v| v.trim() == "1");
    SaveOptions::default().with_fsync(fsync || env)
}

/// Refuses `-` for an output that must be a file (a model, a pair of files).
pub fn refuse_stdout(flag: &str, p: &Path, why: &str) -> anyhow::Result<()> {
    if is_stdout(p) {
        return usage(format!("{flag} -: {why}; name a file (./- for a file named -)"));
    }
    Ok(())
}

enum Sink {
    Stdout(std::io::BufWriter<std::io::StdoutLock<'static>>),
    File(std::io::BufWriter<AtomicFile>),
}

/// An output file (written atomically, put in place by [`OutFile::finish`]) or standard output
/// for `-`. Dropped without `finish`, a file output is not created and an older file at its
/// path is left as it was.
pub struct OutFile {
    sink: Sink,
    name: PathBuf,
}

impl OutFile {
    /// Opens `path`, or standard output for `-`.
    pub fn create(path: &Path) -> anyhow::Result<OutFile> {
        Ok(if is_stdout(path) {
            OutFile {
                sink: Sink::Stdout(std::io::BufWriter::new(std::io::stdout().lock())),
                name: PathBuf::from("<stdout>"),
            }
        } else {
            OutFile {
                sink: Sink::File(std::io::BufWriter::with_capacity(
                    1 << 20,
                    AtomicFile::create(path)?,
                )),
                name: path.to_path_buf(),
            }
        })
    }

    /// The path, or `<stdout>`: for messages.
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// Flushes everything and, for a file, renames it into place.
    pub fn finish(self) -> Result<(), alternator::Error> {
        let io = |e| alternator::Error::io(&self.name, e);
        match self.sink {
            Sink::Stdout(mut w) => w.flush().map_err(io),
            Sink::File(w) => w.into_inner().map_err(|e| io(e.into_error()))?.commit(),
        }
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => w.write_all(buf),
            Sink::File(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => w.flush(),
            Sink::File(w) => w.flush(),
        }
    }
}

/// An output for a writer that must be `Send` (the Parquet writer): standard output for `-`,
/// else a file written atomically, in place once [`SendOut::finish`]ed.
pub enum SendOut {
    /// Standard output.
    Stdout(std::io::BufWriter<std::io::Stdout>),
    /// A file.
    File(std::io::BufWriter<AtomicFile>, PathBuf),
}

impl SendOut {
    /// Opens `path`, or standard output for `-`.
    pub fn create(path: &Path) -> anyhow::Result<SendOut> {
        Ok(if is_stdout(path) {
            SendOut::Stdout(std::io::BufWriter::new(std::io::stdout()))
        } else {
            SendOut::File(
                std::io::BufWriter::with_capacity(1 << 20, AtomicFile::create(path)?),
                path.to_path_buf(),
            )
        })
    }

    /// Flushes everything and, for a file, renames it into place.
    pub fn finish(self) -> Result<(), alternator::Error> {
        match self {
            SendOut::Stdout(mut w) => w.flush().map_err(|e| alternator::Error::io("<stdout>", e)),
            SendOut::File(w, p) => {
                w.into_inner().map_err(|e| alternator::Error::io(&p, e.into_error()))?.commit()
            }
        }
    }
}

impl Write for SendOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            SendOut::Stdout(w) => w.write(buf),
            SendOut::File(w, _) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            SendOut::Stdout(w) => w.flush(),
            SendOut::File(w, _) => w.flush(),
        }
    }
}

/// True when an output is Parquet: `--format parquet`, or no format given and a name ending in
/// `.parquet`.
pub fn is_parquet_out(path: &Path, format: Option<&str>) -> bool {
    match format {
        Some(f) => f.eq_ignore_ascii_case("parquet"),
        None => path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")),
    }
}
