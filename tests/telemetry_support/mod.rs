//! Throwaway network namespaces for the telemetry kernel tests.
//!
//! A [`Netns`] is a thread that calls `unshare(CLONE_NEWNET)` first and then runs the closures
//! it is given; programs it starts inherit its namespace. The namespace has no name and no
//! mount: it disappears with its thread (and the links in it with it), on success and on panic.
//! Commands refuse to run unless the calling thread is verifiably in such a namespace, so a test
//! can never touch the machine's own network.

#![allow(dead_code)] // each test file uses a different part

use std::os::unix::fs::MetadataExt;
use std::panic::{self, AssertUnwindSafe};
use std::process::Command;
use std::sync::mpsc;
use std::thread::JoinHandle;

use nix::sched::{unshare, CloneFlags};

type Job = Box<dyn FnOnce() + Send>;

/// Skip (outside CI) or fail (CI=true) a test that cannot run here.
pub fn skip_or_fail(test: &str, reason: &str) -> Option<std::convert::Infallible> {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: cannot run in CI: {reason}");
    }
    eprintln!("{test}: skipped: {reason}");
    None
}

/// Inode of a namespace file, which identifies the namespace.
fn ns_inode(path: &str) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {path}: {e}"))
        .ino()
}

/// Panic unless the calling thread is in a network namespace other than the process's main one.
pub fn assert_in_test_netns() {
    let here = ns_inode("/proc/thread-self/ns/net");
    let main = ns_inode("/proc/self/ns/net");
    assert_ne!(
        here, main,
        "refusing to touch the machine's own network namespace"
    );
}

/// Run a program (argument vector, no shell) in the calling thread's test namespace; panics
/// with its stderr if it fails; returns stdout.
pub fn cmd(argv: &[&str]) -> String {
    assert_in_test_netns();
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    assert!(
        out.status.success(),
        "{argv:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether a program can be started at all.
pub fn tool_available(name: &str, probe_arg: &str) -> bool {
    Command::new(name).arg(probe_arg).output().is_ok()
}

/// Root, `ip` and the given extra tools, or skip/fail with a clear message.
pub fn preflight(test: &str, tools: &[(&str, &str)]) -> Option<()> {
    if !nix::unistd::geteuid().is_root() {
        skip_or_fail(test, "needs root (network namespaces, veth, tun)")?;
    }
    for &(tool, probe) in [("ip", "-V")].iter().chain(tools) {
        if !tool_available(tool, probe) {
            skip_or_fail(test, &format!("needs the `{tool}` program"))?;
        }
    }
    Some(())
}

/// A thread living in its own fresh network namespace.
pub struct Netns {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    tid: i32,
}

impl Netns {
    /// Start the thread and its namespace; `None` (skip) or panic (CI) if unshare fails.
    pub fn new(test: &str) -> Option<Self> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<i32, String>>();
        let thread = std::thread::spawn(move || {
            let before = ns_inode("/proc/thread-self/ns/net");
            if let Err(e) = unshare(CloneFlags::CLONE_NEWNET) {
                let _ = ready_tx.send(Err(format!("unshare(CLONE_NEWNET): {e}")));
                return;
            }
            if ns_inode("/proc/thread-self/ns/net") == before {
                let _ = ready_tx.send(Err("unshare left the namespace unchanged".into()));
                return;
            }
            let _ = ready_tx.send(Ok(nix::unistd::gettid().as_raw()));
            for job in job_rx {
                job();
            }
        });
        let ready = ready_rx
            .recv()
            .unwrap_or_else(|_| Err("namespace thread died".into()));
        match ready {
            Ok(tid) => Some(Self {
                jobs: Some(jobs),
                thread: Some(thread),
                tid,
            }),
            Err(reason) => {
                let _ = thread.join();
                skip_or_fail(test, &reason)?;
                None
            }
        }
    }

    /// Kernel thread id of the namespace thread (usable as `ip … netns TID`).
    pub fn tid(&self) -> i32 {
        self.tid
    }

    /// Run `f` in the namespace and return its result; a panic in `f` is re-raised here.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(f)));
        });
        self.jobs
            .as_ref()
            .expect("jobs channel lives until drop")
            .send(job)
            .expect("namespace thread is running");
        match rx.recv().expect("namespace thread answers every job") {
            Ok(v) => v,
            Err(p) => panic::resume_unwind(p),
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
