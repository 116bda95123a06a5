//! One dnsmasq per network: started with an argument vector, its pid recorded in a pid file,
//! and stopped only after checking the pid still belongs to the dnsmasq we started.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Failures of dnsmasq management, in dnsmasq's own words where it gave some.
#[derive(Debug, thiserror::Error)]
pub enum DnsmasqError {
    #[error("cannot run dnsmasq ({0}); install it with: apt-get install dnsmasq-base")]
    Spawn(std::io::Error),
    #[error("dnsmasq refused to start: {0}")]
    Failed(String),
    #[error("dnsmasq started but wrote no pid file {0}")]
    NoPid(String),
    #[error("cannot stop dnsmasq pid {pid}: {message}")]
    Stop { pid: i32, message: String },
}

/// Starts dnsmasq with `conf` in daemon mode. dnsmasq only returns once it has read its
/// configuration and bound its sockets, so a bad option or a busy port is reported here.
pub fn start(conf: &Path, pid_file: &Path) -> Result<i32, DnsmasqError> {
    if std::env::var_os(FOREGROUND_ENV).is_some() {
        return start_foreground(conf, pid_file);
    }
    let out = Command::new("dnsmasq")
        .arg(format!("--conf-file={}", conf.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(DnsmasqError::Spawn)?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(DnsmasqError::Failed(msg));
    }
    read_pid(pid_file).ok_or_else(|| DnsmasqError::NoPid(pid_file.display().to_string()))
}

/// The account a network's dnsmasq drops its privileges to, and the group its hosts files
/// belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: String,
    /// The user's primary group: name and id.
    pub group: Option<(String, u32)>,
}

/// Who dnsmasq runs as: its own `dnsmasq` account where the system has one (Debian's
/// dnsmasq-base makes it), else `nobody`; root only in the rootless sandbox, whose user
/// namespace maps no other user.
pub fn account() -> Account {
    use nix::unistd::{Group, User};
    if std::env::var_os(FOREGROUND_ENV).is_some() {
        return Account {
            user: "root".into(),
            group: None,
        };
    }
    let user = ["dnsmasq", "nobody"]
        .into_iter()
        .find_map(|name| User::from_name(name).ok().flatten());
    let Some(user) = user else {
        return Account {
            user: "nobody".into(),
            group: None,
        };
    };
    let group = Group::from_gid(user.gid)
        .ok()
        .flatten()
        .map(|g| (g.name, g.gid.as_raw()));
    Account {
        user: user.name,
        group,
    }
}

/// The folder a network's dnsmasq reads its files from: `run/dnsmasq` when every folder above
/// it lets other users through (its unprivileged user re-reads the hosts files there), else a
/// folder of its own under /run named after `run` (a `--home` inside a private folder).
pub fn runtime_dir(run: &Path) -> std::path::PathBuf {
    if std::env::var_os(FOREGROUND_ENV).is_some() || traversable(run) {
        return run.join("dnsmasq");
    }
    // FNV-1a: stable across releases, so the same home finds the same folder.
    let hash = run
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    Path::new("/run/switchyard-dnsmasq").join(format!("{hash:016x}"))
}

/// Whether `dir` and every folder above it let other users through.
fn traversable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    dir.ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .all(|a| match std::fs::metadata(a) {
            Ok(m) => m.permissions().mode() & 0o001 != 0,
            // Not made yet: start makes it traversable.
            Err(_) => true,
        })
}

/// Set (by the unprivileged sandbox) when dnsmasq must not daemonize: inside a user namespace
/// its privilege drop fails, and `--no-daemon` is the mode that keeps its user.
pub const FOREGROUND_ENV: &str = "SWITCHYARD_DNSMASQ_FOREGROUND";

