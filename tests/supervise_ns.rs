//! Supervision, in namespaces of its own: a network's dnsmasq killed behind switchyard's back
//! is started again by `autostart-all --supervise` (the boot unit) and by the live TUI, each
//! saying so in its log; a guest gets a lease from the new one.

mod support;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use support::pty::PtyApp;
use support::world::{dhcp, World};
use support::Guest;

fn kill_dnsmasq(world: &World) -> Vec<u32> {
    let pids = world.dnsmasq_pids();
    assert_eq!(pids.len(), 1, "one dnsmasq runs");
    for pid in &pids {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .expect("kill dnsmasq");
    }
    pids
}

/// Waits (up to `limit`) for a dnsmasq other than `old` to run.
fn wait_new_dnsmasq(world: &World, old: &[u32], limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        let now = world.dnsmasq_pids();
        if !now.is_empty() && now.iter().all(|p| !old.contains(p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn the_boot_unit_starts_a_dead_dnsmasq_again_and_logs_it() {
    let Some(world) = World::new("sup") else {
        return;
    };
    world.sy_ok(&[
        "create",
        "--name",
        "net",
        "--mode",
        "nat",
        "--bridge",
        "sybr0",
        "--ipv4",
        "10.79.0.1/24",
        "--autostart",
    ]);
    let mut child = world
        .sy_command(&["autostart-all", "--supervise", "--interval-ms", "200"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the supervisor");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        world.dnsmasq_pids().len() == 1
    });
    assert!(up, "autostart started the network");
    let old = kill_dnsmasq(&world);
    assert!(
        wait_new_dnsmasq(&world, &old, Duration::from_secs(10)),
        "started again"
    );
    let logged = (0..50).find_map(|_| {
        rx.recv_timeout(Duration::from_millis(200))
            .ok()
            .filter(|l| l.contains("dnsmasq had died; started again"))
    });
    assert!(logged.is_some(), "the restart is logged");
    {
        let guest = Guest::attach(&world.host, "sybr0", "supg");
        assert!(dhcp(&guest, "g").is_some(), "the new dnsmasq leases");
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let status = child.wait().expect("wait");
    assert!(!status.success() || status.code() == Some(0), "{status}");
    assert_eq!(
        world.dnsmasq_pids().len(),
        1,
        "the network outlives the supervisor"
    );
    world.wait_link_gone("ve-supg");
    world.sy_ok(&["stop", "net"]);
}

#[test]
fn the_live_tui_starts_a_dead_dnsmasq_again_and_logs_it() {
    let Some(world) = World::new("sut") else {
        return;
    };
    world.sy_ok(&[
        "create",
        "--name",
        "net",
        "--mode",
        "nat",
        "--bridge",
        "sybr0",
        "--ipv4",
        "10.79.0.1/24",
        "--start",
    ]);
    let mut app = PtyApp::spawn(world.sy_command(&["--interval-ms", "200"]), 120, 30);
    app.wait_text("Networks", Duration::from_secs(10));
    let old = kill_dnsmasq(&world);
    assert!(
        wait_new_dnsmasq(&world, &old, Duration::from_secs(15)),
        "the TUI started it again"
    );
    app.send("5");
    app.wait_text("started again", Duration::from_secs(10));
    app.send("q");
    assert_eq!(app.wait_exit(Duration::from_secs(10)), Some(0));
    world.sy_ok(&["stop", "net"]);
}
