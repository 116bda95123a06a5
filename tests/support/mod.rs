//! Helpers shared by the real-kernel tests (`mod support;`): skip rules, throwaway network
//! namespaces and guests attached to a bridge.
//!
//! Everything here acts only inside namespaces the test creates; nothing touches the
//! machine's own namespace.
#![allow(dead_code)] // each test binary uses a different subset

pub mod dns;
pub mod links;
pub mod pty;
pub mod traffic;
pub mod world;

use std::future::Future;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use switchyard::host::{Netlink, NetnsGuard};

/// True when running under CI (CI=true), where missing prerequisites are failures.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// True when the test may proceed as root. Outside CI a non-root run prints
/// "skipped: needs root" and returns false; under CI it panics.
pub fn require_root_or_skip() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(
        !in_ci(),
        "this test needs root (CI=true, so it fails instead of skipping)"
    );
    eprintln!("skipped: needs root");
    false
}

/// Where `name` is installed, searching PATH and the sbin directories.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// True when `name` is installed. Outside CI a missing tool prints "skipped: needs NAME" and
/// returns false; under CI it panics.
pub fn require_tool(name: &str) -> bool {
    if find_tool(name).is_some() {
        return true;
    }
    assert!(
        !in_ci(),
        "this test needs the `{name}` program (CI=true, so it fails instead of skipping)"
    );
    eprintln!("skipped: needs {name}");
    false
}

/// Runs a program (argument vector, no shell) and panics with its stderr if it fails.
pub fn run_ok(program: &str, args: &[&str]) -> Output {
    let exe = find_tool(program).unwrap_or_else(|| panic!("`{program}` is not installed"));
    let out = Command::new(&exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Stdout of a command as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Names of the namespaces `ip netns list` shows.
pub fn ip_netns_list() -> Vec<String> {
    let out = run_ok("ip", &["netns", "list"]);
    stdout(&out)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// A throwaway named namespace with `lo` up, deleted on drop (also when the test panics).
pub struct TestNetns {
    guard: NetnsGuard,
}

impl TestNetns {
    /// A new namespace, or `None` (after saying why) when the test must be skipped.
    pub fn new(prefix: &str) -> Option<TestNetns> {
        if !require_root_or_skip() || !require_tool("ip") {
            return None;
        }
        let guard = NetnsGuard::create(prefix).expect("create test namespace");
        guard
            .enable_loopback()
            .expect("set lo up in test namespace");
        Some(TestNetns { guard })
    }

    /// Runs a future on a runtime inside the namespace.
    pub fn block_on<M, Fut>(&self, make: M) -> Fut::Output
    where
        M: FnOnce() -> Fut + Send,
        Fut: Future,
        Fut::Output: Send,
    {
        self.guard.block_on(make).expect("enter test namespace")
    }

    /// Runs `f` with a fresh `Netlink` connected inside the namespace.
    pub fn with_netlink<F, Fut>(&self, f: F) -> Fut::Output
    where
        F: FnOnce(Netlink) -> Fut + Send,
        Fut: Future,
        Fut::Output: Send,
    {
        self.block_on(|| async {
            let nl = Netlink::connect()
                .await
                .expect("connect rtnetlink in namespace");
            f(nl).await
        })
    }

    /// The namespace's name (for `ip netns exec`).
    pub fn name(&self) -> &str {
        self.guard.name()
    }

    /// `ip -n NAME ARGS…`, panicking on failure.
    pub fn ip(&self, args: &[&str]) -> Output {
        let mut full = vec!["-n", self.guard.name()];
        full.extend_from_slice(args);
        run_ok("ip", &full)
    }
}

impl Drop for TestNetns {
    /// Ends what still runs inside the namespace (a dnsmasq a failed test did not stop), so a
    /// failing test leaves no process behind.
    fn drop(&mut self) {
        end_processes_in(self.guard.path());
    }
}

/// Sends SIGTERM (then SIGKILL) to every process whose network namespace is the one mounted
/// at `netns_path`: only processes a test started can live in a namespace the test made.
pub fn end_processes_in(netns_path: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(ns) = std::fs::metadata(netns_path) else {
        return;
    };
    let inside = |pid: i32| {
        std::fs::metadata(format!("/proc/{pid}/ns/net"))
            .is_ok_and(|m| m.ino() == ns.ino() && m.dev() == ns.dev())
    };
    let pids: Vec<i32> = std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .filter(|p| *p != std::process::id() as i32 && inside(*p))
                .collect()
        })
        .unwrap_or_default();
    for sig in [nix::sys::signal::SIGTERM, nix::sys::signal::SIGKILL] {
        for pid in &pids {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), sig);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

impl Deref for TestNetns {
    type Target = NetnsGuard;
    fn deref(&self) -> &NetnsGuard {
        &self.guard
    }
}

/// A guest: its own namespace whose `eth0` is one end of a veth pair, the other end (named
/// `ve-<guest>` in the host namespace) enslaved to a bridge and up.
pub struct Guest {
    netns: NetnsGuard,
    host_end: String,
}

impl Guest {
    /// Attaches a new guest called `guest_name` (at most 12 bytes) to `bridge` in `ns`.
    pub fn attach(ns: &NetnsGuard, bridge: &str, guest_name: &str) -> Guest {
        assert!(
            guest_name.len() <= 12,
            "guest name {guest_name:?} is longer than 12 bytes"
        );
        let netns = NetnsGuard::create(guest_name).expect("create guest namespace");
        let host_end = format!("ve-{guest_name}");
        let guest = Guest { netns, host_end };
        let host = ns.name();
        let peer_ns = guest.netns.name();
        run_ok(
            "ip",
            &[
                "-n",
                host,
                "link",
                "add",
                &guest.host_end,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                peer_ns,
            ],
        );
        run_ok(
            "ip",
            &[
                "-n",
                host,
                "link",
                "set",
                &guest.host_end,
                "master",
                bridge,
                "up",
            ],
        );
        run_ok("ip", &["-n", peer_ns, "link", "set", "lo", "up"]);
        run_ok("ip", &["-n", peer_ns, "link", "set", "eth0", "up"]);
        guest
    }

    /// Runs a command inside the guest (`ip netns exec GUEST ARGS…`); does not check status.
    pub fn exec(&self, args: &[&str]) -> Output {
        let ip = find_tool("ip").expect("ip is installed");
        Command::new(ip)
            .args(["netns", "exec", self.netns.name()])
            .args(args)
            .output()
            .expect("run command in guest namespace")
    }

    /// Name of the bridge-side veth end.
    pub fn host_end(&self) -> &str {
        &self.host_end
    }

    /// The guest's namespace.
    pub fn netns(&self) -> &NetnsGuard {
        &self.netns
    }
}
