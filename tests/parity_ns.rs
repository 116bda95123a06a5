//! What a guest sees, compared with what a libvirt 9.0 guest sees: each test starts a network
//! with the real binary in a [`World`] (namespaces this test makes) and looks from a guest
//! namespace on its bridge. `tests/dnsmasq_parity.rs` compares the configuration text with
//! libvirt's; these prove the text does what libvirt's does on a real kernel and a real dnsmasq.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::dns::{NetnsResolvConf, Recorder};
use support::world::{World, UPSTREAM};
use support::{run_ok, stdout, Guest};

/// Writes `xml` into the world's home, defines and starts the network `name`; returns its
/// bridge.
fn start(world: &World, name: &str, xml: &str) -> String {
    let file = world.home.path().join(format!("{name}.xml"));
    std::fs::write(&file, xml).expect("write the definition");
    world.sy_ok(&["define", file.to_str().expect("home path is UTF-8")]);
    world.sy_ok(&["start", name]);
    world.bridge_of(name)
}

/// A guest on `bridge` with the static address `cidr` on its eth0, once its bridge port
/// forwards.
fn guest_at(world: &World, bridge: &str, name: &str, cidr: &str) -> Guest {
    let guest = Guest::attach(&world.host, bridge, name);
    guest_ip(&guest, &["addr", "add", cidr, "dev", "eth0"]);
    wait_forwarding(world, &guest);
    guest
}

/// A NAT network `name` on `gateway`/24 with `extra` elements (before its `<ip>`).
fn nat_xml(name: &str, gateway: &str, extra: &str) -> String {
    format!(
        "<network><name>{name}</name><forward mode='nat'/>{extra}\
         <ip address='{gateway}' prefix='24'/></network>"
    )
}

/// Waits (up to 10 s) until `guest`'s bridge port forwards. With STP on, as libvirt's
/// `<bridge stp='on' delay='0'/>` has it, the kernel raises the forward delay to its minimum of
/// 2 s, so a new port listens and learns for 4 s and drops what the guest sends meanwhile.
fn wait_forwarding(world: &World, guest: &Guest) {
    let port = guest.host_end();
    let forwarding = wait_until(Duration::from_secs(10), || {
        stdout(&world.host.ip(&["-d", "link", "show", "dev", port])).contains("state forwarding")
    });
    assert!(
        forwarding,
        "bridge port {port} is not forwarding after 10 s"
    );
}

/// `ip -n GUEST ARGS…`, panicking on failure.
fn guest_ip(guest: &Guest, args: &[&str]) -> String {
    let mut full = vec!["-n", guest.netns().name()];
    full.extend_from_slice(args);
    stdout(&run_ok("ip", &full))
}

/// busybox nslookup in `guest`: its stdout and stderr together.
fn nslookup(guest: &Guest, args: &[&str]) -> String {
    let mut full = vec!["busybox", "nslookup"];
    full.extend_from_slice(args);
    let out = guest.exec(&full);
    format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr))
}

