//! Definitions and runtime records on disk.
//!
//! Every write is atomic (temp file in the same folder, fsync, rename, fsync of the folder; see
//! [`atomic`]), and writers hold an exclusive `flock` on the store's lock file so two
//! switchyard processes cannot interleave. Readers never see a half-written file.
//!
//! File names come from network names only through [`file_component`]: a name with spaces,
//! `%`, `#` or Unicode gets an encoded file name, so it can never change where a file goes.

mod atomic;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::model::names::{decode_file_component, file_component};
use atomic::io_err;
pub use atomic::{
    create_private, ensure_dir, read_nofollow, remove_durable, stems, write_atomic,
    write_atomic_as, Access,
};

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
    #[error("network '{0}' does not exist (no definition of that name)")]
    NotDefined(String),
    #[error("'{}' is not a valid network name: {reason}", .name.escape_debug())]
    BadName { name: String, reason: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Refuses a name that is not a valid network name, with the reason.
pub fn check_name(name: &str) -> Result<(), StoreError> {
    match crate::model::validate::name_problems(name)
        .into_iter()
        .next()
    {
        None => Ok(()),
        Some(reason) => Err(StoreError::BadName {
            name: name.to_owned(),
            reason,
        }),
    }
}

/// The file (in `dir`) that holds `name` with `suffix`: the encoded name
/// ([`file_component`]); a file written by a release that used raw names is found too, so a
/// network defined or started before an upgrade is still seen.
pub fn name_path(dir: &Path, name: &str, suffix: &str) -> PathBuf {
    let encoded = dir.join(format!("{}{suffix}", file_component(name)));
    match legacy_path(dir, name, suffix) {
        Some(legacy) if !encoded.exists() && legacy.exists() => legacy,
        _ => encoded,
    }
}

/// Where the previous release kept `name`'s file, when that differs from the encoded name.
/// Raw names were used as they were, refused only with '/', a leading '.' or control
/// characters.
pub fn legacy_path(dir: &Path, name: &str, suffix: &str) -> Option<PathBuf> {
    let usable = !(name.is_empty()
        || name.starts_with('.')
        || name.contains('/')
        || name.chars().any(char::is_control));
    (usable && file_component(name) != name).then(|| dir.join(format!("{name}{suffix}")))
}

/// Removes both the encoded and the legacy file of `name`; whether either existed.
pub fn remove_name_files(dir: &Path, name: &str, suffix: &str) -> Result<bool, StoreError> {
    let mut removed = remove_durable(&dir.join(format!("{}{suffix}", file_component(name))))?;
    if let Some(legacy) = legacy_path(dir, name, suffix) {
        removed |= remove_durable(&legacy)?;
    }
    Ok(removed)
}

/// The network names of every `*.SUFFIX` file in `dir`, sorted: decoded file names, plus the
/// raw names of files the previous release wrote.
/// A private home that is removed when dropped (the simulated host's, a test's).
pub type TempHome = tempfile::TempDir;

/// A new private home under the system's temporary folder, named `prefix…`.
pub fn temp_home(prefix: &str) -> io::Result<TempHome> {
    tempfile::Builder::new().prefix(prefix).tempdir()
}

/// Removes `dir` if it is empty; anything else (missing, not empty) leaves it as it is.
pub fn remove_empty_dir(dir: &Path) {
    let _ = std::fs::remove_dir(dir);
}

/// The text of every readable file in `dir` (none when it does not exist).
pub fn texts_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect()
}

/// When `path` was last modified, if it exists.
pub fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

