//! Network namespaces: named persistent ones (compatible with `ip netns`) for tests and the
//! sandbox, and anonymous per-thread ones for tests.
//!
//! Namespace membership is per thread: work runs on a fresh OS thread that has setns()'d into
//! the namespace, so netlink sockets, /proc/sys/net and child processes started there all
//! belong to it.

use std::fs::{self, File, OpenOptions};
use std::future::Future;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use super::error::HostError;
use super::netlink::Netlink;

/// Where `ip netns` keeps its named namespaces.
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// Identity of a network namespace (device and inode of its nsfs file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetnsId {
    dev: u64,
    ino: u64,
}

/// The network namespace of the calling thread.
pub fn current_netns_id() -> std::io::Result<NetnsId> {
    netns_id_of(Path::new("/proc/thread-self/ns/net"))
}

impl NetnsId {
    /// The inode number of the namespace's nsfs file: what `ls -i /proc/self/ns/net` shows,
    /// and what tells one network namespace from another on a running system.
    pub fn inode(self) -> u64 {
        self.ino
    }
}

fn netns_id_of(path: &Path) -> std::io::Result<NetnsId> {
    let meta = fs::metadata(path)?;
    Ok(NetnsId {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

/// A named network namespace under /run/netns, deleted on drop (also while unwinding).
///
/// Dropping unmounts and unlinks the name; the kernel destroys the namespace and its links
/// once nothing else holds it. Processes started inside are the caller's to stop first.
#[derive(Debug)]
pub struct NetnsGuard {
    name: String,
    path: PathBuf,
}

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

impl NetnsGuard {
    /// Creates a fresh namespace named `sy-<prefix>-<pid>-<counter>`.
    pub fn create(prefix: &str) -> Result<Self, HostError> {
        check_prefix(prefix)?;
        ensure_run_dir()?;
        let mut attempts = 0;
        loop {
            let name = format!(
                "sy-{prefix}-{}-{}",
                std::process::id(),
                NEXT_ID.fetch_add(1, Ordering::Relaxed)
            );
            match Self::create_at(name) {
                Err(HostError::Exists { .. }) if attempts < 8 => attempts += 1,
                other => return other,
            }
        }
    }

    /// Creates a namespace with exactly this name; `Exists` if one has it already.
    pub fn create_named(name: &str) -> Result<Self, HostError> {
        check_prefix(name)?;
        ensure_run_dir()?;
        Self::create_at(name.to_owned())
    }

    fn create_at(name: String) -> Result<Self, HostError> {
        let path = Path::new(NETNS_RUN_DIR).join(&name);
        let op = format!("create netns {name}");
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o000)
            .open(&path)
            .map_err(|e| HostError::from_io(&op, &e))?;
        // From here on, Drop removes the mount point even if mounting fails.
        let guard = NetnsGuard { name, path };
        bind_new_netns(&guard.path).map_err(|errno| HostError::from_errno(&op, errno as i32))?;
        Ok(guard)
    }

    /// The namespace's name, as `ip netns` shows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// /run/netns/NAME.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the namespace file (for setns or moving links in by fd).
    pub fn open(&self) -> Result<File, HostError> {
        File::open(&self.path)
            .map_err(|e| HostError::from_io(format!("open netns {}", self.name), &e))
    }

    /// Identity of this namespace, to compare with `current_netns_id`.
    pub fn id(&self) -> Result<NetnsId, HostError> {
        netns_id_of(&self.path)
            .map_err(|e| HostError::from_io(format!("stat netns {}", self.name), &e))
    }

    /// Runs `f` on a new OS thread inside the namespace and returns its result; a panic in
    /// `f` is resumed on the caller.
    pub fn run<F, T>(&self, f: F) -> Result<T, HostError>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        let ns = self.open()?;
        let op = format!("enter netns {}", self.name);
        on_thread(&self.name, move || {
            setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)
                .map_err(|errno| HostError::from_errno(op, errno as i32))?;
            drop(ns);
            Ok(f())
        })
    }

    /// Runs the future made by `make` to completion on a current-thread tokio runtime inside
    /// the namespace.
    pub fn block_on<M, Fut>(&self, make: M) -> Result<Fut::Output, HostError>
    where
        M: FnOnce() -> Fut + Send,
        Fut: Future,
        Fut::Output: Send,
    {
        let op = format!("start runtime in netns {}", self.name);
        self.run(move || block_on_here(&op, make))?
    }

    /// Sets `lo` up inside the namespace.
    pub fn enable_loopback(&self) -> Result<(), HostError> {
        self.block_on(|| async { Netlink::connect().await?.set_up("lo").await })?
    }

    /// Deletes the namespace now, reporting failures that Drop would ignore.
    pub fn delete(mut self) -> Result<(), HostError> {
        let result = remove_netns(&self.name, &self.path);
        self.path = PathBuf::new();
        result
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = remove_netns(&self.name, &self.path);
        }
    }
}