/// The configuration switchyard wrote for `network`'s dnsmasq.
fn dnsmasq_conf(world: &World, network: &str) -> String {
    let path = world.dnsmasq_dir().join(format!("{network}.conf"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Polls `check` every 200 ms until it holds or `limit` has passed; whether it held.
fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

const STATIC_HOSTS: [(&str, &str); 3] = [
    ("52:54:00:91:00:0a", "10.91.0.10"),
    ("52:54:00:91:00:0b", "10.91.0.11"),
    ("52:54:00:91:00:0c", "10.91.0.12"),
];

/// libvirt serves every `<host>` of a block without `<range>` (it writes no `dhcp-lease-max`,
/// so dnsmasq's own limit of 1000 applies): three guests at once each get their reservation.
#[test]
fn static_hosts_without_a_range_are_all_served() {
    let Some(world) = World::new("pst") else {
        return;
    };
    let hosts: String = STATIC_HOSTS
        .iter()
        .map(|(mac, ip)| format!("<host mac='{mac}' ip='{ip}'/>"))
        .collect();
    let xml = format!(
        "<network><name>statics</name><forward mode='nat'/>\
         <ip address='10.91.0.1' prefix='24'><dhcp>{hosts}</dhcp></ip></network>"
    );
    let bridge = start(&world, "statics", &xml);
    let guests: Vec<Guest> = STATIC_HOSTS
        .iter()
        .enumerate()
        .map(|(i, (mac, _))| {
            let guest = Guest::attach(&world.host, &bridge, &format!("pst{i}"));
            guest_ip(&guest, &["link", "set", "eth0", "down"]);
            guest_ip(&guest, &["link", "set", "eth0", "address", mac, "up"]);
            guest
        })
        .collect();
    guests.iter().for_each(|g| wait_forwarding(&world, g));
    // Each guest keeps its lease while the next one asks.
    for (guest, (mac, ip)) in guests.iter().zip(STATIC_HOSTS) {
        let got = lease(guest);
        assert!(
            got.as_deref()
                .is_some_and(|l| l.starts_with(&format!("ip={ip} "))),
            "the guest with MAC {mac} should get {ip}: {got:?}"
        );
    }
}

/// An isolated network's dnsmasq writes `no-resolv` (libvirt's isolated-network.conf): the
/// host's resolver, the one way out a guest could otherwise tunnel through, is never asked,
/// while local names still resolve. A NAT network in the same namespace, with the same
/// resolver, is the control: its guest's query does reach the upstream.
#[test]
fn isolated_dns_never_asks_upstream() {
    let Some(world) = World::new("pdn") else {
        return;
    };
    // Every program switchyard starts in the host namespace sees the recorder as its resolver.
    let _resolv = NetnsResolvConf::new(world.host.name(), UPSTREAM);
    let recorder = Recorder::start(&world.up, UPSTREAM);
    let iso = start(
        &world,
        "dnsiso",
        "<network><name>dnsiso</name><domain name='iso.lan'/>\
         <dns><host ip='10.92.0.5'><hostname>files</hostname></host></dns>\
         <ip address='10.92.0.1' prefix='24'/></network>",
    );
    let nat = start(&world, "dnsnat", &nat_xml("dnsnat", "10.93.0.1", ""));
    let iso_guest = guest_at(&world, &iso, "pdn0", "10.92.0.50/24");
    let nat_guest = guest_at(&world, &nat, "pdn1", "10.93.0.50/24");
    // dnsmasq refuses what it may not forward (had it forwarded, the recorder's NXDOMAIN
    // would have come back).
    let leak = nslookup(&iso_guest, &["leak.example.com", "10.92.0.1"]);
    assert!(leak.contains("leak.example.com: REFUSED"), "{leak}");
    let local = nslookup(&iso_guest, &["files.iso.lan", "10.92.0.1"]);
    assert!(
        local.contains("Address: 10.92.0.5"),
        "a <dns><host>: {local}"
    );
    let control = nslookup(&nat_guest, &["control.example.com", "10.93.0.1"]);
    assert!(
        control.contains("control.example.com: NXDOMAIN"),
        "{control}"
    );
    let seen = recorder.seen();
    assert!(
        seen.iter().any(|n| n == "control.example.com"),
        "the NAT network forwards to the host's resolver (the control): {seen:?}"
    );
    assert!(
        !seen.iter().any(|n| n.starts_with("leak.")),
        "the isolated network forwarded a guest's query: {seen:?}"
    );
}

/// `sysctl -w KEY=VALUE` inside the namespace `ns`.
fn sysctl_in(ns: &str, setting: &str) {
    run_ok(
        "ip",
        &["netns", "exec", ns, "busybox", "sysctl", "-w", setting],
    );
}

/// A guest on `bridge` that takes router advertisements; its eth0 goes down and up again so
/// it solicits with the new settings.
fn ra_guest(world: &World, bridge: &str, name: &str) -> Guest {
    let guest = Guest::attach(&world.host, bridge, name);
    let ns = guest.netns().name().to_owned();
    for setting in [
        "net.ipv6.conf.all.disable_ipv6=0",
        "net.ipv6.conf.eth0.disable_ipv6=0",
        "net.ipv6.conf.eth0.accept_ra=2",
        "net.ipv6.conf.eth0.accept_dad=0",
    ] {
        sysctl_in(&ns, setting);
    }
    guest_ip(&guest, &["link", "set", "eth0", "down"]);
    guest_ip(&guest, &["link", "set", "eth0", "up"]);
    guest
}

/// Starts the isolated and the NAT IPv6 network of the RA test; returns their bridges.
fn start_ra_networks(world: &World) -> (String, String) {
    sysctl_in(world.host.name(), "net.ipv6.conf.all.disable_ipv6=0");
    sysctl_in(world.host.name(), "net.ipv6.conf.default.disable_ipv6=0");
    let iso = start(
        world,
        "raiso",
        "<network><name>raiso</name>\
         <ip family='ipv6' address='fd00:93::1' prefix='64'/></network>",
    );
    let nat = start(
        world,
        "ranat",
        "<network><name>ranat</name><forward mode='nat'/>\
         <ip address='10.94.0.1' prefix='24'/>\
         <ip family='ipv6' address='fd00:94::1' prefix='64'/></network>",
    );
    // NAT turned forwarding on for every link, the isolated bridge too: dnsmasq sees the
    // same host for both, and only ra-param=*,0,0 tells them apart.
    for bridge in [&iso, &nat] {
        let key = format!("/proc/sys/net/ipv6/conf/{bridge}/forwarding");
        let on = stdout(&run_ok(
            "ip",
            &["netns", "exec", world.host.name(), "cat", &key],
        ));
        assert_eq!(on.trim(), "1", "{key}");
    }
    (iso, nat)
}

/// libvirt's `ra-param=*,0,0` on isolated networks: router advertisements carry the prefix
/// with a router lifetime of 0, so a guest autoconfigures an address but takes no default
/// route; a NAT network's advertisements do give one.
#[test]
fn isolated_ipv6_advertises_no_default_route() {
    let Some(world) = World::new("pra") else {
        return;
    };
    let (iso, nat) = start_ra_networks(&world);
    let iso_guest = ra_guest(&world, &iso, "pra0");
    let nat_guest = ra_guest(&world, &nat, "pra1");
    let routes = |g: &Guest| guest_ip(g, &["-6", "route", "show", "dev", "eth0"]);
    let learned = wait_until(Duration::from_secs(20), || {
        routes(&iso_guest).contains("fd00:93::/64") && routes(&nat_guest).contains("default")
    });
    let (iso_routes, nat_routes) = (routes(&iso_guest), routes(&nat_guest));
    assert!(
        learned,
        "no advertisements within 20 s; isolated guest:\n{iso_routes}NAT guest:\n{nat_routes}"
    );
    assert!(
        nat_routes.contains("fd00:94::/64"),
        "NAT prefix:\n{nat_routes}"
    );
    assert!(
        !iso_routes.contains("default"),
        "the isolated network gave a default route:\n{iso_routes}"
    );
    let addrs = guest_ip(&iso_guest, &["-6", "addr", "show", "dev", "eth0"]);
    assert!(addrs.contains("fd00:93::"), "SLAAC address:\n{addrs}");
}

/// udhcpc script that only records what the lease carried, as `ip=… mtu=…` in `$LEASE_OUT`
/// (the address is not configured: these tests only read the lease).
const RECORD_SCRIPT: &str = "#!/bin/sh\n\
case \"$1\" in bound|renew) echo \"ip=$ip mtu=$mtu\" > \"$LEASE_OUT\";; esac\nexit 0\n";

/// Gets a lease in `guest`, asking for the interface MTU (option 26) as guests' DHCP clients
/// do, and returns what the script recorded (`None` without a lease). udhcpc is killed after
/// 20 s: a server that refuses its request (NAK) makes it start over forever, even with `-n`.
fn lease(guest: &Guest) -> Option<String> {
    let dir = tempfile::tempdir().expect("script dir");
    let script = dir.path().join("record.sh");
    std::fs::write(&script, RECORD_SCRIPT).expect("write script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod script");
    let lease_out = dir.path().join("lease");
    let mut child = Command::new("ip")
        .args(["netns", "exec", guest.netns().name()])
        .args(["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t", "8"])
        .args(["-T", "1", "-O", "mtu", "-s"])
        .arg(&script)
        .env("LEASE_OUT", &lease_out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run udhcpc");
    let ended = wait_until(Duration::from_secs(20), || {
        child.try_wait().ok().flatten().is_some()
    });
    if !ended {
        let _ = child.kill();
        let _ = child.wait();
    }
    std::fs::read_to_string(&lease_out).ok()
}

/// The `<mtu size='1400'/>` network of the MTU tests, started; returns its bridge.
fn start_mtu_network(world: &World) -> String {
    start(
        world,
        "mtu",
        "<network><name>mtu</name><forward mode='nat'/><mtu size='1400'/>\
         <ip address='10.95.0.1' prefix='24'><dhcp>\
         <range start='10.95.0.10' end='10.95.0.20'/></dhcp></ip></network>",
    )
}

/// The MTU `ip` shows for `dev` in the host namespace.
fn mtu_of(world: &World, dev: &str) -> String {
    let link = stdout(&world.host.ip(&["link", "show", "dev", dev]));
    let mtu = link.split_whitespace().skip_while(|w| *w != "mtu").nth(1);
    mtu.unwrap_or_else(|| panic!("no mtu in {link}")).to_owned()
}

/// `<mtu size='1400'/>`: the bridge starts with that MTU and a guest's lease carries it as
/// option 26 (`dhcp-option=option:mtu,1400`, as in libvirt's nat-network-mtu.conf).
#[test]
fn mtu_reaches_the_guest_by_dhcp() {
    let Some(world) = World::new("pmt") else {
        return;
    };
    let bridge = start_mtu_network(&world);
    assert_eq!(mtu_of(&world, &bridge), "1400", "the bridge as started");
    let guest = Guest::attach(&world.host, &bridge, "pmt0");
    wait_forwarding(&world, &guest);
    let lease = lease(&guest).expect("the guest gets a lease");
    assert!(lease.contains("mtu=1400"), "lease: {lease}");
}

/// libvirt creates the bridge, then sets its MTU (`virNetDevSetMTU`, SIOCSIFMTU), which the
/// kernel marks as chosen by the user: a port with a larger MTU joining later leaves the
/// bridge at 1400. switchyard sets the MTU inside the creating request, which the kernel does
/// not mark, so the bridge follows its smallest port: a 1500-byte port raises it to 1500.
#[test]
fn bridge_keeps_its_mtu_when_a_port_joins() {
    let Some(world) = World::new("pmj") else {
        return;
    };
    let bridge = start_mtu_network(&world);
    let guest = Guest::attach(&world.host, &bridge, "pmj0");
    assert_eq!(mtu_of(&world, guest.host_end()), "1500", "the port");
    assert_eq!(
        mtu_of(&world, &bridge),
        "1400",
        "the bridge after a 1500-byte port joined; drift: {:?}",
        world.drift_of("mtu")
    );
}

/// `<ip localPtr='yes'>` (`local=/0.98.10.in-addr.arpa/`, as in libvirt's
/// ptr-domains-auto.conf): a reverse lookup of an unknown address in the subnet is answered
/// by dnsmasq itself, never forwarded; one outside the subnet is forwarded (the control).
#[test]
fn local_ptr_answers_reverse_lookups_locally() {
    let Some(world) = World::new("ppt") else {
        return;
    };
    let recorder = Recorder::start(&world.up, UPSTREAM);
    let xml = format!(
        "<network><name>ptr</name><forward mode='nat'/>\
         <dns><forwarder addr='{UPSTREAM}'/></dns>\
         <ip address='10.98.0.1' prefix='24' localPtr='yes'/></network>"
    );
    let bridge = start(&world, "ptr", &xml);
    let guest = guest_at(&world, &bridge, "ppt0", "10.98.0.50/24");
    let inside = nslookup(&guest, &["10.98.0.77", "10.98.0.1"]);
    assert!(
        inside.contains("77.0.98.10.in-addr.arpa: NXDOMAIN"),
        "{inside}"
    );
    let outside = nslookup(&guest, &["10.99.0.77", "10.98.0.1"]);
    assert!(
        outside.contains("77.0.99.10.in-addr.arpa: NXDOMAIN"),
        "{outside}"
    );
    let seen = recorder.seen();
    assert!(
        seen.iter().any(|n| n == "77.0.99.10.in-addr.arpa"),
        "a reverse lookup outside the subnet is forwarded (the control): {seen:?}"
    );
    assert!(
        !seen.iter().any(|n| n == "77.0.98.10.in-addr.arpa"),
        "the subnet's reverse lookup was forwarded: {seen:?}"
    );
}

/// An `<srv>` with a target but no port: libvirt writes `srv-host=NAME,TARGET` and dnsmasq
/// answers with port 1. busybox nslookup prints an SRV answer as `service = PRIORITY WEIGHT
/// PORT TARGET`.
#[test]
fn srv_without_port_answers_port_one() {
    let Some(world) = World::new("psr") else {
        return;
    };
    let bridge = start(
        &world,
        "srv",
        "<network><name>srv</name><dns><srv service='ldap' protocol='tcp' \
         domain='example.lan' target='ldap.example.lan'/></dns>\
         <ip address='10.96.0.1' prefix='24'/></network>",
    );
    let guest = guest_at(&world, &bridge, "psr0", "10.96.0.50/24");
    let answer = nslookup(
        &guest,
        &["-type=srv", "_ldap._tcp.example.lan", "10.96.0.1"],
    );
    assert!(
        answer.contains("_ldap._tcp.example.lan\tservice = 0 0 1 ldap.example.lan"),
        "{answer}"
    );
}

/// libvirt writes `dhcp-authoritative` only for IPv4 blocks (dhcp6-network.conf has none):
/// a network serving DHCPv6 alone is not authoritative. busybox has no udhcpc6 here, so this
/// checks the written configuration of a started network and that its dnsmasq runs.
#[test]
fn dhcpv6_only_network_is_not_authoritative() {
    let Some(world) = World::new("pd6") else {
        return;
    };
    start(
        &world,
        "six",
        "<network><name>six</name><forward mode='route'/>\
         <ip family='ipv6' address='fd00:97::1' prefix='64'><dhcp>\
         <range start='fd00:97::10' end='fd00:97::ff'/></dhcp></ip></network>",
    );
    let conf = dnsmasq_conf(&world, "six");
    let lines: Vec<&str> = conf.lines().collect();
    assert!(
        lines.contains(&"dhcp-range=fd00:97::10,fd00:97::ff,64"),
        "{conf}"
    );
    assert!(lines.contains(&"enable-ra"), "{conf}");
    assert!(!lines.contains(&"dhcp-authoritative"), "{conf}");
    assert_eq!(world.dnsmasq_pids().len(), 1, "its dnsmasq runs");
}

const UUID_A: &str = "5d0b3f4e-0c6a-4f7e-9a51-3b2c1d0e9f81";
const UUID_B: &str = "8e2f6a17-4b3c-4d95-8f60-7a1b2c3d4e5f";

/// Defining a network whose name is taken by one with another `<uuid>` is refused, as libvirt
/// refuses it ("network 'x' is already defined with uuid …"): here while the first one runs,
/// whose stored definition and host state stay exactly as they were.
#[test]
fn redefinition_with_another_uuid_is_refused() {
    let Some(world) = World::new("puu") else {
        return;
    };
    let xml = |uuid: &str, gateway: &str| nat_xml("keep", gateway, &format!("<uuid>{uuid}</uuid>"));
    start(&world, "keep", &xml(UUID_A, "10.99.1.1"));
    let stored = world.sy_ok(&["dumpxml", "keep"]);
    let before = world.snapshot();
    let other = world.home.path().join("other.xml");
    std::fs::write(&other, xml(UUID_B, "10.99.2.1")).expect("write the other definition");
    let out = world.sy(&["define", other.to_str().expect("home path is UTF-8")]);
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {msg}");
    assert!(
        msg.contains("'keep'") && msg.contains(UUID_A),
        "the message names the network and its uuid: {msg}"
    );
    assert_eq!(world.sy_ok(&["dumpxml", "keep"]), stored, "definition kept");
    assert_eq!(world.snapshot(), before, "the running network untouched");
    assert!(
        world.drift_of("keep").is_empty(),
        "{:?}",
        world.drift_of("keep")
    );
}

/// Whether this kernel has what libvirt's shaping needs (an ingress policer with u32).
fn kernel_polices(world: &World) -> bool {
    let tc = |args: &[&str]| {
        let mut full = vec!["netns", "exec", world.host.name(), "tc"];
        full.extend_from_slice(args);
        Command::new("ip")
            .args(&full)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    world.host.ip(&["link", "add", "probe0", "type", "bridge"]);
    let ok = tc(&["qdisc", "add", "dev", "probe0", "ingress"])
        && tc(&[
            "filter", "add", "dev", "probe0", "parent", "ffff:", "protocol", "all", "u32", "match",
            "u32", "0", "0", "police", "rate", "1kbps", "burst", "1kb", "drop",
        ]);
    world.host.ip(&["link", "del", "probe0"]);
    ok
}

/// `<bandwidth>` is applied on the bridge as libvirt applies it (an HTB tree towards the guests,
/// a policer from them) and goes with the bridge; a kernel without the traffic-control modules
/// gets a clear refusal and nothing is left behind (never a network silently unshaped).
#[test]
fn bandwidth_shapes_the_bridge_as_libvirt_does() {
    let Some(world) = World::new("pbw") else {
        return;
    };
    let shaping = "<bandwidth><inbound average='1000' peak='5000' burst='1024'/>\
                   <outbound average='128'/></bandwidth>";
    if !kernel_polices(&world) {
        let before = world.snapshot();
        let file = world.home.path().join("bw.xml");
        std::fs::write(&file, nat_xml("bw", "10.97.0.1", shaping)).expect("write");
        world.sy_ok(&["define", file.to_str().expect("utf8")]);
        let out = world.sy(&["start", "bw"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains("lacks a traffic-control module"), "{err}");
        assert_eq!(world.snapshot(), before, "rolled back");
        eprintln!("this kernel cannot police ingress traffic: the refusal was checked instead");
        return;
    }
    let bridge = start(&world, "bw", &nat_xml("bw", "10.97.0.1", shaping));
    let tc = |what: &str| {
        stdout(&run_ok(
            "ip",
            &[
                "netns",
                "exec",
                world.host.name(),
                "tc",
                what,
                "show",
                "dev",
                &bridge,
            ],
        ))
    };
    let qdiscs = tc("qdisc");
    assert!(qdiscs.contains("qdisc htb 1: root"), "{qdiscs}");
    assert!(qdiscs.contains("qdisc ingress ffff:"), "{qdiscs}");
    // libvirt's sfq leaf where the kernel has it (else fq_codel, else the default queue).
    let leaf = ["qdisc sfq 2: parent 1:2", "qdisc fq_codel 2: parent 1:2"];
    if !leaf.iter().any(|l| qdiscs.contains(l)) {
        eprintln!("this kernel has neither sfq nor fq_codel: the classes keep their default queue");
    }
    let classes = tc("class");
    assert!(
        classes.contains("class htb 1:2 parent 1:1") && classes.contains("rate 8Mbit"),
        "1000 kB/s = 8 Mbit/s: {classes}"
    );
    world.sy_ok(&["stop", "bw"]);
    assert!(!world.link_exists(&bridge));
}

/// Networks with only IPv4 get `bind-interfaces` where libvirt writes `bind-dynamic` (see
/// `tests/dnsmasq_parity.rs`). Guests must not tell: two such networks hand out leases side by
/// side (each dnsmasq's DHCP socket is bound to its bridge), each answers DNS on its gateway
/// only, and after the gateway address is lost and `start` puts it back, the dnsmasq that was
/// running all along answers again. An IPv6 network keeps `bind-dynamic`.
#[test]
fn ipv4_networks_bind_once_and_serve_as_libvirts_do() {
    let Some(world) = World::new("bnd") else {
        return;
    };
    let host = |name: &str, ip: &str| {
        format!("<dns><host ip='{ip}'><hostname>{name}</hostname></host></dns>")
    };
    let xml = |name: &str, net: &str, dns: &str| {
        format!(
            "<network><name>{name}</name><forward mode='nat'/>\
             <bridge name='{name}br' stp='off' delay='0'/>{dns}\
             <ip address='{net}.1' prefix='24'><dhcp><range start='{net}.10' end='{net}.20'/></dhcp></ip>\
             </network>"
        )
    };
    let a = start(
        &world,
        "bnda",
        &xml("bnda", "10.81.0", &host("files-a", "10.81.0.5")),
    );
    let b = start(
        &world,
        "bndb",
        &xml("bndb", "10.82.0", &host("files-b", "10.82.0.5")),
    );
    for net in ["bnda", "bndb"] {
        let conf = dnsmasq_conf(&world, net);
        assert!(conf.contains("\nbind-interfaces\n"), "{net}:\n{conf}");
        assert!(!conf.contains("bind-dynamic"), "{net}:\n{conf}");
    }
    let ga = Guest::attach(&world.host, &a, "bndga");
    let gb = Guest::attach(&world.host, &b, "bndgb");
    let la = lease(&ga).expect("a lease on the first network");
    let lb = lease(&gb).expect("a lease on the second network, beside the first");
    assert!(la.contains("ip=10.81.0."), "{la}");
    assert!(lb.contains("ip=10.82.0."), "{lb}");

    guest_ip(&ga, &["addr", "add", "10.81.0.77/24", "dev", "eth0"]);
    let answer = nslookup(&ga, &["files-a", "10.81.0.1"]);
    assert!(
        answer.contains("10.81.0.5"),
        "DNS on the gateway:\n{answer}"
    );
    // Each dnsmasq listens on its own bridge's address only.
    let pid_of = |net: &str| {
        std::fs::read_to_string(world.dnsmasq_dir().join(format!("{net}.pid")))
            .map(|p| p.trim().to_owned())
            .expect("pid file")
    };
    let sockets = stdout(&run_ok(
        "ip",
        &[
            "netns",
            "exec",
            world.host.name(),
            "ss",
            "-Hlunp",
            "sport = :53",
        ],
    ));
    for (net, gateway) in [("bnda", "10.81.0.1:53"), ("bndb", "10.82.0.1:53")] {
        let pid = format!("pid={},", pid_of(net));
        let lines: Vec<&str> = sockets.lines().filter(|l| l.contains(&pid)).collect();
        assert!(
            !lines.is_empty() && lines.iter().all(|l| l.contains(gateway)),
            "{net} listens only on {gateway}:\n{sockets}"
        );
    }

    // The gateway address goes away and comes back with `start`: the same dnsmasq answers.
    let pid = pid_of("bnda");
    world.host.ip(&["addr", "del", "10.81.0.1/24", "dev", &a]);
    let drift = world.drift_of("bnda");
    assert!(
        drift.iter().any(|d| d.contains("10.81.0.1/24")),
        "{drift:?}"
    );
    world.sy_ok(&["start", "bnda"]);
    assert!(
        world.drift_of("bnda").is_empty(),
        "{:?}",
        world.drift_of("bnda")
    );
    assert_eq!(pid_of("bnda"), pid, "the repair kept the dnsmasq");
    let answered = wait_until(Duration::from_secs(5), || {
        nslookup(&ga, &["files-a", "10.81.0.1"]).contains("10.81.0.5")
    });
    assert!(answered, "DNS answers again on the restored gateway");

    start(
        &world,
        "bndc",
        "<network><name>bndc</name><bridge name='bndcbr' stp='off' delay='0'/>\
         <ip family='ipv6' address='fd00:83::1' prefix='64'/></network>",
    );
    let conf = dnsmasq_conf(&world, "bndc");
    assert!(conf.contains("\nbind-dynamic\n"), "{conf}");
}
