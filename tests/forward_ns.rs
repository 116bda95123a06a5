//! Port forwards against the real kernel, in namespaces this test makes: a guest serving TCP
//! and UDP is reached through its forwards from an upstream namespace, from the host
//! namespace itself and from a sibling guest on the same bridge (hairpin); `forward list
//! --json` counts the connections; stop leaves no DNAT rule and start brings the forwards
//! back; a forward that follows a guest by MAC follows its reservation; `forward remove` ends
//! a forward; bad forwards and ports the host serves are refused with nothing changed.

mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use serde_json::Value;
use support::world::{World, UPLINK_HOST};
use support::{run_ok, stdout, Guest};
use switchyard::host::NetnsGuard;

const XML: &str = "<network><name>lab</name><forward mode='nat'/><bridge name='sybr0' stp='off' delay='0'/>\
    <ip address='192.168.150.1' prefix='24'><dhcp><range start='192.168.150.100' end='192.168.150.200'/>\
    <host mac='52:54:00:aa:00:01' name='web' ip='192.168.150.10'/></dhcp></ip></network>";

/// A guest with a fixed address and MAC, a default route through the gateway, a TCP listener
/// on port 80 and a UDP socket on 5353 (both made inside its namespace).
struct Server {
    guest: Guest,
    _tcp: TcpListener,
    udp: UdpSocket,
}

fn configure(guest: &Guest, mac: &str, addr: &str) {
    let ns = guest.netns().name().to_owned();
    run_ok("ip", &["-n", &ns, "link", "set", "eth0", "address", mac]);
    run_ok("ip", &["-n", &ns, "addr", "flush", "dev", "eth0"]);
    run_ok(
        "ip",
        &[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            "eth0",
        ],
    );
    run_ok(
        "ip",
        &[
            "-n",
            &ns,
            "route",
            "replace",
            "default",
            "via",
            "192.168.150.1",
        ],
    );
}

fn server(world: &World, name: &str, mac: &str, addr: &str) -> Server {
    let guest = Guest::attach(&world.host, "sybr0", name);
    configure(&guest, mac, addr);
    let (tcp, udp) = guest
        .netns()
        .run(|| {
            let tcp = TcpListener::bind("0.0.0.0:80").expect("tcp listener");
            let udp = UdpSocket::bind("0.0.0.0:5353").expect("udp socket");
            udp.set_read_timeout(Some(Duration::from_secs(2)))
                .expect("timeout");
            (tcp, udp)
        })
        .expect("enter guest");
    Server {
        guest,
        _tcp: tcp,
        udp,
    }
}

/// Whether a TCP connection to the host's address on `port` completes from `ns`.
fn tcp_reaches(ns: &NetnsGuard, port: u16) -> bool {
    ns.run(move || {
        let to: SocketAddr = format!("{UPLINK_HOST}:{port}").parse().expect("addr");
        TcpStream::connect_timeout(&to, Duration::from_secs(2))
            .map(|mut s| s.write_all(b"x").is_ok())
            .unwrap_or(false)
    })
    .expect("enter namespace")
}

/// Sends a datagram from `ns` to the host's address on `port`; the server answers it back.
/// Whether the answer arrived.
fn udp_round_trip(ns: &NetnsGuard, port: u16, server: &Server) -> bool {
    let client = ns
        .run(|| {
            let s = UdpSocket::bind("0.0.0.0:0").expect("bind");
            s.set_read_timeout(Some(Duration::from_secs(2)))
                .expect("timeout");
            s
        })
        .expect("enter namespace");
    if client.send_to(b"ping", (UPLINK_HOST, port)).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    // The self-test of `forward add` sends its own datagrams first: answer only ours.
    let from = loop {
        match server.udp.recv_from(&mut buf) {
            Ok((4, from)) if &buf[..4] == b"ping" => break from,
            Ok(_) => continue,
            Err(_) => return false,
        }
    };
    let _ = server.udp.send_to(b"pong", from);
    matches!(client.recv_from(&mut buf), Ok((4, _)))
}

fn host_ns(world: &World) -> &NetnsGuard {
    &world.host
}

fn forwards(world: &World) -> Vec<Value> {
    let json = world.sy_ok(&["forward", "list", "--json"]);
    serde_json::from_str(&json).expect("a JSON array")
}

fn table(world: &World) -> String {
    stdout(&run_ok(
        "ip",
        &["netns", "exec", world.host.name(), "nft", "list", "ruleset"],
    ))
}

/// A world whose host runs network `lab` ([`XML`]); `None` when the test should skip.
fn lab_world(tag: &str) -> Option<World> {
    let world = World::new(tag)?;
    let xml = world.home.path().join("lab.xml");
    std::fs::write(&xml, XML).expect("write xml");
    world.sy_ok(&["define", xml.to_str().expect("path")]);
    world.sy_ok(&["start", "lab"]);
    Some(world)
}

