//! Writing files safely: every file Alternator writes (a model, a data set, a split, a front
//! end's output) goes to a temporary file in the target's own directory and is renamed over
//! the target only once it is complete, so a reader sees the old file or the new one, never a
//! half-written one, and a failed or interrupted run leaves the old file in place.
//!
//! * **Names.** A temporary file is named `.NAME.alternator-tmp.PID.RANDOM` (`NAME` the
//!   target's file name, `PID` the writing process, `RANDOM` 16 hex digits) beside the target.
//! * **Symbolic links** are written through: when the target is a symlink, the temporary file
//!   goes beside the file it points to and replaces that file; the link stays a link.
//! * **Leftovers.** A process killed during a write (`kill -9`, a power cut) leaves its
//!   temporary file behind. Each write removes the leftovers of earlier writes to the same
//!   target, and only those: entries whose name has exactly the pattern above, whose process
//!   is gone, and which no process holds locked (the writer holds an exclusive `flock` on its
//!   temporary file from creation to rename). Elsewhere than on Unix leftovers are not removed.
//! * **Durability.** By default nothing waits for the disk, like Spark's and `implicit`'s
//!   `save`: the replacement is atomic, and after a power cut the file is the old one, the new
//!   one, or (on some file systems) a torn one that a model file's checksum rejects.
//!   [`SaveOptions::durable`] also `fsync`s the file before the rename and the directory after
//!   it, so that a completed write survives a power cut.
//!
//! [`AtomicFile`] writes one file this way; [`AtomicDir`] replaces a whole directory of files
//! as a set.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What a write promises beyond atomic replacement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SaveOptions {
    /// `fsync` the file before renaming it over the target, and the directory after, so that
    /// the new file survives a power cut (a few milliseconds per file).
    pub fsync: bool,
}

impl SaveOptions {
    /// Atomic replacement, not waiting for the disk (the default).
    pub fn new() -> SaveOptions {
        SaveOptions::default()
    }

    /// Atomic replacement that also waits for the disk (`fsync` of the file and directory).
    pub fn durable() -> SaveOptions {
        SaveOptions { fsync: true }
    }

    /// Sets whether to `fsync`.
    pub fn with_fsync(mut self, fsync: bool) -> SaveOptions {
        self.fsync = fsync;
        self
    }
}

/// The marker between a target's name and the process id in a temporary file's name.
const MARKER: &str = ".alternator-tmp.";
/// Symbolic links followed before giving up (as the kernel's `ELOOP`).
const MAX_LINKS: usize = 40;
/// The longest part of the target's name kept in a temporary name (file names are limited to
/// 255 bytes).
const MAX_NAME_BYTES: usize = 200;

/// `path` with every symbolic link in its last component followed, even when the final target
/// does not exist yet (a dangling link names the file to create). Relative link targets are
/// taken from the link's directory. Any other path is returned unchanged.
pub fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other(format!("more than {MAX_LINKS} levels of symbolic links")))
}

/// The directory and file name of `target` (already resolved).
fn split_target(target: &Path) -> std::io::Result<(PathBuf, OsString)> {
    let name = target.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name (ends in `..`?)")
    })?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_os_string()))
}

/// `.NAME.alternator-tmp.`: what every temporary name for `name` starts with.
fn temp_prefix(name: &OsStr) -> String {
    let lossy = name.to_string_lossy();
    let mut end = lossy.len().min(MAX_NAME_BYTES);
    while !lossy.is_char_boundary(end) {
        end -= 1;
    }
    format!(".{}{MARKER}", lossy.get(..end).unwrap_or_default())
}

/// A fresh temporary name for `name`.
fn temp_name(name: &OsStr) -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    format!("{}{}.{:016x}", temp_prefix(name), std::process::id(), h.finish())
}

