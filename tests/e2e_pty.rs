//! The real binary in a pseudo-terminal: the TUI watching a namespace with a running network
//! and a guest sending traffic, and the sandbox from start to teardown (quit and SIGTERM).

mod support;

use std::net::UdpSocket;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::pty::PtyApp;
use support::world::{dhcp, World};
use support::Guest;

const WAIT: Duration = Duration::from_secs(20);

/// Whether a screen line shows a non-zero rate ("735 kb/s", "1.08 Mb/s", "334 b/s").
fn has_nonzero_rate(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(2)
        .any(|w| w[1].ends_with("b/s") && w[0].parse::<f64>().is_ok_and(|v| v > 0.0))
}

/// Sends UDP from the guest to its gateway until dropped.
struct Sender(Arc<AtomicBool>, Option<std::thread::JoinHandle<()>>);

impl Sender {
    fn start(guest: &Guest, target: &'static str) -> Sender {
        let stop = Arc::new(AtomicBool::new(false));
        let file = guest.netns().open().expect("open guest ns");
        let s = stop.clone();
        let handle = std::thread::spawn(move || {
            use std::os::fd::AsFd;
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            let sock = UdpSocket::bind("0.0.0.0:0").expect("bind");
            while !s.load(Ordering::Relaxed) {
                let _ = sock.send_to(&[0u8; 1000], target);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Sender(stop, Some(handle))
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        if let Some(h) = self.1.take() {
            let _ = h.join();
        }
    }
}

#[test]
fn tui_shows_a_guest_port_with_traffic_and_quits_cleanly() {
    let Some(world) = World::new("tui") else {
        return;
    };
    world.sy_ok(&[
        "create",
        "--name",
        "lab",
        "--mode",
        "nat",
        "--ipv4",
        "10.77.0.1/24",
        "--start",
    ]);
    let guest = Guest::attach(&world.host, "sybr0", "tuig");
    let ip = dhcp(&guest, "tuiguest").expect("lease");
    let _traffic = Sender::start(&guest, "10.77.0.1:9");
    let mut app = PtyApp::spawn(world.sy_command(&[]), 100, 30);
    app.wait_text("Networks", WAIT);
    app.send("2");
    let screen = app.wait_for(
        "the guest's port with its IP and a non-zero rate",
        WAIT,
        |s| {
            s.lines()
                .any(|l| l.contains("ve-tuig") && l.contains(&ip) && has_nonzero_rate(l))
        },
    );
    assert!(screen.contains("lab"), "{screen}");
    app.send("q");
    assert_eq!(app.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(app.restored(), "the terminal was restored");
    drop(guest);
    world.sy_ok(&["stop", "lab"]);
}

/// What a sandbox with process id `pid` would leave behind.
fn sandbox_leftovers(pid: u32) -> Vec<String> {
    let mut left = Vec::new();
    let suffix = format!("-{pid}");
    let prefix = format!("sbx{pid}-");
    if let Ok(dir) = std::fs::read_dir("/run/netns") {
        for e in dir.filter_map(|e| e.ok()) {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(&prefix) || n.ends_with(&suffix) {
                left.push(format!("namespace {n}"));
            }
        }
    }
    let home = format!("switchyard-sandbox-{pid}");
    if std::env::temp_dir().join(&home).exists() {
        left.push(format!("folder {home}"));
    }
    for entry in std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
    {
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(&home) || (cmd.contains("udhcpc") && cmd.contains(&suffix)) {
            left.push(format!("process {cmd}"));
        }
    }
    left
}

/// Starts a sandbox command in a pty and switches to its ports view once it is up.
fn open_sandbox_ports(cmd: Command) -> PtyApp {
    let mut app = PtyApp::spawn(cmd, 120, 32);
    app.wait_text("Networks", Duration::from_secs(30));
    app.send("2");
    app
}

fn sandbox_until_traffic() -> Option<PtyApp> {
    if !support::require_root_or_skip()
        || !support::require_tool("dnsmasq")
        || !support::require_tool("busybox")
    {
        return None;
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.arg("sandbox");
    let app = open_sandbox_ports(cmd);
    app.wait_for(
        "five guests with leased IPs and traffic",
        Duration::from_secs(30),
        |s| {
            let rows: Vec<&str> = s.lines().filter(|l| l.contains("vnet")).collect();
            rows.len() == 5
                && rows.iter().all(|l| {
                    l.contains("192.168.150.") || l.contains("10.10.0.") || l.contains("10.20.0.")
                })
                && rows.iter().filter(|l| has_nonzero_rate(l)).count() >= 4
        },
    );
    Some(app)
}

#[test]
fn sandbox_runs_and_leaves_nothing_after_quit() {
    let Some(mut app) = sandbox_until_traffic() else {
        return;
    };
    let pid = app.child.id();
    // Guests are named as the sandbox names them: the pid that keeps its namespaces apart
    // from others' is not part of what the operator reads.
    let ports = app.screen();
    assert!(
        ports.contains(" web1 ") && ports.contains(" db2 "),
        "guest names: {ports}"
    );
    assert!(
        !ports.contains(&format!("-{pid}")),
        "no pid suffix: {ports}"
    );
    // The Host view shows the sandbox's own interfaces: the uplink that carries the default
    // route, the LAN NIC and the host bridge that bridged mode can use.
    app.send("4");
    app.wait_for("the host's interfaces", Duration::from_secs(10), |s| {
        s.contains("default route: uplink") && s.contains("lan0") && s.contains("lanbr0")
    });
    app.send("q");
    assert_eq!(app.wait_exit(Duration::from_secs(15)), Some(0));
    assert!(app.restored(), "terminal restored");
    assert_eq!(sandbox_leftovers(pid), Vec::<String>::new());
}

#[test]
fn sandbox_leaves_nothing_after_sigterm() {
    let Some(mut app) = sandbox_until_traffic() else {
        return;
    };
    let pid = app.child.id();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    app.wait_exit(Duration::from_secs(15));
    assert!(app.restored(), "terminal restored after SIGTERM");
    assert_eq!(sandbox_leftovers(pid), Vec::<String>::new());
}

#[test]
fn wizard_creates_a_working_nat_network_and_refuses_an_overlap() {
    let Some(world) = World::new("wiz") else {
        return;
    };
    let mut app = PtyApp::spawn(world.sy_command(&[]), 100, 30);
    app.wait_text("Networks", WAIT);
    app.send("n");
    app.wait_text("step 1 of 4", WAIT);
    app.send("lab");
    for step in ["step 2 of 4", "step 3 of 4", "step 4 of 4"] {
        app.send("\r");
        app.wait_text(step, WAIT);
    }
    app.wait_text("Plan of the start", WAIT);
    app.send("y");
    app.wait_for("lab active", WAIT, |s| {
        s.lines().any(|l| l.contains("lab") && l.contains("active"))
    });
    assert!(
        world.link_exists("sybr0"),
        "the wizard's bridge exists in the kernel"
    );
    let list: serde_json::Value =
        serde_json::from_str(&world.sy_ok(&["list", "--json"])).expect("json");
    let subnet = list[0]["ipv4"].as_str().expect("ipv4").to_owned();
    {
        let guest = Guest::attach(&world.host, "sybr0", "wizg");
        assert!(
            dhcp(&guest, "wizguest").is_some(),
            "its dnsmasq hands out a lease"
        );
    }
    // Second run: the same subnet again is refused on the subnet field.
    app.send("n");
    app.wait_text("step 1 of 4", WAIT);
    app.send("lab2\r");
    app.wait_text("step 2 of 4", WAIT);
    app.send("\x15");
    app.send(&subnet);
    app.send("\r");
    let screen = app.wait_text("overlaps", WAIT);
    assert!(
        screen.contains("step 2 of 4"),
        "the step does not advance:\n{screen}"
    );
    app.send("\x1b\x1b\x1b");
    app.wait_for("the wizard closed", WAIT, |s| !s.contains("New network"));
    app.send("q");
    assert_eq!(app.wait_exit(Duration::from_secs(5)), Some(0));
    let all: serde_json::Value =
        serde_json::from_str(&world.sy_ok(&["list", "--all", "--json"])).expect("json");
    assert_eq!(
        all.as_array().map(Vec::len),
        Some(1),
        "nothing else was created: {all}"
    );
    world.sy_ok(&["stop", "lab"]);
}

#[test]
fn sandbox_without_root_uses_a_user_namespace() {
    if !support::require_root_or_skip()
        || !support::require_tool("setpriv")
        || !support::require_tool("busybox")
    {
        return;
    }
    assert!(
        switchyard::sandbox::userns_available() || !support::in_ci(),
        "this machine allows no unprivileged user namespaces"
    );
    if !switchyard::sandbox::userns_available() {
        eprintln!("skipped: unprivileged user namespaces are not allowed here");
        return;
    }
    // A copy of the binary that the unprivileged user can reach (the build tree may not be).
    let dir = tempfile::tempdir().expect("dir");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let exe = dir.path().join("switchyard");
    std::fs::copy(env!("CARGO_BIN_EXE_switchyard"), &exe).expect("copy binary");
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "env",
        "HOME=/tmp",
    ])
    .arg(&exe)
    .arg("sandbox");
    let mut app = open_sandbox_ports(cmd);
    app.wait_for(
        "guests with leases and traffic, unprivileged",
        Duration::from_secs(30),
        |s| {
            let rows: Vec<&str> = s.lines().filter(|l| l.contains("vnet")).collect();
            rows.len() == 5 && rows.iter().filter(|l| has_nonzero_rate(l)).count() >= 4
        },
    );
    let pid = app.child.id();
    app.send("q");
    assert_eq!(app.wait_exit(Duration::from_secs(15)), Some(0));
    assert!(app.restored());
    assert_eq!(sandbox_leftovers(pid), Vec::<String>::new());
}
