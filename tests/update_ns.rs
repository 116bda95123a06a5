//! `update` (libvirt's net-update), `pin` and `unpin` on a running network, in namespaces of
//! their own: a DHCP host and a DNS host added live reach guests with dnsmasq and the bridge
//! untouched; a pin never takes another host's reservation without --replace; --config alone
//! leaves the running network as it is; refusals change nothing.

mod support;

use support::world::{dhcp, World};
use support::{stdout, Guest};

fn bridge_index(world: &World) -> String {
    let out = stdout(&world.host.ip(&["-o", "link", "show", "sybr0"]));
    out.split(':').next().unwrap_or_default().trim().to_owned()
}

fn started(tag: &str) -> Option<World> {
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
        "10.80.0.1/24",
        "--dhcp",
        "10.80.0.100-10.80.0.150",
        "--domain",
        "lab.test",
        "--start",
    ]);
    Some(world)
}

#[test]
fn hosts_added_live_reach_guests_with_dnsmasq_and_the_bridge_untouched() {
    let Some(world) = started("upl") else {
        return;
    };
    let (pids, index) = (world.dnsmasq_pids(), bridge_index(&world));
    let said = world.sy_ok(&[
        "update",
        "net",
        "add",
        "ip-dhcp-host",
        "<host mac='52:54:00:80:00:07' name='seven' ip='10.80.0.7'/>",
    ]);
    assert!(said.contains("applied live"), "{said}");
    world.sy_ok(&[
        "update",
        "net",
        "add-last",
        "dns-host",
        "<host ip='10.80.0.50'><hostname>db</hostname></host>",
    ]);
    assert_eq!(
        world.dnsmasq_pids(),
        pids,
        "dnsmasq was reloaded, not restarted"
    );
    assert_eq!(bridge_index(&world), index, "the bridge stayed");
    {
        let guest = Guest::attach(&world.host, "sybr0", "uplg");
        guest.exec(&["ip", "link", "set", "eth0", "address", "52:54:00:80:00:07"]);
        assert_eq!(dhcp(&guest, "seven").as_deref(), Some("10.80.0.7"));
        let out = guest.exec(&["busybox", "nslookup", "db.lab.test", "10.80.0.1"]);
        assert!(stdout(&out).contains("10.80.0.50"), "{}", stdout(&out));
    }
    // Stored too (libvirt's default for a running network is --live only; add --config).
    assert!(!world.sy_ok(&["dumpxml", "net"]).contains("10.80.0.7"));
    world.sy_ok(&[
        "update",
        "net",
        "add",
        "ip-dhcp-host",
        "<host mac='52:54:00:80:00:08' ip='10.80.0.8'/>",
        "--config",
    ]);
    let xml = world.sy_ok(&["dumpxml", "net"]);
    assert!(
        xml.contains("10.80.0.8") && !xml.contains("10.80.0.7"),
        "{xml}"
    );
    let hosts = std::fs::read_to_string(world.dnsmasq_dir().join("net.hostsfile")).expect("hosts");
    assert!(
        !hosts.contains("10.80.0.8"),
        "--config alone leaves the running network: {hosts}"
    );
    world.wait_link_gone("ve-uplg");
    world.sy_ok(&["stop", "net"]);
}

#[test]
fn pin_refuses_to_take_a_reservation_and_unpin_gives_it_back() {
    let Some(world) = started("pin") else {
        return;
    };
    world.sy_ok(&[
        "pin",
        "net",
        "52:54:00:80:00:01",
        "10.80.0.21",
        "--hostname",
        "one",
    ]);
    let before = world.sy_ok(&["dumpxml", "net"]);
    let out = world.sy(&["pin", "net", "52:54:00:80:00:02", "10.80.0.21"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "another host's address is refused");
    assert!(
        err.contains("ip") && err.contains("52:54:00:80:00:01"),
        "{err}"
    );
    assert_eq!(
        world.sy_ok(&["dumpxml", "net"]),
        before,
        "a refusal changes nothing"
    );
    let said = world.sy_ok(&["pin", "net", "52:54:00:80:00:02", "10.80.0.21", "--replace"]);
    assert!(said.contains("replaces"), "{said}");
    let xml = world.sy_ok(&["dumpxml", "net"]);
    assert!(!xml.contains("52:54:00:80:00:01"), "{xml}");
    let hosts = std::fs::read_to_string(world.dnsmasq_dir().join("net.hostsfile")).expect("hosts");
    assert!(
        hosts.contains("52:54:00:80:00:02,10.80.0.21"),
        "applied live: {hosts}"
    );
    world.sy_ok(&["unpin", "net", "10.80.0.21"]);
    assert!(!world.sy_ok(&["dumpxml", "net"]).contains("10.80.0.21"));
    let out = world.sy(&["unpin", "net", "10.80.0.21"]);
    assert!(!out.status.success(), "nothing left to unpin");
    let out = world.sy(&[
        "update",
        "net",
        "delete",
        "ip-dhcp-host",
        "<host mac='52:54:00:80:00:99' ip='10.80.0.99'/>",
    ]);
    assert!(
        !out.status.success(),
        "deleting what is not there is refused"
    );
    world.sy_ok(&["stop", "net"]);
}
