//! The host backend on the real kernel, inside namespaces these tests make: each mode started by
//! the real binary, a real dnsmasq leasing to a real DHCP client, traffic seen from upstream,
//! and stop leaving the namespace exactly as it was.

mod support;

use support::world::{dhcp, pings, World, UPLINK_HOST};
use support::{run_ok, stdout, Guest};

/// Starts a network of `mode` on 10.77.0.0/24, checks a guest's lease, gateway and what the
/// upstream sees, then stops it and compares the namespace with before.
fn mode_round_trip(tag: &str, mode: &str, expect_upstream: Expect) {
    let Some(world) = World::new(tag) else { return };
    let before = world.snapshot();
    world.sy_ok(&[
        "create",
        "--name",
        "net",
        "--mode",
        mode,
        "--ipv4",
        "10.77.0.1/24",
        "--start",
    ]);
    assert!(
        world.drift_of("net").is_empty(),
        "{:?}",
        world.drift_of("net")
    );
    let bridge = world.bridge_of("net");
    if expect_upstream == Expect::GuestAddress {
        // The upstream router knows the routed subnet is behind the host.
        run_ok(
            "ip",
            &[
                "-n",
                world.up.name(),
                "route",
                "add",
                "10.77.0.0/24",
                "via",
                UPLINK_HOST,
            ],
        );
    }
    {
        let guest = Guest::attach(&world.host, &bridge, &format!("{tag}g"));
        let addr = dhcp(&guest, "guest1").expect("the guest gets a lease from dnsmasq");
        assert!(addr.starts_with("10.77.0."), "{addr}");
        assert!(pings(&guest, "10.77.0.1"), "guest pings its gateway");
        let seen = world.upstream_sees(&guest);
        match expect_upstream {
            Expect::Uplink => assert_eq!(seen.as_deref(), Some(UPLINK_HOST), "NAT hides the guest"),
            Expect::GuestAddress => {
                assert_eq!(seen.as_deref(), Some(addr.as_str()), "routed as is")
            }
            Expect::Nothing => assert_eq!(seen, None, "isolated guests reach nothing outside"),
        }
        let leases: serde_json::Value =
            serde_json::from_str(&world.sy_ok(&["leases", "net", "--json"])).expect("json");
        let lease = &leases[0];
        assert_eq!(lease["ip"], addr.as_str());
        assert_eq!(lease["hostname"], "guest1");
        assert!(lease["expiry"].as_u64().is_some_and(|e| e > 1_700_000_000));
    }
    world.wait_link_gone(&format!("ve-{tag}g"));
    world.sy_ok(&["stop", "net"]);
    if expect_upstream == Expect::GuestAddress {
        run_ok(
            "ip",
            &["-n", world.up.name(), "route", "del", "10.77.0.0/24"],
        );
    }
    assert_eq!(
        world.snapshot(),
        before,
        "stop leaves the namespace as it was"
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Uplink,
    GuestAddress,
    Nothing,
}

#[test]
fn nat_network_end_to_end() {
    mode_round_trip("nat", "nat", Expect::Uplink);
}

#[test]
fn routed_network_end_to_end() {
    mode_round_trip("rt", "route", Expect::GuestAddress);
}

#[test]
fn open_network_end_to_end() {
    mode_round_trip("op", "open", Expect::GuestAddress);
}

#[test]
fn isolated_network_end_to_end() {
    mode_round_trip("iso", "isolated", Expect::Nothing);
}

#[test]
fn dry_run_changes_nothing() {
    let Some(world) = World::new("dry") else {
        return;
    };
    world.sy_ok(&["create", "--name", "net", "--mode", "nat"]);
    let before = world.snapshot();
    let plan = world.sy_ok(&["start", "net", "--dry-run"]);
    assert!(plan.contains("create bridge sybr0"), "{plan}");
    assert!(plan.contains("start dnsmasq for net"), "{plan}");
    assert_eq!(world.snapshot(), before);
}

/// Number of steps in the start plan, from `start --dry-run --json`.
fn plan_len(world: &World, net: &str) -> usize {
    let plan: serde_json::Value =
        serde_json::from_str(&world.sy_ok(&["start", net, "--dry-run", "--json"])).expect("json");
    plan["steps"].as_array().expect("steps").len()
}

#[test]
fn every_failed_step_rolls_back_completely() {
    let Some(world) = World::new("flt") else {
        return;
    };
    world.sy_ok(&["create", "--name", "net", "--mode", "nat"]);
    let before = world.snapshot();
    let steps = plan_len(&world, "net");
    assert!(
        steps >= 8,
        "a NAT start has bridge, sysctls, address, up, forwarding, firewall, dnsmasq"
    );
    for n in 1..=steps {
        let out = world.sy_env(
            &["start", "net"],
            &[("SWITCHYARD_FAIL_STEP", &n.to_string())],
        );
        assert!(!out.status.success(), "step {n} was made to fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("step {n} (")),
            "error names the step: {err}"
        );
        assert_eq!(world.snapshot(), before, "after a failure at step {n}");
    }
    // The same start without a fault works, and stop undoes it.
    world.sy_ok(&["start", "net"]);
    world.sy_ok(&["stop", "net"]);
    assert_eq!(world.snapshot(), before);
}

#[test]
fn killed_start_is_drift_and_start_repairs_it() {
    let Some(world) = World::new("kil") else {
        return;
    };
    world.sy_ok(&["create", "--name", "net", "--mode", "nat"]);
    let before = world.snapshot();
    // Pause before the fifth step (after the bridge, its sysctl, up, and its address), then
    // kill -9.
    let mut child = world
        .sy_command(&["start", "net"])
        .env("SWITCHYARD_PAUSE_STEP", "5")
        .spawn()
        .expect("spawn start");
    // Step 4 (the address) done means the bridge and its recorded index are there.
    let bridge_up = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(25));
        world.link_exists("sybr0")
            && stdout(&world.host.ip(&["-4", "addr", "show", "sybr0"])).contains("192.168.100.1")
    });
    assert!(bridge_up, "start created the bridge before pausing");
    child.kill().expect("kill start");
    let _ = child.wait();
    let drift = world.drift_of("net");
    assert!(
        drift.iter().any(|d| d == "start was interrupted"),
        "{drift:?}"
    );
    assert!(
        drift.iter().any(|d| d == "dnsmasq is not running"),
        "{drift:?}"
    );
    world.sy_ok(&["start", "net"]);
    assert!(
        world.drift_of("net").is_empty(),
        "{:?}",
        world.drift_of("net")
    );
    {
        let guest = Guest::attach(&world.host, "sybr0", "kilg");
        assert!(
            dhcp(&guest, "after-repair").is_some(),
            "the repaired network leases"
        );
    }
    world.wait_link_gone("ve-kilg");
    world.sy_ok(&["stop", "net"]);
    assert_eq!(world.snapshot(), before);
}

