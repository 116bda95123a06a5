//! A small world for backend tests, all in namespaces the test makes: a "host" namespace where
//! switchyard runs (as the real binary, `ip netns exec HOST switchyard --home TMP …`), an
//! "upstream" namespace behind the host's uplink, and guests attached to bridges.

use std::net::UdpSocket;
use std::process::Output;
use std::sync::mpsc;
use std::time::Duration;

use switchyard::host::NetnsGuard;

use super::{end_processes_in, run_ok, stdout, Guest, TestNetns};

pub const UPLINK_HOST: &str = "203.0.113.2";
pub const UPSTREAM: &str = "203.0.113.1";

pub struct World {
    pub host: TestNetns,
    pub up: NetnsGuard,
    pub home: tempfile::TempDir,
}

impl Drop for World {
    /// The dnsmasq runtime folder of this home may sit outside it (under /run, when the home
    /// is private): it goes too. (Processes in the namespace end with `host`.)
    fn drop(&mut self) {
        end_processes_in(self.host.path());
        let dir = switchyard::host::dnsmasq::runtime_dir(&self.home.path().join("run"));
        if !dir.starts_with(self.home.path()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl World {
    /// `None` when the test should skip (not root, outside CI).
    pub fn new(tag: &str) -> Option<World> {
        if !super::require_tool("dnsmasq") || !super::require_tool("nft") {
            return None;
        }
        let host = TestNetns::new(tag)?;
        let up = NetnsGuard::create(&format!("{tag}u")).expect("upstream namespace");
        let (h, u) = (host.name().to_owned(), up.name().to_owned());
        run_ok(
            "ip",
            &[
                "-n", &h, "link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns",
                &u,
            ],
        );
        run_ok(
            "ip",
            &[
                "-n",
                &h,
                "addr",
                "add",
                &format!("{UPLINK_HOST}/24"),
                "dev",
                "uplink",
            ],
        );
        run_ok("ip", &["-n", &h, "link", "set", "uplink", "up"]);
        run_ok(
            "ip",
            &[
                "-n",
                &u,
                "addr",
                "add",
                &format!("{UPSTREAM}/24"),
                "dev",
                "eth0",
            ],
        );
        run_ok("ip", &["-n", &u, "link", "set", "eth0", "up"]);
        run_ok("ip", &["-n", &u, "link", "set", "lo", "up"]);
        run_ok(
            "ip",
            &["-n", &h, "route", "add", "default", "via", UPSTREAM],
        );
        let home = tempfile::tempdir().expect("home");
        Some(World { host, up, home })
    }

    /// Runs the switchyard binary inside the host namespace.
    pub fn sy(&self, args: &[&str]) -> Output {
        self.sy_env(args, &[])
    }

    pub fn sy_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.sy_command(args);
        cmd.envs(env.iter().copied());
        cmd.output().expect("run switchyard")
    }

    pub fn sy_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            self.host.name(),
            env!("CARGO_BIN_EXE_switchyard"),
            "--home",
        ])
        .arg(self.home.path())
        .args(args);
        cmd
    }

    /// Whether a link of this name exists in the host namespace.
    pub fn link_exists(&self, name: &str) -> bool {
        std::process::Command::new("ip")
            .args(["-n", self.host.name(), "link", "show", name])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Waits (up to 5 s) until `name` is gone: the kernel removes a dropped guest namespace, and
    /// with it the host end of its veth, asynchronously.
    pub fn wait_link_gone(&self, name: &str) {
        for _ in 0..250 {
            if !self.link_exists(name) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("{name} is still there 5 s after its guest namespace was removed");
    }

    /// Runs switchyard and insists it succeeded, returning stdout.
    pub fn sy_ok(&self, args: &[&str]) -> String {
        let out = self.sy(args);
        assert!(
            out.status.success(),
            "switchyard {args:?} failed: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out)
    }

    /// Everything in the host namespace that start may change, as text.
    pub fn snapshot(&self) -> String {
        let h = self.host.name();
        let ip = |args: &[&str]| {
            let mut full = vec!["-n", h];
            full.extend_from_slice(args);
            stdout(&run_ok("ip", &full))
        };
        let nft = stdout(&run_ok(
            "ip",
            &["netns", "exec", h, "nft", "list", "ruleset"],
        ));
        let fwd = stdout(&run_ok(
            "ip",
            &["netns", "exec", h, "cat", "/proc/sys/net/ipv4/ip_forward"],
        ));
        let list = |dir: &std::path::Path| {
            let mut names = std::fs::read_dir(dir)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            names.sort();
            names
        };
        let mut files = list(&self.home.path().join("run"));
        files.extend(
            list(&self.dnsmasq_dir())
                .into_iter()
                .map(|f| format!("dnsmasq/{f}")),
        );
        format!(
            "# link\n{}# addr\n{}# route\n{}# route6\n{}# nft\n{nft}# ip_forward {fwd}# dnsmasq {:?}\n# run files {files:?}\n",
            scrub_timers(&ip(&["-d", "link"])),
            // IPv6 duplicate address detection may still be running on the uplink.
            ip(&["addr"]).replace(" tentative", ""),
            ip(&["route"]),
            ip(&["-6", "route"]),
            self.dnsmasq_pids(),
        )
    }

    /// Where this world's dnsmasq files go (under /run when the home is private).
    pub fn dnsmasq_dir(&self) -> std::path::PathBuf {
        switchyard::host::dnsmasq::runtime_dir(&self.home.path().join("run"))
    }

    /// Pids of dnsmasq processes whose command line names this world's dnsmasq folder.
    pub fn dnsmasq_pids(&self) -> Vec<u32> {
        let home = self.dnsmasq_dir().to_string_lossy().into_owned();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut pids: Vec<u32> = dir
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| {
                        String::from_utf8_lossy(&c).contains(&home)
                            && String::from_utf8_lossy(&c).contains("dnsmasq")
                    })
                    .unwrap_or(false)
            })
            .collect();
        pids.sort();
        pids
    }

    /// The bridge of a network, from `list --json`.
    pub fn bridge_of(&self, network: &str) -> String {
        let list: serde_json::Value =
            serde_json::from_str(&self.sy_ok(&["list", "--all", "--json"])).expect("json");
        list.as_array()
            .and_then(|a| a.iter().find(|n| n["name"] == network))
            .and_then(|n| n["bridge"].as_str())
            .expect("network has a bridge")
            .to_owned()
    }

    /// Drift lines of a network, from `list --json`.
    pub fn drift_of(&self, network: &str) -> Vec<String> {
        let list: serde_json::Value =
            serde_json::from_str(&self.sy_ok(&["list", "--all", "--json"])).expect("json");
        let net = list
            .as_array()
            .and_then(|a| a.iter().find(|n| n["name"] == network))
            .cloned();
        net.and_then(|n| n["drift"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|d| d.as_str().map(str::to_owned))
            .collect()
    }

    /// Sends one UDP datagram from `guest` to the upstream and returns the source address the
    /// upstream saw, or `None` if nothing arrived within two seconds.
    pub fn upstream_sees(&self, guest: &Guest) -> Option<String> {
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            let listener = s.spawn(|| {
                self.up
                    .run(move || {
                        // A listener of an earlier call may still be closing: retry a moment.
                        let mut bound = UdpSocket::bind((UPSTREAM, 9000));
                        for _ in 0..20 {
                            if bound.is_ok() {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(50));
                            bound = UdpSocket::bind((UPSTREAM, 9000));
                        }
                        let sock = bound.expect("bind upstream");
                        sock.set_read_timeout(Some(Duration::from_secs(2)))
                            .expect("timeout");
                        tx.send(()).expect("signal");
                        let mut buf = [0u8; 64];
                        sock.recv_from(&mut buf)
                            .ok()
                            .map(|(_, from)| from.ip().to_string())
                    })
                    .expect("enter upstream")
            });
            rx.recv().expect("listener ready");
            let _ = guest.netns().run(|| {
                let sock = UdpSocket::bind("0.0.0.0:0").expect("bind guest");
                let _ = sock.send_to(b"hello", (UPSTREAM, 9000));
            });
            listener.join().expect("listener thread")
        })
    }
}

