//! Definitions and runtime records on disk.
//!
//! Every write is atomic (temp file in the same folder, fsync, rename, fsync of the folder), and
//! writers hold an exclusive `flock` on the store's lock file so two switchyard processes cannot
//! interleave. Readers never see a half-written file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// Where switchyard keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `NAME.xml` definitions and `NAME.autostart` flags.
    pub defs: PathBuf,
    /// Persistent state: dnsmasq lease files.
    pub state: PathBuf,
    /// Runtime records of what was applied, dnsmasq configs and pid files.
    pub run: PathBuf,
}

impl Paths {
    /// Everything under one folder (`--home DIR` or `SWITCHYARD_HOME`).
    pub fn under(home: &Path) -> Paths {
        Paths {
            defs: home.join("networks"),
            state: home.join("lib"),
            run: home.join("run"),
        }
    }

    /// The system locations root uses.
    pub fn system() -> Paths {
        Paths {
            defs: PathBuf::from("/etc/switchyard/networks"),
            state: PathBuf::from("/var/lib/switchyard"),
            run: PathBuf::from("/run/switchyard"),
        }
    }

    /// `--home` if given, else the system paths for root, else the user's project dirs.
    pub fn resolve(home: Option<&Path>) -> Result<Paths, StoreError> {
        if let Some(home) = home {
            return Ok(Paths::under(home));
        }
        if nix::unistd::geteuid().is_root() {
            return Ok(Paths::system());
        }
        let dirs = directories::ProjectDirs::from("org", "switchyard", "switchyard")
            .ok_or(StoreError::NoHome)?;
        let run = dirs
            .runtime_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dirs.data_local_dir().join("run"));
        Ok(Paths {
            defs: dirs.config_dir().join("networks"),
            state: dirs.data_local_dir().to_path_buf(),
            run,
        })
    }
}

/// Errors of the on-disk store; each names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot find a home folder for switchyard's files; pass --home DIR")]
    NoHome,
    #[error("network '{0}' is not defined")]
    NotDefined(String),
    #[error("'{0}' cannot be used as a network name in a file name")]
    BadName(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` atomically: temp file beside it, fsync, rename, fsync the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{file_name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

/// Removes `path` if it exists and makes the removal durable.
pub fn remove_durable(path: &Path) -> Result<bool, StoreError> {
    match fs::remove_file(path) {
        Ok(()) => {
            if let Some(dir) = path.parent() {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io_err(dir))?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// An exclusive lock over the store, released on drop.
pub struct StoreLock {
    _lock: Flock<File>,
}

/// The definition store.
#[derive(Debug, Clone)]
pub struct Store {
    paths: Paths,
}

impl Store {
    pub fn new(paths: Paths) -> Store {
        Store { paths }
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Takes the exclusive write lock, waiting for another switchyard to finish.
    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        let dir = &self.paths.defs;
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| StoreError::Io {
                path: path.clone(),
                source: io::Error::from(errno),
            })?;
        Ok(StoreLock { _lock: lock })
    }

    /// Names of all defined networks, sorted.
    pub fn names(&self) -> Result<Vec<String>, StoreError> {
        let dir = &self.paths.defs;
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(dir)(e)),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .filter_map(|n| n.strip_suffix(".xml").map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    fn def_path(&self, name: &str) -> Result<PathBuf, StoreError> {
        check_file_name(name)?;
        Ok(self.paths.defs.join(format!("{name}.xml")))
    }

    fn autostart_path(&self, name: &str) -> Result<PathBuf, StoreError> {
        check_file_name(name)?;
        Ok(self.paths.defs.join(format!("{name}.autostart")))
    }

    /// The stored XML of `name`.
    pub fn load(&self, name: &str) -> Result<String, StoreError> {
        let path = self.def_path(name)?;
        fs::read_to_string(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::NotDefined(name.to_owned()),
            _ => io_err(&path)(e),
        })
    }

    pub fn exists(&self, name: &str) -> bool {
        self.def_path(name).map(|p| p.exists()).unwrap_or(false)
    }

    /// Stores the XML of `name` atomically. The caller holds the lock.
    pub fn save(&self, _lock: &StoreLock, name: &str, xml: &str) -> Result<(), StoreError> {
        write_atomic(&self.def_path(name)?, xml.as_bytes())
    }

    /// Removes the definition and its autostart flag. The caller holds the lock.
    pub fn remove(&self, _lock: &StoreLock, name: &str) -> Result<(), StoreError> {
        remove_durable(&self.autostart_path(name)?)?;
        if !remove_durable(&self.def_path(name)?)? {
            return Err(StoreError::NotDefined(name.to_owned()));
        }
        Ok(())
    }

    pub fn autostart(&self, name: &str) -> bool {
        self.autostart_path(name)
            .map(|p| p.exists())
            .unwrap_or(false)
    }

    /// Sets or clears the autostart flag stored beside the definition.
    pub fn set_autostart(&self, lock: &StoreLock, name: &str, on: bool) -> Result<(), StoreError> {
        if !self.exists(name) {
            return Err(StoreError::NotDefined(name.to_owned()));
        }
        let _ = lock;
        let path = self.autostart_path(name)?;
        if on {
            write_atomic(&path, b"")
        } else {
            remove_durable(&path).map(|_| ())
        }
    }
}

/// A name is safe as a file name: no path separators, no leading dot, no control characters.
fn check_file_name(name: &str) -> Result<(), StoreError> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains('/')
        || name.chars().any(char::is_control)
        || name.len() > 64;
    if bad {
        return Err(StoreError::BadName(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(Paths::under(dir.path()));
        (dir, store)
    }

    #[test]
    fn save_load_list_remove() {
        let (_dir, store) = store();
        let lock = store.lock().expect("lock");
        store.save(&lock, "b", "<network/>").expect("save");
        store.save(&lock, "a", "<x/>").expect("save");
        assert_eq!(store.names().expect("names"), vec!["a", "b"]);
        assert_eq!(store.load("a").expect("load"), "<x/>");
        store.set_autostart(&lock, "a", true).expect("autostart");
        assert!(store.autostart("a"));
        store.remove(&lock, "a").expect("remove");
        assert!(!store.autostart("a"));
        assert!(matches!(store.load("a"), Err(StoreError::NotDefined(_))));
        assert!(matches!(
            store.remove(&lock, "a"),
            Err(StoreError::NotDefined(_))
        ));
    }

    #[test]
    fn no_temp_files_left_and_bad_names_rejected() {
        let (dir, store) = store();
        let lock = store.lock().expect("lock");
        store.save(&lock, "n", "1").expect("save");
        store.save(&lock, "n", "2").expect("save again");
        let files: Vec<_> = fs::read_dir(dir.path().join("networks"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().into_string().expect("utf8"))
            .collect();
        assert!(files.iter().all(|f| !f.contains(".tmp.")), "{files:?}");
        for bad in ["", "../x", ".hidden", "a/b", "x\ny"] {
            assert!(matches!(
                store.save(&lock, bad, ""),
                Err(StoreError::BadName(_))
            ));
        }
        assert!(matches!(
            store.set_autostart(&lock, "missing", true),
            Err(StoreError::NotDefined(_))
        ));
    }

    #[test]
    fn home_paths_are_under_home() {
        let p = Paths::resolve(Some(Path::new("/tmp/h"))).expect("paths");
        assert_eq!(p.defs, Path::new("/tmp/h/networks"));
        assert_eq!(p.run, Path::new("/tmp/h/run"));
    }
}