pub fn names_in(dir: &Path, suffix: &str) -> Result<Vec<String>, StoreError> {
    let mut names: Vec<String> = stems(dir, suffix)?
        .into_iter()
        .map(|stem| match decode_file_component(&stem) {
            Some(name) if check_name(&name).is_ok() => name,
            _ => stem,
        })
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
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
        ensure_dir(dir, 0o755)?;
        let path = dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map_err(io_err(&path))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| StoreError::Io {
                path: path.clone(),
                source: io::Error::from(errno),
            })?;
        Ok(StoreLock { _lock: lock })
    }

    /// The write lock if no other switchyard holds it now; `Ok(None)` if one does.
    pub fn try_lock(&self) -> Result<Option<StoreLock>, StoreError> {
        let dir = &self.paths.defs;
        ensure_dir(dir, 0o755)?;
        let path = dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map_err(io_err(&path))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(Some(StoreLock { _lock: lock })),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, errno)) => Err(StoreError::Io {
                path,
                source: io::Error::from(errno),
            }),
        }
    }

    /// Names of all defined networks, sorted.
    pub fn names(&self) -> Result<Vec<String>, StoreError> {
        names_in(&self.paths.defs, ".xml")
    }

    fn def_path(&self, name: &str) -> Result<PathBuf, StoreError> {
        check_name(name)?;
        Ok(name_path(&self.paths.defs, name, ".xml"))
    }

    fn autostart_path(&self, name: &str) -> Result<PathBuf, StoreError> {
        check_name(name)?;
        Ok(name_path(&self.paths.defs, name, ".autostart"))
    }

    /// The stored XML of `name`.
    pub fn load(&self, name: &str) -> Result<String, StoreError> {
        read_nofollow(&self.def_path(name)?)?.ok_or_else(|| StoreError::NotDefined(name.into()))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.def_path(name).map(|p| p.exists()).unwrap_or(false)
    }

    /// Stores the XML of `name` atomically (owner-only), under its encoded file name; a file
    /// the previous release wrote under the raw name is removed. The caller holds the lock.
    pub fn save(&self, _lock: &StoreLock, name: &str, xml: &str) -> Result<(), StoreError> {
        check_name(name)?;
        let dir = &self.paths.defs;
        write_atomic(
            &dir.join(format!("{}.xml", file_component(name))),
            xml.as_bytes(),
        )?;
        if let Some(legacy) = legacy_path(dir, name, ".xml") {
            remove_durable(&legacy)?;
            if let Some(flag) = legacy_path(dir, name, ".autostart").filter(|f| f.exists()) {
                write_atomic(
                    &dir.join(format!("{}.autostart", file_component(name))),
                    b"",
                )?;
                remove_durable(&flag)?;
            }
        }
        Ok(())
    }

    /// Removes the definition and its autostart flag. The caller holds the lock.
    pub fn remove(&self, _lock: &StoreLock, name: &str) -> Result<(), StoreError> {
        check_name(name)?;
        remove_name_files(&self.paths.defs, name, ".autostart")?;
        if !remove_name_files(&self.paths.defs, name, ".xml")? {
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
        if on {
            let path = self
                .paths
                .defs
                .join(format!("{}.autostart", file_component(name)));
            write_atomic(&path, b"")
        } else {
            remove_name_files(&self.paths.defs, name, ".autostart").map(|_| ())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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
        for bad in ["", "..", "../x", "a/b", "x\ny"] {
            assert!(matches!(
                store.save(&lock, bad, ""),
                Err(StoreError::BadName { .. })
            ));
            assert!(matches!(store.load(bad), Err(StoreError::BadName { .. })));
        }
        assert!(matches!(
            store.set_autostart(&lock, "missing", true),
            Err(StoreError::NotDefined(_))
        ));
    }

    #[test]
    fn odd_names_get_encoded_file_names_and_round_trip() {
        let (dir, store) = store();
        let lock = store.lock().expect("lock");
        for name in [".hidden", "a b#c", "x%y", "ünï", "tab-less"] {
            store.save(&lock, name, name).expect("save");
            store.set_autostart(&lock, name, true).expect("autostart");
        }
        let mut files: Vec<String> = fs::read_dir(dir.path().join("networks"))
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|f| f.ends_with(".xml"))
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                "%2Ehidden.xml",
                "%C3%BCn%C3%AF.xml",
                "a%20b%23c.xml",
                "tab-less.xml",
                "x%25y.xml"
            ]
        );
        let names = store.names().expect("names");
        assert_eq!(names, [".hidden", "a b#c", "tab-less", "x%y", "ünï"]);
        for name in &names {
            assert_eq!(&store.load(name).expect("load"), name);
            assert!(store.autostart(name));
        }
    }

    #[test]
    fn files_of_the_previous_release_are_found_and_migrated_on_save() {
        let (dir, store) = store();
        let defs = dir.path().join("networks");
        fs::create_dir_all(&defs).expect("dir");
        fs::write(defs.join("my net.xml"), "old").expect("legacy def");
        fs::write(defs.join("my net.autostart"), "").expect("legacy flag");
        assert_eq!(store.names().expect("names"), ["my net"]);
        assert_eq!(store.load("my net").expect("load"), "old");
        assert!(store.autostart("my net"));
        let lock = store.lock().expect("lock");
        store.save(&lock, "my net", "new").expect("save");
        assert!(!defs.join("my net.xml").exists());
        assert!(defs.join("my%20net.xml").exists());
        assert!(store.autostart("my net"), "the flag moved with it");
        assert_eq!(store.names().expect("names"), ["my net"]);
        store.remove(&lock, "my net").expect("remove");
        assert!(store.names().expect("names").is_empty());
    }

    #[test]
    fn home_paths_are_under_home() {
        let p = Paths::resolve(Some(Path::new("/tmp/h"))).expect("paths");
        assert_eq!(p.defs, Path::new("/tmp/h/networks"));
        assert_eq!(p.run, Path::new("/tmp/h/run"));
    }
}