/// Runs `f` on a new OS thread inside a new anonymous network namespace that disappears with
/// the thread (unless something started there keeps it alive).
pub fn in_new_netns<F, T>(f: F) -> Result<T, HostError>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    on_thread("anonymous", move || {
        unshare(CloneFlags::CLONE_NEWNET)
            .map_err(|errno| HostError::from_errno("create anonymous netns", errno as i32))?;
        Ok(f())
    })
}

fn block_on_here<M, Fut>(op: &str, make: M) -> Result<Fut::Output, HostError>
where
    M: FnOnce() -> Fut,
    Fut: Future,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| HostError::from_io(op, &e))?;
    Ok(runtime.block_on(make()))
}

/// Runs `body` on a named scoped thread, resuming its panic on the caller.
fn on_thread<F, T>(label: &str, body: F) -> Result<T, HostError>
where
    F: FnOnce() -> Result<T, HostError> + Send,
    T: Send,
{
    thread::scope(|scope| {
        let handle = thread::Builder::new()
            .name(format!("netns-{label}"))
            .spawn_scoped(scope, body)
            .map_err(|e| HostError::from_io(format!("spawn thread for netns {label}"), &e))?;
        match handle.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

fn check_prefix(prefix: &str) -> Result<(), HostError> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 32
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(HostError::invalid(
            format!("create netns with prefix {prefix:?}"),
            "prefix must be 1-32 ASCII letters, digits, '-' or '_'",
        ))
    }
}

/// Creates /run/netns and makes it a shared mount, as `ip netns add` does, so unmounting a
/// namespace file propagates to other mount namespaces. Serialised with `ip` by flock.
fn ensure_run_dir() -> Result<(), HostError> {
    let op = "prepare /run/netns";
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(NETNS_RUN_DIR)
        .map_err(|e| HostError::from_io(op, &e))?;
    let dir = File::open(NETNS_RUN_DIR).map_err(|e| HostError::from_io(op, &e))?;
    let _lock = Flock::lock(dir, FlockArg::LockExclusive)
        .map_err(|(_, errno)| HostError::from_errno(op, errno as i32))?;
    make_run_dir_shared().map_err(|errno| HostError::from_errno(op, errno as i32))
}

fn make_run_dir_shared() -> Result<(), Errno> {
    let none = None::<&str>;
    let shared = MsFlags::MS_SHARED | MsFlags::MS_REC;
    match mount(none, NETNS_RUN_DIR, Some("none"), shared, none) {
        Err(Errno::EINVAL) => {
            // Not a mount point yet: bind it onto itself, then share it.
            let bind = MsFlags::MS_BIND | MsFlags::MS_REC;
            mount(Some(NETNS_RUN_DIR), NETNS_RUN_DIR, Some("none"), bind, none)?;
            mount(none, NETNS_RUN_DIR, Some("none"), shared, none)
        }
        other => other,
    }
}

/// Unshares a new network namespace on a scratch thread and bind-mounts it onto `target`.
fn bind_new_netns(target: &Path) -> Result<(), Errno> {
    thread::scope(|scope| {
        let handle = scope.spawn(|| {
            unshare(CloneFlags::CLONE_NEWNET)?;
            let none = None::<&str>;
            mount(
                Some("/proc/thread-self/ns/net"),
                target,
                Some("none"),
                MsFlags::MS_BIND,
                none,
            )
        });
        handle.join().unwrap_or(Err(Errno::EFAULT))
    })
}

fn remove_netns(name: &str, path: &Path) -> Result<(), HostError> {
    let op = format!("delete netns {name}");
    let unmounted = umount2(path, MntFlags::MNT_DETACH);
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(HostError::from_io(op, &e)),
        _ => unmounted.map_err(|errno| HostError::from_errno(op, errno as i32)),
    }
}