/// The process id in `entry`, when `entry` is exactly a temporary name for `name`.
#[cfg_attr(not(unix), allow(dead_code))]
fn temp_pid(entry: &OsStr, name: &OsStr) -> Option<u32> {
    let rest = entry.to_str()?.strip_prefix(temp_prefix(name).as_str())?;
    let (pid, random) = rest.split_once('.')?;
    let digits = |s: &str, hex: bool| {
        !s.is_empty()
            && s.bytes().all(|b| if hex { b.is_ascii_hexdigit() } else { b.is_ascii_digit() })
    };
    if !(digits(pid, false) && random.len() == 16 && digits(random, true)) {
        return None;
    }
    pid.parse().ok()
}

/// True when no process `pid` exists (as far as this process can tell).
#[cfg(unix)]
fn process_is_gone(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; it only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Takes an exclusive `flock` on `f`, waiting for it (`wait`) or failing at once.
#[cfg(unix)]
fn lock(f: &File, wait: bool) -> bool {
    use std::os::fd::AsRawFd;
    let op = if wait { libc::LOCK_EX } else { libc::LOCK_EX | libc::LOCK_NB };
    loop {
        // SAFETY: `f` is an open file descriptor for the duration of the call.
        if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
            return true;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}

/// True when `path` still names the file open as `f` (same device and inode).
#[cfg(unix)]
fn still_named(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Removes the temporary files (and directories) that earlier writes to `dir/name` left when
/// their process died; returns how many. Never touches an entry whose name is not exactly a
/// temporary name for `name`, whose process still exists, or that a process holds locked.
#[cfg(unix)]
fn remove_leftovers(dir: &Path, name: &OsStr) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let Some(pid) = temp_pid(&entry.file_name(), name) else { continue };
        if !process_is_gone(pid) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if !(meta.is_file() || meta.is_dir()) {
            continue;
        }
        let Ok(f) = File::open(&path) else { continue };
        // The lock is free only when its writer is gone; holding it while checking the name
        // still refers to this file keeps a writer that has just created it safe.
        if !lock(&f, false) || !still_named(&f, &path) {
            continue;
        }
        let gone = if meta.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if gone.is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(not(unix))]
fn remove_leftovers(_dir: &Path, _name: &OsStr) -> usize {
    0
}

/// Creates a fresh, locked temporary file for `parent/name`, after removing the leftovers of
/// dead writers.
fn create_temp(parent: &Path, name: &OsStr) -> std::io::Result<(PathBuf, File)> {
    create_temp_entry(parent, name, |tmp| {
        std::fs::OpenOptions::new().write(true).create_new(true).open(tmp)
    })
}

/// Creates a fresh temporary directory for `parent/name`, locked where directories can be
/// opened (Unix), after removing the leftovers of dead writers.
fn create_temp_dir(parent: &Path, name: &OsStr) -> std::io::Result<(PathBuf, Option<File>)> {
    #[cfg(unix)]
    {
        let (tmp, f) = create_temp_entry(parent, name, |tmp| {
            std::fs::create_dir(tmp).and_then(|()| File::open(tmp))
        })?;
        Ok((tmp, Some(f)))
    }
    #[cfg(not(unix))]
    {
        let mut last = None;
        for _ in 0..64 {
            let tmp = parent.join(temp_name(name));
            match std::fs::create_dir(&tmp) {
                Ok(()) => return Ok((tmp, None)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("could not create a temporary directory")))
    }
}

/// Makes a fresh temporary entry with `make` (which fails with `AlreadyExists` when the name
/// is taken) and locks it.
fn create_temp_entry(
    parent: &Path,
    name: &OsStr,
    make: impl Fn(&Path) -> std::io::Result<File>,
) -> std::io::Result<(PathBuf, File)> {
    remove_leftovers(parent, name);
    let mut last = None;
    for _ in 0..64 {
        let tmp = parent.join(temp_name(name));
        let f = match make(&tmp) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        #[cfg(unix)]
        {
            // A cleaner that opened the new file before this lock may have removed it:
            // then start again with another name.
            if !lock(&f, true) || !still_named(&f, &tmp) {
                last = Some(std::io::Error::other("the temporary file was removed"));
                continue;
            }
        }
        return Ok((tmp, f));
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("could not create a temporary file")))
}

/// `fsync`s a directory (its entries: a rename in it).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        match File::open(dir).and_then(|d| d.sync_all()) {
            // Some file systems cannot sync a directory; nothing more can be done there.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
            r => r,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// A file written to a temporary file beside its target and renamed over the target by
/// [`AtomicFile::commit`]; dropped without a commit, the temporary file is removed and the
/// target is left as it was. Writes are not buffered: wrap it in a `BufWriter`.
///
/// ```
/// use std::io::Write;
/// use alternator::files::AtomicFile;
///
/// let dir = std::env::temp_dir().join(format!("alternator-atomic-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).map_err(|e| alternator::Error::io(&dir, e))?;
/// let path = dir.join("out.txt");
/// let mut f = AtomicFile::create(&path)?;
/// f.write_all(b"hello\n").map_err(|e| alternator::Error::io(&path, e))?;
/// f.commit()?;
/// assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("hello\n"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), alternator::Error>(())
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    /// The open temporary file (locked); `None` once committed.
    file: Option<File>,
    tmp: PathBuf,
    /// The file replaced: the given path with symbolic links followed.
    target: PathBuf,
    /// The path as given, for messages.
    path: PathBuf,
    opts: SaveOptions,
}

impl AtomicFile {
    /// Starts writing `path` with the default [`SaveOptions`].
    pub fn create(path: impl AsRef<Path>) -> Result<AtomicFile> {
        AtomicFile::create_with(path, SaveOptions::default())
    }

    /// Starts writing `path`: creates the temporary file beside it (beside the file it links
    /// to, for a symbolic link), removing the leftovers of earlier writes that were killed.
    /// The new file gets the permissions of the file it replaces; a read-only file is not
    /// replaced (an error, as writing it in place would be). A file with several hard links
    /// is replaced under this name only: its other names keep the old contents.
    pub fn create_with(path: impl AsRef<Path>, opts: SaveOptions) -> Result<AtomicFile> {
        let path = path.as_ref();
        let io = |e| Error::io(path, e);
        let target = resolve_links(path).map_err(io)?;
        let (dir, name) = split_target(&target).map_err(io)?;
        let existing = std::fs::metadata(&target).ok().filter(|m| m.is_file());
        if existing.as_ref().is_some_and(|m| m.permissions().readonly()) {
            // Writing in place would fail; a rename would not, and would defeat the protection.
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the file is read-only; make it writable to replace it, or write elsewhere",
            )));
        }
        let (tmp, file) = create_temp(&dir, &name).map_err(io)?;
        if let Some(m) = existing {
            let _ = file.set_permissions(m.permissions());
        }
        Ok(AtomicFile { file: Some(file), tmp, target, path: path.to_path_buf(), opts })
    }

    /// The path given to [`AtomicFile::create`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the complete file over the target (after an `fsync` with
    /// [`SaveOptions::durable`]). On an error the temporary file is removed and the target is
    /// left as it was.
    pub fn commit(mut self) -> Result<()> {
        let Some(file) = self.file.take() else {
            return Err(Error::Internal("an atomic file was committed twice".into()));
        };
        let result = (|| -> std::io::Result<()> {
            if self.opts.fsync {
                file.sync_all()?;
            }
            // A plain rename: over an existing file, ext4 (`auto_da_alloc`) then starts
            // writing the new file's blocks inside the call, which is what keeps the old file
            // or the new one on disk should the machine crash soon after. Swapping the files
            // with `renameat2(RENAME_EXCHANGE)` and deleting the old one skipped that cost but
            // could leave neither: tried and reverted.
            std::fs::rename(&self.tmp, &self.target)?;
            if self.opts.fsync {
                let (dir, _) = split_target(&self.target)?;
                sync_dir(&dir)?;
            }
            Ok(())
        })();
        drop(file); // releases the lock, after the rename
        if let Err(e) = result {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(Error::io(&self.path, e));
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("the file was already committed")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(buf),
            None => Err(std::io::Error::other("the file was already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A directory of files written as a set: the files go into a temporary directory beside the
/// target, and [`AtomicDir::commit`] puts that directory in the target's place, removing the
/// directory it replaces and everything in it. A reader of the target sees the old set or the
/// new one, never a mix (for a moment during the commit, no directory at all). Dropped without
/// a commit, the temporary directory is removed.
#[derive(Debug)]
pub struct AtomicDir {
    /// The lock on the temporary directory (Unix).
    lock: Option<File>,
    /// Set once committed.
    done: bool,
    tmp: PathBuf,
    target: PathBuf,
    path: PathBuf,
    opts: SaveOptions,
}

impl AtomicDir {
    /// Starts writing the directory `path` (a symbolic link to a directory is followed).
    pub fn create_with(path: impl AsRef<Path>, opts: SaveOptions) -> Result<AtomicDir> {
        let path = path.as_ref();
        let io = |e| Error::io(path, e);
        let target = resolve_links(path).map_err(io)?;
        let (dir, name) = split_target(&target).map_err(io)?;
        let (tmp, lock) = create_temp_dir(&dir, &name).map_err(io)?;
        if let Some(m) = std::fs::metadata(&target).ok().filter(|m| m.is_dir()) {
            let _ = std::fs::set_permissions(&tmp, m.permissions());
        }
        Ok(AtomicDir { lock, done: false, tmp, target, path: path.to_path_buf(), opts })
    }

    /// The temporary directory to write the files into.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Puts the written directory in the target's place and removes the directory it
    /// replaces. On an error the target is left as it was.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        let result = self.swap();
        self.lock = None;
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&self.tmp);
            return Err(Error::io(&self.path, e));
        }
        Ok(())
    }

    fn swap(&self) -> std::io::Result<()> {
        let (parent, name) = split_target(&self.target)?;
        if self.opts.fsync {
            for entry in std::fs::read_dir(&self.tmp)? {
                let p = entry?.path();
                if p.is_file() {
                    File::open(&p)?.sync_all()?;
                }
            }
            sync_dir(&self.tmp)?;
        }
        match std::fs::symlink_metadata(&self.target) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::rename(&self.tmp, &self.target)?;
            }
            Err(e) => return Err(e),
            Ok(m) if !m.is_dir() => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "exists and is not a directory",
                ));
            }
            Ok(_) => {
                // Move the old directory aside under a locked temporary name (a leftover,
                // should this process die, that the next write removes), then the new one in.
                let (old, old_lock) = create_temp(&parent, &name)?;
                std::fs::remove_file(&old)?;
                drop(old_lock);
                std::fs::rename(&self.target, &old)?;
                if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
                    let _ = std::fs::rename(&old, &self.target);
                    return Err(e);
                }
                let _ = std::fs::remove_dir_all(&old);
            }
        }
        if self.opts.fsync {
            sync_dir(&parent)?;
        }
        Ok(())
    }
}