/// A bridge's running timers (`gc_timer  299.86`) replaced by `-`: they tick between looks.
fn scrub_timers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("_timer ") {
        let (head, tail) = rest.split_at(at + "_timer".len());
        out.push_str(head);
        let value = tail.trim_start_matches(' ');
        let end = value
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(value.len());
        out.push_str(" -");
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// The udhcpc script: configures the lease and writes the address to `$LEASE_OUT`.
const UDHCPC_SCRIPT: &str = r#"#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    if [ -n "$router" ]; then ip route add default via "${router%% *}" dev "$interface"; fi
    echo "$ip" > "$LEASE_OUT"
    ;;
esac
exit 0
"#;

/// Gets a DHCP lease in `guest` with busybox udhcpc, sending `hostname`. Returns the address.
pub fn dhcp(guest: &Guest, hostname: &str) -> Option<String> {
    let dir = tempfile::tempdir().expect("script dir");
    let script = dir.path().join("udhcpc.sh");
    std::fs::write(&script, UDHCPC_SCRIPT).expect("write script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let lease_out = dir.path().join("lease");
    let child = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            guest.netns().name(),
            "busybox",
            "udhcpc",
            "-i",
            "eth0",
            "-n",
            "-q",
            "-t",
            "8",
            "-T",
            "1",
            "-x",
        ])
        .arg(format!("hostname:{hostname}"))
        .arg("-s")
        .arg(&script)
        .env("LEASE_OUT", &lease_out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run udhcpc");
    // udhcpc starts over without end when a server refuses it, even with -n: give up after
    // 20 s, ending it by its pid.
    let out = wait_or_kill(child, std::time::Duration::from_secs(20));
    if !out.as_ref().is_some_and(|o| o.status.success()) {
        let why = out.map(|o| String::from_utf8_lossy(&o.stderr).into_owned());
        eprintln!(
            "udhcpc failed: {}",
            why.unwrap_or_else(|| "timed out".into())
        );
        return None;
    }
    std::fs::read_to_string(&lease_out)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// The output of `child` if it ends within `limit`, else `None` after killing it.
fn wait_or_kill(
    mut child: std::process::Child,
    limit: std::time::Duration,
) -> Option<std::process::Output> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().ok();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Whether `guest` gets an answer to one ping of `addr`.
pub fn pings(guest: &Guest, addr: &str) -> bool {
    guest
        .exec(&["busybox", "ping", "-c", "1", "-W", "2", addr])
        .status
        .success()
}