#[test]
fn drift_is_reported_and_repaired() {
    let Some(world) = World::new("dft") else {
        return;
    };
    world.sy_ok(&["create", "--name", "net", "--mode", "nat", "--start"]);
    // Someone removes our firewall table and kills dnsmasq behind our back.
    run_ok(
        "ip",
        &[
            "netns",
            "exec",
            world.host.name(),
            "nft",
            "delete",
            "table",
            "inet",
            "switchyard",
        ],
    );
    for pid in world.dnsmasq_pids() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let drift = world.drift_of("net");
    assert!(
        drift.contains(&"firewall: table inet switchyard is missing".to_owned()),
        "{drift:?}"
    );
    assert!(
        drift.contains(&"dnsmasq is not running".to_owned()),
        "{drift:?}"
    );
    let plan = world.sy_ok(&["start", "net", "--dry-run"]);
    assert!(
        !plan.contains("create bridge"),
        "repair leaves the bridge alone: {plan}"
    );
    world.sy_ok(&["start", "net"]);
    assert!(world.drift_of("net").is_empty());
    world.sy_ok(&["stop", "net"]);
}

#[test]
fn second_network_keeps_forwarding_and_rules_of_the_first() {
    let Some(world) = World::new("two") else {
        return;
    };
    world.sy_ok(&["create", "--name", "a", "--mode", "nat", "--start"]);
    world.sy_ok(&["create", "--name", "b", "--mode", "route", "--start"]);
    world.sy_ok(&["stop", "b"]);
    assert!(
        world.drift_of("a").is_empty(),
        "stopping b left a intact: {:?}",
        world.drift_of("a")
    );
    let fwd = run_ok(
        "ip",
        &[
            "netns",
            "exec",
            world.host.name(),
            "cat",
            "/proc/sys/net/ipv4/ip_forward",
        ],
    );
    assert_eq!(
        support::stdout(&fwd).trim(),
        "1",
        "a still needs forwarding"
    );
    world.sy_ok(&["stop", "a"]);
    let fwd = run_ok(
        "ip",
        &[
            "netns",
            "exec",
            world.host.name(),
            "cat",
            "/proc/sys/net/ipv4/ip_forward",
        ],
    );
    assert_eq!(
        support::stdout(&fwd).trim(),
        "0",
        "we turned it on, and nothing needs it now"
    );
}

