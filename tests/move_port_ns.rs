//! Moving a guest port to another network's bridge (`move-port`), in namespaces of its own: a
//! guest on one NAT network is moved, as the very same link (interface index and MAC), to the
//! bridge of another; it then takes a lease in the new subnet and pings the new gateway. Ports
//! switchyard may not touch are refused with the reason and left where they were: a port on a
//! bridge switchyard did not make, a link on no bridge, and a move to a network that is not
//! running.

mod support;

use support::world::{dhcp, pings, World};
use support::{stdout, Guest};

fn link_line(world: &World, name: &str) -> String {
    stdout(&world.host.ip(&["-o", "link", "show", name]))
}

fn index_of(world: &World, name: &str) -> String {
    link_line(world, name)
        .split(':')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn create(world: &World, name: &str, bridge: &str, ipv4: &str, start: bool) {
    let mut args = vec![
        "create", "--name", name, "--mode", "nat", "--bridge", bridge, "--ipv4", ipv4,
    ];
    if start {
        args.push("--start");
    }
    world.sy_ok(&args);
}

#[test]
fn a_guest_port_moves_to_another_networks_bridge_and_foreign_ports_are_refused() {
    let Some(world) = World::new("mvp") else {
        return;
    };
    create(&world, "a", "sybra", "10.78.0.1/24", true);
    create(&world, "b", "sybrb", "10.79.0.1/24", true);
    create(&world, "c", "sybrc", "10.80.0.1/24", false);
    let guest = Guest::attach(&world.host, "sybra", "mvpg");
    let port = guest.host_end().to_owned();
    let addr = dhcp(&guest, "g").expect("a lease on a");
    assert!(addr.starts_with("10.78.0."), "{addr}");
    let ifindex = index_of(&world, &port);

    let out = world.sy_ok(&["move-port", &port, "b", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["from_network"], "a", "{out}");
    assert_eq!(v["from_bridge"], "sybra", "{out}");
    assert_eq!(v["to_network"], "b", "{out}");
    assert_eq!(v["to_bridge"], "sybrb", "{out}");
    assert_eq!(v["ifindex"].to_string(), ifindex, "{out}");
    assert!(
        v["mac"].as_str().is_some_and(|m| m.len() == 17),
        "MAC as a string: {out}"
    );
    let line = link_line(&world, &port);
    assert!(line.contains("master sybrb"), "{line}");
    assert_eq!(index_of(&world, &port), ifindex, "the very link");

    // The guest is on b now: a new lease in b's subnet, and b's gateway answers.
    guest.exec(&["ip", "addr", "flush", "dev", "eth0"]);
    let addr = dhcp(&guest, "g").expect("a lease on b");
    assert!(addr.starts_with("10.79.0."), "{addr}");
    assert!(pings(&guest, "10.79.0.1"), "b's gateway answers");

    // Moving it again to where it is: refused.
    let out = world.sy(&["move-port", &port, "b"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success() && err.contains("already on b"),
        "{err}"
    );

    // Not running: refused, nothing moved.
    let out = world.sy(&["move-port", &port, "c"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success() && err.contains("c is not active"),
        "{err}"
    );
    assert!(link_line(&world, &port).contains("master sybrb"));

    // A port on a bridge switchyard did not make (as docker0's): refused, left there.
    for args in [
        vec!["link", "add", "forbr0", "type", "bridge"],
        vec!["link", "add", "fv0", "type", "veth", "peer", "name", "fv0p"],
        vec!["link", "set", "fv0", "master", "forbr0"],
    ] {
        let out = world.host.ip(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    let out = world.sy(&["move-port", "fv0", "a"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success()
            && err.contains("fv0 is on bridge forbr0, which no running switchyard network made"),
        "{err}"
    );
    assert!(link_line(&world, "fv0").contains("master forbr0"));

    // A link on no bridge (the uplink), and a bridge itself: refused.
    let out = world.sy(&["move-port", "uplink", "a"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success() && err.contains("is on no bridge"),
        "{err}"
    );
    let out = world.sy(&["move-port", "sybra", "b"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success() && err.contains("not a guest port"),
        "{err}"
    );
    assert!(link_line(&world, "uplink").contains("uplink"));

    world.sy_ok(&["stop", "a"]);
    world.sy_ok(&["stop", "b"]);
}