/// Starts dnsmasq with `--no-daemon` in a session of its own, writes its pid file, and gives it
/// a moment to fail on a bad config or a busy port (it exits at once then).
fn start_foreground(conf: &Path, pid_file: &Path) -> Result<i32, DnsmasqError> {
    use std::os::unix::process::CommandExt;
    // It logs to stderr in this mode: into a file beside the pid file, read back on failure.
    let log_path = pid_file.with_extension("log");
    let log = fs::File::create(&log_path).map_err(DnsmasqError::Spawn)?;
    let mut cmd = Command::new("dnsmasq");
    cmd.arg("--no-daemon")
        .arg(format!("--conf-file={}", conf.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0);
    let mut child = cmd.spawn().map_err(DnsmasqError::Spawn)?;
    let deadline = Instant::now() + Duration::from_millis(150);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            let msg = fs::read_to_string(&log_path).unwrap_or_default();
            return Err(DnsmasqError::Failed(msg.trim().to_owned()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = child.id() as i32;
    crate::store::write_atomic(pid_file, format!("{pid}\n").as_bytes())
        .map_err(|e| DnsmasqError::Failed(e.to_string()))?;
    // Reap it when it ends, so a stopped dnsmasq does not linger as a zombie.
    std::thread::spawn(move || child.wait());
    Ok(pid)
}

/// The pid in `pid_file`, if it holds one.
pub fn read_pid(pid_file: &Path) -> Option<i32> {
    fs::read_to_string(pid_file).ok()?.trim().parse().ok()
}

/// Pure: whether a process command line is dnsmasq running `conf`.
pub fn is_our_dnsmasq(cmdline: &[u8], conf: &Path) -> bool {
    let want = format!("--conf-file={}", conf.display());
    let mut args = cmdline.split(|b| *b == 0).filter(|a| !a.is_empty());
    let Some(prog) = args.next() else {
        return false;
    };
    let is_dnsmasq = Path::new(&*String::from_utf8_lossy(prog))
        .file_name()
        .is_some_and(|n| n == "dnsmasq");
    is_dnsmasq && args.any(|a| a == want.as_bytes())
}

/// The pid of the live dnsmasq serving `conf`: the one `pid_file` names if its command line
/// says so, else (a deleted or stale pid file) the one found by its command line.
pub fn running(pid_file: &Path, conf: &Path) -> Option<i32> {
    let by_file = read_pid(pid_file).filter(|pid| {
        fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| is_our_dnsmasq(&c, conf))
    });
    by_file.or_else(|| find_by_conf(conf))
}

/// The live dnsmasq whose command line names `conf`, found by scanning /proc.
pub fn find_by_conf(conf: &Path) -> Option<i32> {
    let entries = fs::read_dir("/proc").ok()?;
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| is_our_dnsmasq(&c, conf))
                && alive(*pid)
        })
}

/// The running dnsmasq that reads `path` (its configuration, hosts files or pid file, which
/// share the configuration's stem), if any.
///
/// A file whose configuration and pid file are both gone has none: every dnsmasq of ours is
/// started with that configuration and writes that pid file, so there is nothing to look for
/// in every process's command line (a look that grows with the number of processes).
pub fn reader_of(path: &Path) -> Option<i32> {
    let conf = path.with_extension("conf");
    let pid_file = path.with_extension("pid");
    if !conf.exists() && !pid_file.exists() {
        return None;
    }
    running(&pid_file, &conf)
}

/// Stops the dnsmasq serving `conf` (SIGTERM, then SIGKILL after a second) and removes the pid
/// file. A pid that is gone or now belongs to another program is left alone.
pub fn stop(pid_file: &Path, conf: &Path) -> Result<(), DnsmasqError> {
    let pids: Vec<i32> = signal_stop(pid_file, conf)?.into_iter().collect();
    wait_gone(&pids);
    Ok(())
}

/// Sends SIGTERM to the dnsmasq serving `conf` and removes the pid file, without waiting for
/// it to exit; returns the pid to pass to [`wait_gone`] once the other work is done.
pub fn signal_stop(pid_file: &Path, conf: &Path) -> Result<Option<i32>, DnsmasqError> {
    let pid = running(pid_file, conf);
    if let Some(pid) = pid {
        kill(Pid::from_raw(pid), Signal::SIGTERM).map_err(|e| DnsmasqError::Stop {
            pid,
            message: e.desc().to_owned(),
        })?;
    }
    let _ = fs::remove_file(pid_file);
    let _ = fs::remove_file(pid_file.with_extension("log"));
    Ok(pid)
}

/// Tells dnsmasq `pid` to re-read its hosts files (SIGHUP).
pub fn reload(pid: i32) -> Result<(), DnsmasqError> {
    kill(Pid::from_raw(pid), Signal::SIGHUP).map_err(|e| DnsmasqError::Stop {
        pid,
        message: e.desc().to_owned(),
    })
}

/// Waits up to a second for `pids` to exit, then SIGKILLs what is left.
pub fn wait_gone(pids: &[i32]) {
    let deadline = Instant::now() + Duration::from_secs(1);
    while pids.iter().any(|p| alive(*p)) {
        if Instant::now() > deadline {
            for pid in pids.iter().filter(|p| alive(**p)) {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether `pid` is a live process (zombies count as gone).
pub fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Read and parse a lease file; a file that does not exist (yet) reads as empty.
pub fn read_leases(path: &Path) -> std::io::Result<crate::telemetry::LeaseFile> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(crate::telemetry::leases::parse_leases(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_our_dnsmasq() {
        let conf = Path::new("/run/switchyard/lab.conf");
        let ours = b"/usr/sbin/dnsmasq\0--conf-file=/run/switchyard/lab.conf\0";
        let other_net = b"dnsmasq\0--conf-file=/run/switchyard/web.conf\0";
        let not_dnsmasq = b"/bin/sleep\0--conf-file=/run/switchyard/lab.conf\0";
        assert!(is_our_dnsmasq(ours, conf));
        assert!(!is_our_dnsmasq(other_net, conf));
        assert!(!is_our_dnsmasq(not_dnsmasq, conf));
        assert!(!is_our_dnsmasq(b"", conf));
    }

    #[test]
    fn own_process_is_alive_and_missing_pid_file_is_none() {
        assert!(alive(std::process::id() as i32));
        assert_eq!(read_pid(Path::new("/nonexistent/pid")), None);
    }
}