#[test]
fn host_bridge_network_only_checks_the_bridge() {
    let Some(world) = World::new("hbr") else {
        return;
    };
    world.host.ip(&["link", "add", "br0", "type", "bridge"]);
    world.sy_ok(&[
        "create", "--name", "lan", "--mode", "bridge", "--dev", "br0",
    ]);
    world.host.ip(&["link", "del", "br0"]);
    let out = world.sy(&["start", "lan"]);
    assert!(!out.status.success(), "br0 is gone");
    assert!(String::from_utf8_lossy(&out.stderr).contains("interface br0 does not exist"));
    world.host.ip(&["link", "add", "br0", "type", "bridge"]);
    let before = world.snapshot();
    world.sy_ok(&["start", "lan"]);
    assert!(world.drift_of("lan").is_empty());
    world.sy_ok(&["stop", "lan"]);
    assert_eq!(world.snapshot(), before);
}

#[test]
fn static_reservation_is_honoured() {
    let Some(world) = World::new("rsv") else {
        return;
    };
    let xml = "<network><name>res</name><forward mode='nat'/><bridge name='sybr5' stp='off'/>\
        <ip address='10.66.0.1' prefix='24'><dhcp><range start='10.66.0.100' end='10.66.0.200'/>\
        <host mac='52:54:00:aa:00:01' name='pinned' ip='10.66.0.7'/></dhcp></ip></network>";
    let file = world.home.path().join("res.xml");
    std::fs::write(&file, xml).expect("write");
    world.sy_ok(&["define", file.to_str().expect("utf8")]);
    world.sy_ok(&["start", "res"]);
    {
        let guest = Guest::attach(&world.host, "sybr5", "rsvg");
        guest.exec(&["ip", "link", "set", "eth0", "address", "52:54:00:aa:00:01"]);
        assert_eq!(
            dhcp(&guest, "whatever").as_deref(),
            Some("10.66.0.7"),
            "the reservation wins"
        );
    }
    world.sy_ok(&["stop", "res"]);
}

#[test]
fn pin_reloads_dnsmasq_without_a_restart() {
    let Some(world) = World::new("pin") else {
        return;
    };
    world.sy_ok(&[
        "create",
        "--name",
        "net",
        "--mode",
        "nat",
        "--ipv4",
        "10.67.0.1/24",
        "--start",
    ]);
    let pid_before = world.dnsmasq_pids();
    let guest = Guest::attach(&world.host, "sybr0", "ping");
    guest.exec(&["ip", "link", "set", "eth0", "address", "52:54:00:aa:00:02"]);
    let first = dhcp(&guest, "pinme").expect("lease");
    assert_ne!(first, "10.67.0.50");
    world.sy_ok(&[
        "pin",
        "net",
        "52:54:00:aa:00:02",
        "10.67.0.50",
        "--hostname",
        "pinned",
    ]);
    assert_eq!(
        world.dnsmasq_pids(),
        pid_before,
        "dnsmasq was reloaded, not restarted"
    );
    assert!(world
        .sy_ok(&["dumpxml", "net"])
        .contains("<host mac='52:54:00:aa:00:02' name='pinned' ip='10.67.0.50'/>"));
    // A new DISCOVER (the old lease released by a fresh client) now gets the pinned address.
    guest.exec(&["ip", "addr", "flush", "dev", "eth0"]);
    assert_eq!(dhcp(&guest, "pinme").as_deref(), Some("10.67.0.50"));
    assert!(world.drift_of("net").is_empty());
    drop(guest);
    world.sy_ok(&["stop", "net"]);
}

#[test]
fn failed_edit_restores_and_restarts_the_old_definition() {
    let Some(world) = World::new("edt") else {
        return;
    };
    world.sy_ok(&[
        "create",
        "--name",
        "net",
        "--mode",
        "nat",
        "--ipv4",
        "10.68.0.1/24",
        "--start",
    ]);
    let old = world.sy_ok(&["dumpxml", "net"]);
    // The new definition asks for a bridge name that a non-bridge link already holds.
    world.host.ip(&[
        "link", "add", "taken0", "type", "veth", "peer", "name", "taken0p",
    ]);
    let file = world.home.path().join("new.xml");
    std::fs::write(&file, old.replace("name='sybr0'", "name='taken0'")).expect("write");
    let out = world.sy(&["edit", "net", file.to_str().expect("utf8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the old definition was restored and started again"),
        "{err}"
    );
    assert_eq!(world.sy_ok(&["dumpxml", "net"]), old);
    assert!(
        world.drift_of("net").is_empty(),
        "{:?}",
        world.drift_of("net")
    );
    // A good edit restarts with the new subnet.
    std::fs::write(&file, old.replace("10.68.0.", "10.69.0.")).expect("write");
    world.sy_ok(&["edit", "net", file.to_str().expect("utf8")]);
    assert!(world.sy_ok(&["list", "--json"]).contains("10.69.0.1/24"));
    assert!(world.drift_of("net").is_empty());
    world.sy_ok(&["stop", "net"]);
}
