//! Durable file primitives: atomic replacement, removal, and reads that never follow a planted
//! symlink.
//!
//! A write goes to a fresh temp file beside its target (created with `O_EXCL|O_NOFOLLOW`, so
//! nothing planted at that name is opened or followed), is fsynced, renamed over the target
//! (`rename` replaces a symlink there, never its destination) and the folder is fsynced. Temp
//! files a killed process left behind are removed by the next write to the same target.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::StoreError;

pub use crate::plan::Access;

fn mode(access: Access) -> u32 {
    match access {
        Access::Private => 0o600,
        Access::Group(_) => 0o640,
        Access::Public => 0o644,
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` atomically, readable by the owner only (see [`write_atomic_as`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic_as(path, bytes, Access::Private)
}

/// Writes `bytes` to `path` atomically with the given access: temp file beside it, fsync,
/// rename, fsync of the folder. On any error nothing at `path` changed and the temp file is
/// gone.
pub fn write_atomic_as(path: &Path, bytes: &[u8], access: Access) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io_err(path)(io::Error::other("not a file name")))?;
    remove_stale_temps(dir, file_name);
    let tmp = dir.join(format!(
        ".{file_name}.tmp.{}.{:08x}",
        std::process::id(),
        crate::host::random_u64() as u32
    ));
    let result = write_temp(&tmp, bytes, access).and_then(|()| {
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

fn write_temp(tmp: &Path, bytes: &[u8], access: Access) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .mode(mode(access))
        .open(tmp)?;
    // The umask may have narrowed the mode; and a group file needs its group.
    f.set_permissions(fs::Permissions::from_mode(mode(access)))?;
    if let Access::Group(gid) = access {
        std::os::unix::fs::fchown(&f, None, Some(gid))?;
    }
    f.write_all(bytes)?;
    f.sync_all()
}

/// Removes `.NAME.tmp.PID.*` files beside `NAME` whose writer process is gone.
fn remove_stale_temps(dir: &Path, file_name: &str) {
    let prefix = format!(".{file_name}.tmp.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<i32>().ok());
        if pid.is_none_or(|p| !process_exists(p)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn process_exists(pid: i32) -> bool {
    pid > 0 && Path::new(&format!("/proc/{pid}")).exists()
}

/// Makes an empty file at `path`, readable by its owner only, unless something is there
/// already (kept as it is); a symlink there is not followed.
pub fn create_private(path: &Path) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Removes `path` if it exists and makes the removal durable; `Ok(false)` when it was absent.
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

/// Reads a file as text without following a symlink at `path`; `Ok(None)` when it is absent.
pub fn read_nofollow(path: &Path) -> Result<Option<String>, StoreError> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path);
    let mut file = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(io_err(path)(io::Error::other(
                "is a symbolic link; switchyard does not follow links in its folders",
            )))
        }
        Err(e) => return Err(io_err(path)(e)),
    };
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io_err(path))?;
    Ok(Some(text))
}

/// Makes `dir` (and its parents) with the given mode for the last component.
pub fn ensure_dir(dir: &Path, mode: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(io_err(dir))
}

/// Every `*.SUFFIX` file name in `dir` without the suffix (hidden files skipped), unsorted;
/// empty when the folder does not exist.
pub fn stems(dir: &Path, suffix: &str) -> Result<Vec<String>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    Ok(entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .filter_map(|n| n.strip_suffix(suffix).map(str::to_owned))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn modes_and_no_temp_left() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.xml");
        write_atomic(&p, b"1").expect("write");
        write_atomic_as(&p, b"2", Access::Public).expect("rewrite");
        let mode = fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        write_atomic(&p, b"3").expect("private");
        let mode = fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = fs::read_dir(dir.path()).expect("dir").flatten().collect();
        assert_eq!(names.len(), 1, "only the target remains");
    }

    #[test]
    fn planted_symlinks_are_replaced_or_refused_never_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").expect("victim");
        let target = dir.path().join("net.xml");
        symlink(&victim, &target).expect("symlink");
        assert!(
            read_nofollow(&target).is_err(),
            "a link is not read through"
        );
        write_atomic(&target, b"new").expect("write replaces the link");
        assert_eq!(fs::read_to_string(&victim).expect("victim"), "precious");
        assert_eq!(read_nofollow(&target).expect("read"), Some("new".into()));
        assert!(!fs::symlink_metadata(&target).expect("meta").is_symlink());
    }

    #[test]
    fn stale_temps_of_dead_writers_are_cleaned() {
        let dir = tempfile::tempdir().expect("tempdir");
        // pid 0 never exists as a process directory; ours does.
        let stale = dir.path().join(".n.xml.tmp.0.deadbeef");
        let live = dir
            .path()
            .join(format!(".n.xml.tmp.{}.1", std::process::id()));
        fs::write(&stale, "x").expect("stale");
        fs::write(&live, "x").expect("live");
        write_atomic(&dir.path().join("n.xml"), b"ok").expect("write");
        assert!(!stale.exists());
        assert!(live.exists(), "a live writer's temp file is left alone");
    }
}