impl Drop for AtomicDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn temporary_names_match_only_their_own_pattern() {
        let name = OsStr::new("m.alt");
        let t = temp_name(name);
        assert!(t.starts_with(".m.alt.alternator-tmp."), "{t}");
        assert_eq!(temp_pid(OsStr::new(&t), name), Some(std::process::id()));
        for other in [
            ".m.alt.alternator-tmp.12.0123456789abcdef0",
            ".m.alt.alternator-tmp.12.0123456789abcdeg",
            ".m.alt.alternator-tmp.x.0123456789abcdef",
            ".m.alt.alternator-tmp..0123456789abcdef",
            ".n.alt.alternator-tmp.12.0123456789abcdef",
            ".m.alt.tmp-12",
            "m.alt",
        ] {
            assert_eq!(temp_pid(OsStr::new(other), name), None, "{other}");
        }
        assert_eq!(
            temp_pid(OsStr::new(".m.alt.alternator-tmp.12.0123456789abcdef"), name),
            Some(12)
        );
        let long = "x".repeat(250);
        assert!(temp_name(OsStr::new(&long)).len() < 255);
    }

    #[test]
    fn commit_replaces_and_drop_leaves_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        std::fs::write(&p, "old").unwrap();
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(names(dir.path()), ["out.txt"]);
        let mut f = AtomicFile::create_with(&p, SaveOptions::durable()).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(names(dir.path()), ["out.txt"]);
        // A read-only file is left alone.
        let mut ro = std::fs::metadata(&p).unwrap().permissions();
        ro.set_readonly(true);
        std::fs::set_permissions(&p, ro).unwrap();
        assert!(AtomicFile::create(&p).is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(names(dir.path()), ["out.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_written_through_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("sub");
        std::fs::create_dir(&real).unwrap();
        let target = real.join("m.alt");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.alt");
        std::os::unix::fs::symlink("sub/m.alt", &link).unwrap();
        let mut f = AtomicFile::create(&link).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        // A dangling link names the file to create.
        let dangling = dir.path().join("d.alt");
        std::os::unix::fs::symlink("sub/new.alt", &dangling).unwrap();
        AtomicFile::create(&dangling).unwrap().commit().unwrap();
        assert!(real.join("new.alt").is_file());
        assert!(std::fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn leftovers_of_dead_processes_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.alt");
        // A process that has exited and been reaped: its id is free (until reused, when the
        // leftover is merely kept).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = format!(".m.alt.alternator-tmp.{dead}.0123456789abcdef");
        let stale_dir = format!(".m.alt.alternator-tmp.{dead}.00000000000000ff");
        let live = format!(".m.alt.alternator-tmp.{}.0123456789abcdef", std::process::id());
        let other = format!(".n.alt.alternator-tmp.{dead}.0123456789abcdef");
        let legacy = format!(".m.alt.tmp-{dead}");
        // Named after a dead process but locked (a writer in another PID namespace): kept.
        let locked = format!(".m.alt.alternator-tmp.{dead}.000000000000abcd");
        for n in [&stale, &live, &other, &legacy, &locked] {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        let held = File::open(dir.path().join(&locked)).unwrap();
        assert!(lock(&held, false));
        std::fs::create_dir(dir.path().join(&stale_dir)).unwrap();
        std::fs::write(dir.path().join(&stale_dir).join("f"), "x").unwrap();
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"m").unwrap();
        f.commit().unwrap();
        drop(held);
        let mut want = vec!["m.alt".to_string(), live, other, legacy, locked];
        want.sort();
        assert_eq!(names(dir.path()), want);
    }

    #[test]
    fn a_directory_is_replaced_as_a_set() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let d = AtomicDir::create_with(&out, SaveOptions::default()).unwrap();
        std::fs::write(d.dir().join("a"), "1").unwrap();
        std::fs::write(d.dir().join("b"), "1").unwrap();
        d.commit().unwrap();
        assert_eq!(names(&out), ["a", "b"]);
        let d = AtomicDir::create_with(&out, SaveOptions::durable()).unwrap();
        std::fs::write(d.dir().join("a"), "2").unwrap();
        drop(d);
        assert_eq!(names(&out), ["a", "b"]);
        let d = AtomicDir::create_with(&out, SaveOptions::durable()).unwrap();
        std::fs::write(d.dir().join("a"), "2").unwrap();
        d.commit().unwrap();
        assert_eq!(names(&out), ["a"]);
        assert_eq!(std::fs::read_to_string(out.join("a")).unwrap(), "2");
        assert_eq!(names(dir.path()), ["out"]);
    }
}
