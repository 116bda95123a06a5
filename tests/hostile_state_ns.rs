//! What others do to a running network's state, against the real binary in namespaces of its
//! own: rules deleted from or planted in our table, a corrupt runtime record, a deleted pid
//! file, a signal in the middle of a start, and a network started by the first release.

mod support;

use support::world::World;
use support::{run_ok, stdout};

fn nft(world: &World, args: &[&str]) -> String {
    let mut full = vec!["netns", "exec", world.host.name(), "nft"];
    full.extend_from_slice(args);
    stdout(&run_ok("ip", &full))
}

/// Our table's rules as `nft -j` lists them, without handles (they change on repair).
fn rules(world: &World) -> Vec<serde_json::Value> {
    let listing: serde_json::Value =
        serde_json::from_str(&nft(world, &["-j", "list", "table", "inet", "switchyard"]))
            .expect("json");
    listing["nftables"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|i| i.get("rule").cloned())
        .map(|mut r| {
            r.as_object_mut().expect("object").remove("handle");
            r
        })
        .collect()
}

fn started(tag: &str) -> Option<World> {
    let world = World::new(tag)?;
    world.sy_ok(&[
        "create",
        "--name",
        "net",
        "--mode",
        "nat",
        "--ipv4",
        "10.96.0.1/24",
        "--start",
    ]);
    assert!(
        world.drift_of("net").is_empty(),
        "{:?}",
        world.drift_of("net")
    );
    Some(world)
}

#[test]
fn a_deleted_masquerade_rule_and_a_planted_rule_are_drift_and_repair_restores_exactly() {
    let Some(world) = started("rul") else {
        return;
    };
    let original = rules(&world);
    let listing: serde_json::Value = serde_json::from_str(&nft(
        &world,
        &[
            "-j",
            "-a",
            "list",
            "chain",
            "inet",
            "switchyard",
            "net_net_nat",
        ],
    ))
    .expect("json");
    let masquerade = listing["nftables"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|i| i.get("rule"))
        .find(|r| r.to_string().contains("masquerade"))
        .and_then(|r| r["handle"].as_u64())
        .expect("a masquerade rule");
    let handle = masquerade.to_string();
    nft(
        &world,
        &[
            "delete",
            "rule",
            "inet",
            "switchyard",
            "net_net_nat",
            "handle",
            &handle,
        ],
    );
    nft(
        &world,
        &[
            "add",
            "rule",
            "inet",
            "switchyard",
            "base_forward",
            "accept",
        ],
    );
    let drift = world.drift_of("net");
    assert!(
        drift
            .iter()
            .any(|d| d.contains("net_net_nat") && d.contains("lacks")),
        "{drift:?}"
    );
    assert!(
        drift.iter().any(|d| d.contains("base_forward")),
        "the planted rule is drift: {drift:?}"
    );
    world.sy_ok(&["start", "net"]);
    assert!(
        world.drift_of("net").is_empty(),
        "{:?}",
        world.drift_of("net")
    );
    assert_eq!(
        rules(&world),
        original,
        "repair restores exactly the expected set"
    );
    world.sy_ok(&["stop", "net"]);
    assert_eq!(
        nft(&world, &["list", "ruleset"]).trim(),
        "",
        "nothing of ours remains"
    );
}

#[test]
fn a_corrupt_record_is_reported_and_stop_still_cleans_up() {
    let Some(world) = World::new("cor") else {
        return;
    };
    let before = world.snapshot();
    world.sy_ok(&[
        "create",
        "--name",
        "net",
        "--mode",
        "nat",
        "--ipv4",
        "10.96.0.1/24",
        "--start",
    ]);
    std::fs::write(
        world.home.path().join("run/net.json"),
        "{\"network\": \"net\", garbage",
    )
    .expect("corrupt the record");
    let list: serde_json::Value =
        serde_json::from_str(&world.sy_ok(&["list", "--all", "--json"])).expect("json");
    let net = &list[0];
    assert_eq!(net["active"], true, "never taken as inactive: {net}");
    assert!(
        net["error"]
            .as_str()
            .is_some_and(|e| e.contains("unreadable")),
        "{net}"
    );
    assert!(
        world
            .drift_of("net")
            .iter()
            .any(|d| d.contains("unreadable")),
        "{:?}",
        world.drift_of("net")
    );
    let out = world.sy(&["start", "net"]);
    assert!(!out.status.success(), "no start over an unreadable record");
    let out = world.sy(&["stop", "net"]);
    assert!(out.status.success());
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(note.contains("planned from the definition"), "{note}");
    // Whether ip_forward was ours to turn off went with the record: it stays on.
    let expected = before.replace("# ip_forward 0", "# ip_forward 1");
    assert_eq!(
        world.snapshot(),
        expected,
        "stop cleaned up from the definition"
    );
}

#[test]
fn a_deleted_pid_file_does_not_orphan_dnsmasq() {
    let Some(world) = World::new("pid") else {
        return;
    };
    let before = world.snapshot();
    world.sy_ok(&[
        "create",
        "--name",
        "net",
        "--mode",
        "nat",
        "--ipv4",
        "10.96.0.1/24",
        "--start",
    ]);
    let pids = world.dnsmasq_pids();
    assert_eq!(pids.len(), 1);
    std::fs::remove_file(world.dnsmasq_dir().join("net.pid")).expect("delete the pid file");
    assert!(
        world.drift_of("net").is_empty(),
        "dnsmasq is found by its command line: {:?}",
        world.drift_of("net")
    );
    // A repair does not start a second dnsmasq next to it.
    world.sy_ok(&["start", "net"]);
    assert_eq!(world.dnsmasq_pids(), pids);
    world.sy_ok(&["stop", "net"]);
    assert!(
        world.dnsmasq_pids().is_empty(),
        "stop ended it all the same"
    );
    assert_eq!(world.snapshot(), before);
}

#[test]
fn sigterm_during_a_start_rolls_it_back() {
    let Some(world) = World::new("sig") else {
        return;
    };
    world.sy_ok(&[
        "create",
        "--name",
        "net",
        "--mode",
        "nat",
        "--ipv4",
        "10.96.0.1/24",
    ]);
    let before = world.snapshot();
    let child = world
        .sy_command(&["start", "net"])
        .env("SWITCHYARD_PAUSE_STEP", "5")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn start");
    let paused = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(25));
        stdout(&world.host.ip(&["-4", "addr"])).contains("10.96.0.1")
    });
    assert!(paused, "start got as far as the address");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("interrupted by a signal"), "{err}");
    assert!(err.contains("rolled back"), "{err}");
    assert_eq!(world.snapshot(), before, "nothing half-started remains");
    let list = world.sy_ok(&["list", "--all", "--json"]);
    assert!(list.contains("\"active\": false"), "{list}");
}
