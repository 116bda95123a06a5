//! Packets through the loaded table, between guests of three networks and an upstream, all in
//! namespaces the test makes: NAT masquerades, routing keeps the source, isolation holds, and
//! a NAT network refuses new connections from another of our networks even though the
//! sender's own chain would let them out (the destination's chain is looked at first).

use switchyard::host::sysctl::write_sysctl;
use switchyard::plan::firewall::{add_network, FirewallMode, FirewallNet};

use super::base;
use crate::support::world::{pings, World, UPLINK_HOST};
use crate::support::Guest;

/// Bridge `br` with `gw/24` in the host, and a guest on it at `addr/24` routed through `gw`.
fn network(world: &World, br: &str, gw: &str, guest: &str, addr: &str) -> Guest {
    world.host.ip(&["link", "add", br, "type", "bridge"]);
    world
        .host
        .ip(&["addr", "add", &format!("{gw}/24"), "dev", br]);
    world.host.ip(&["link", "set", br, "up"]);
    let g = Guest::attach(&world.host, br, guest);
    let ok = |args: &[&str]| assert!(g.exec(args).status.success(), "{args:?} in {guest}");
    ok(&["ip", "addr", "add", &format!("{addr}/24"), "dev", "eth0"]);
    ok(&["ip", "route", "add", "default", "via", gw]);
    g
}

#[test]
fn traffic_follows_libvirt_semantics() {
    let Some(world) = World::new("fwtr") else {
        return;
    };
    let nets: [FirewallNet; 3] = [
        base("nat", "sybr1", FirewallMode::Nat, "10.1.0.1/24"),
        base("iso", "sybr2", FirewallMode::Isolated, "10.2.0.1/24"),
        base("routed", "sybr3", FirewallMode::Route, "10.3.0.1/24"),
    ];
    let nat = network(&world, "sybr1", "10.1.0.1", "fwtra", "10.1.0.2");
    let iso = network(&world, "sybr2", "10.2.0.1", "fwtrb", "10.2.0.2");
    let routed = network(&world, "sybr3", "10.3.0.1", "fwtrc", "10.3.0.2");
    let up = world.up.name().to_owned();
    let route = ["-n", &up, "route", "add", "10.3.0.0/24", "via", UPLINK_HOST];
    crate::support::run_ok("ip", &route);
    world
        .host
        .run(|| write_sysctl("net.ipv4.ip_forward", "1"))
        .expect("enter host")
        .expect("enable forwarding in the test namespace");
    // Without rules everything is routed, so what fails below fails because of the rules.
    assert!(
        pings(&routed, "10.1.0.2") && pings(&nat, "10.2.0.2"),
        "plain routing works"
    );
    for n in &nets {
        super::load(&world.host, &add_network(n));
    }

    assert_eq!(
        world.upstream_sees(&nat).as_deref(),
        Some(UPLINK_HOST),
        "masqueraded"
    );
    assert_eq!(
        world.upstream_sees(&routed).as_deref(),
        Some("10.3.0.2"),
        "routed as is"
    );
    assert_eq!(world.upstream_sees(&iso), None, "isolated");
    assert!(pings(&nat, "10.1.0.1"), "guests reach their host");
    assert!(pings(&nat, "10.3.0.2"), "NAT guests reach a routed network");
    assert!(
        !pings(&routed, "10.1.0.2"),
        "nothing new gets into a NAT network"
    );
    assert!(
        !pings(&nat, "10.2.0.2"),
        "nothing gets into an isolated network"
    );
    assert!(
        !pings(&iso, "10.1.0.2"),
        "nothing gets out of an isolated network"
    );
}