#[test]
fn forwards_reach_a_guest_from_outside_the_host_and_a_sibling() {
    let Some(world) = lab_world("fwd") else {
        return;
    };
    let web = server(&world, "fwdweb", "52:54:00:aa:00:01", "192.168.150.10");
    let sibling = Guest::attach(&world.host, "sybr0", "fwdsib");
    configure(&sibling, "52:54:00:aa:00:02", "192.168.150.11");

    let said = world.sy_ok(&[
        "forward",
        "add",
        "lab",
        "--proto",
        "tcp",
        "--port",
        "8080",
        "--to",
        "192.168.150.10:80",
        "--comment",
        "web",
    ]);
    assert!(said.contains("forward tcp/8080 added to lab"), "{said}");
    world.sy_ok(&[
        "forward",
        "add",
        "lab",
        "--proto",
        "udp",
        "--port",
        "5353",
        "--to-guest",
        "52:54:00:aa:00:01",
    ]);

    let host = host_ns(&world);
    assert!(
        tcp_reaches(&world.up, 8080),
        "from the upstream\n{}",
        table(&world)
    );
    assert!(tcp_reaches(host, 8080), "from the host itself");
    assert!(tcp_reaches(sibling.netns(), 8080), "hairpin from a sibling");
    assert!(
        udp_round_trip(&world.up, 5353, &web),
        "udp from the upstream"
    );
    assert!(udp_round_trip(host, 5353, &web), "udp from the host");
    assert!(udp_round_trip(sibling.netns(), 5353, &web), "udp hairpin");
    let list = forwards(&world);
    let tcp = list
        .iter()
        .find(|f| f["proto"] == "tcp")
        .expect("tcp forward");
    assert_eq!(tcp["port"], 8080);
    assert_eq!(tcp["to"], "192.168.150.10");
    assert_eq!(tcp["to_port"], 80);
    assert_eq!(tcp["comment"], "web");
    assert!(tcp["hits"].as_u64() >= Some(3), "{tcp}");
    assert!(tcp["bytes"].as_u64() > Some(0), "{tcp}");
    let udp = list
        .iter()
        .find(|f| f["proto"] == "udp")
        .expect("udp forward");
    assert_eq!(udp["guest"], "52:54:00:aa:00:01");
    assert!(udp["hits"].as_u64() >= Some(3), "{udp}");

    // Stop leaves no DNAT rule; start brings the forwards back.
    world.sy_ok(&["stop", "lab"]);
    assert!(!table(&world).contains("dnat"), "{}", table(&world));
    world.sy_ok(&["start", "lab"]);
    run_ok(
        "ip",
        &[
            "-n",
            world.host.name(),
            "link",
            "set",
            web.guest.host_end(),
            "master",
            "sybr0",
        ],
    );
    run_ok(
        "ip",
        &[
            "-n",
            world.host.name(),
            "link",
            "set",
            sibling.host_end(),
            "master",
            "sybr0",
        ],
    );
    assert!(tcp_reaches(&world.up, 8080), "after a restart");

    // The forward by MAC follows the guest's reservation.
    world.sy_ok(&[
        "pin",
        "lab",
        "52:54:00:aa:00:01",
        "192.168.150.20",
        "--replace",
    ]);
    configure(&web.guest, "52:54:00:aa:00:01", "192.168.150.20");
    assert!(
        udp_round_trip(&world.up, 5353, &web),
        "follows the new address"
    );
    assert!(table(&world).contains("192.168.150.20"));

    // Remove ends it.
    world.sy_ok(&[
        "forward", "remove", "lab", "--proto", "udp", "--port", "5353",
    ]);
    assert!(!udp_round_trip(&world.up, 5353, &web), "removed");
    let left = forwards(&world);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["port"], 8080, "the other forward stays");
    assert!(table(&world).contains("tcp dport 8080"));
}

#[test]
fn bad_forwards_and_served_ports_are_refused_with_nothing_changed() {
    let Some(world) = lab_world("fwdbad") else {
        return;
    };
    world.sy_ok(&[
        "forward",
        "add",
        "lab",
        "--proto",
        "tcp",
        "--port",
        "8000-8010",
        "--to",
        "192.168.150.10",
    ]);
    let before = (table(&world), world.sy_ok(&["dumpxml", "lab"]));
    // A socket the host serves, in the host namespace: 2222.
    let _served = host_ns(&world)
        .run(|| TcpListener::bind("0.0.0.0:2222").expect("listen"))
        .expect("enter host");
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            &["--proto", "tcp", "--port", "8005", "--to", "192.168.150.11"],
            &[],
            "overlaps the forward tcp/8000-8010 of this network",
        ),
        (
            &["--proto", "tcp", "--port", "9000", "--to", "10.9.9.9"],
            &[],
            "outside the network's subnet 192.168.150.0/24",
        ),
        (
            &[
                "--proto",
                "icmp",
                "--port",
                "9000",
                "--to",
                "192.168.150.10",
            ],
            &[],
            "--proto: unknown protocol",
        ),
        (
            &[
                "--proto",
                "tcp",
                "--port",
                "70000",
                "--to",
                "192.168.150.10",
            ],
            &[],
            "port 70000 is out of range",
        ),
        (
            &["--proto", "tcp", "--port", "9000", "--to-guest", "nosuch"],
            &[],
            "nosuch has no IPv4 reservation",
        ),
        (
            &["--proto", "tcp", "--port", "2222", "--to", "192.168.150.10"],
            &[],
            "tcp/2222 is served on 0.0.0.0 by",
        ),
        (
            &["--proto", "tcp", "--port", "2200", "--to", "192.168.150.10"],
            &[("SSH_CONNECTION", "198.51.100.7 50000 203.0.113.2 2200")],
            "tcp/2200 carries this SSH session",
        ),
    ];
    for (args, env, want) in cases {
        let mut full = vec!["forward", "add", "lab"];
        full.extend_from_slice(args);
        let out = world.sy_env(&full, env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert_eq!(before, (table(&world), world.sy_ok(&["dumpxml", "lab"])));
    // --force takes the port of the session anyway.
    let out = world.sy_env(
        &[
            "forward",
            "add",
            "lab",
            "--proto",
            "tcp",
            "--port",
            "2200",
            "--to",
            "192.168.150.10",
            "--force",
        ],
        &[("SSH_CONNECTION", "198.51.100.7 50000 203.0.113.2 2200")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
