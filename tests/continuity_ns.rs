//! Guests keep their network, in namespaces of their own: a guest on a NAT network pings its
//! gateway again after a stop and a start (at once, and after a pause), after an edit that
//! only changes the DNS domain (applied live: the bridge keeps its interface index), after an
//! edit that changes the subnet (the bridge is made again, the guest's port is put back, and
//! a new DHCP request gets an address in the new subnet), and after an edit that failed.

mod support;

use support::world::{dhcp, pings, World};
use support::{stdout, Guest};

const GW: &str = "10.77.0.1";

fn bridge_index(world: &World) -> String {
    let out = stdout(&world.host.ip(&["-o", "link", "show", "sybr0"]));
    out.split(':').next().unwrap_or_default().trim().to_owned()
}

fn port_on_bridge(world: &World, guest: &Guest) -> bool {
    stdout(&world.host.ip(&["-o", "link", "show", guest.host_end()])).contains("master sybr0")
}

/// A NAT network on 10.77.0.0/24 and a guest with a lease that pings its gateway.
fn setup(tag: &str) -> Option<(World, Guest)> {
    let world = World::new(tag)?;
    world.sy_ok(&[
        "create",
        "--name",
        "net",
        "--mode",
        "nat",
        "--bridge",
        "sybr0",
        "--ipv4",
        "10.77.0.1/24",
        "--start",
    ]);
    let guest = Guest::attach(&world.host, "sybr0", &format!("{tag}g"));
    let addr = dhcp(&guest, "g").expect("a lease");
    assert!(addr.starts_with("10.77.0."), "{addr}");
    assert!(pings(&guest, GW));
    Some((world, guest))
}

fn edit(world: &World, from: &str, to: &str) -> std::process::Output {
    let xml = world.sy_ok(&["dumpxml", "net"]).replace(from, to);
    let file = world.home.path().join("edit.xml");
    std::fs::write(&file, xml).expect("write");
    world.sy(&["edit", "net", file.to_str().expect("utf8")])
}

#[test]
fn a_guest_pings_again_after_stop_and_start_at_once_and_after_a_pause() {
    let Some((world, guest)) = setup("cst") else {
        return;
    };
    let out = world.sy_ok(&["stop", "net"]);
    assert!(out.contains("stopped"), "{out}");
    assert!(!pings(&guest, GW), "stopped: no gateway");
    let started = world.sy_ok(&["start", "net"]);
    assert!(
        port_on_bridge(&world, &guest),
        "put back by the start: {started}"
    );
    assert!(pings(&guest, GW), "pings again after stop + start");
    world.sy_ok(&["stop", "net"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    world.sy_ok(&["start", "net"]);
    assert!(
        pings(&guest, GW),
        "pings again after stop, a pause, and start"
    );
    assert!(
        world.drift_of("net").is_empty(),
        "{:?}",
        world.drift_of("net")
    );
    world.sy_ok(&["stop", "net"]);
}

#[test]
fn an_edit_of_the_domain_is_live_and_one_of_the_subnet_puts_the_guest_back() {
    let Some((world, guest)) = setup("ced") else {
        return;
    };
    let index = bridge_index(&world);
    let out = edit(&world, "</network>", "<domain name='lab.test'/></network>");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = stdout(&out);
    assert!(said.contains("applied live"), "{said}");
    assert_eq!(bridge_index(&world), index, "the bridge stayed");
    assert!(pings(&guest, GW), "pings across a live edit");
    let conf = std::fs::read_to_string(world.dnsmasq_dir().join("net.conf")).expect("conf");
    assert!(conf.contains("domain=lab.test"), "{conf}");

    let out = edit(&world, "10.77.0.", "10.78.0.");
    let said = stdout(&out);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("restarted") && said.contains("put back on sybr0"),
        "{said}"
    );
    assert_ne!(bridge_index(&world), index, "the bridge was made again");
    assert!(port_on_bridge(&world, &guest));
    let addr = dhcp(&guest, "g").expect("a lease in the new subnet");
    assert!(addr.starts_with("10.78.0."), "{addr}");
    assert!(pings(&guest, "10.78.0.1"), "pings the new gateway");
    world.sy_ok(&["stop", "net"]);
}

#[test]
fn after_a_failed_edit_the_guest_is_back_on_the_old_network() {
    let Some((world, guest)) = setup("cfe") else {
        return;
    };
    // The uplink's subnet: the new definition cannot start, the old one comes back.
    let out = edit(&world, "10.77.0.", "203.0.113.");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("restored and started again"), "{err}");
    assert!(err.contains("put back on sybr0"), "{err}");
    assert!(port_on_bridge(&world, &guest));
    assert!(pings(&guest, GW), "pings after the failed edit");
    assert!(world.sy_ok(&["dumpxml", "net"]).contains("10.77.0.1"));
    world.sy_ok(&["stop", "net"]);
}
