use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use super::*;
use crate::host::procscan::scan_proc;
use crate::telemetry::leases::parse_leases;

const GUEST_A: Mac = [0x52, 0x54, 0, 0xaa, 0, 1];
const GUEST_B: Mac = [0x52, 0x54, 0, 0xbb, 0, 2];

fn link(ifindex: u32, name: &str, kind: LinkKind, master: Option<u32>) -> LinkInfo {
    LinkInfo {
        ifindex,
        name: name.to_owned(),
        kind,
        master,
        parent: None,
        mac: Some([0xfe, 0, 0, 0, 0, ifindex as u8]),
        mtu: 1500,
        admin_up: true,
        oper_state: "up".to_owned(),
        stats: None,
        macvtap_mode: None,
        bridge: None,
        peer_netnsid: None,
    }
}

/// A host with our bridge sybr0 (network "lab"), libvirt's virbr0, docker0, a host bridge br0
/// with a physical uplink, a macvtap on eth1 (pool of network "direct") and stray links.
fn host() -> HostState {
    let mut links = vec![
        link(1, "lo", LinkKind::Loopback, None),
        link(2, "eth0", LinkKind::Physical, Some(20)),
        link(3, "eth1", LinkKind::Physical, None),
        link(10, "sybr0", LinkKind::Bridge, None),
        link(11, "vnet0", LinkKind::Tun, Some(10)),
        link(12, "ve-g1", LinkKind::Veth, Some(10)),
        link(13, "vnet1", LinkKind::Tun, Some(10)),
        link(14, "ve-local", LinkKind::Veth, Some(10)),
        link(15, "ve-anon", LinkKind::Veth, Some(10)),
        link(20, "br0", LinkKind::Bridge, None),
        link(30, "virbr0", LinkKind::Bridge, None),
        link(31, "vnet7", LinkKind::Tun, Some(30)),
        link(40, "docker0", LinkKind::Bridge, None),
        link(41, "vethab12", LinkKind::Veth, Some(40)),
        link(50, "macvtap0", LinkKind::Macvtap, None),
        link(60, "bond0", LinkKind::Bond, None),
        link(61, "eth2", LinkKind::Physical, Some(60)),
    ];
    let mut set = |name: &str, edit: &dyn Fn(&mut LinkInfo)| {
        edit(
            links
                .iter_mut()
                .find(|l| l.name == name)
                .expect("test link"),
        )
    };
    // A macvtap's own MAC is the guest's.
    set("macvtap0", &|l| {
        l.mac = Some(GUEST_B);
        l.parent = Some(3);
    });
    set("ve-g1", &|l| l.peer_netnsid = Some(4));
    // ve-local's peer is in this namespace: no guest.
    set("ve-local", &|l| {
        l.admin_up = false;
        l.oper_state = "down".to_owned();
    });
    // ve-anon's peer namespace has no name.
    set("ve-anon", &|l| l.peer_netnsid = Some(9));
    HostState {
        links,
        ..HostState::default()
    }
}

fn networks() -> Vec<NetworkPorts> {
    vec![
        NetworkPorts {
            network: "lab".into(),
            bridge: Some("sybr0".into()),
            lease_file: None,
            macvtap_pool: vec![],
        },
        NetworkPorts {
            network: "direct".into(),
            bridge: None,
            lease_file: None,
            macvtap_pool: vec!["eth1".into()],
        },
        NetworkPorts {
            network: "hostnet".into(),
            bridge: Some("br0".into()),
            lease_file: None,
            macvtap_pool: vec![],
        },
    ]
}

/// A fake /proc: pid 100 is QEMU "web" holding vnet0; pid 200 a plain process holding vnet1
/// and the macvtap /dev/tap50; pid 300 QEMU (libvirt names it too) holding vnet7.
fn fake_proc(root: &Path) {
    let process = |pid: u32, argv: &[&str], comm: &str, fds: &[(&str, &str)]| {
        let dir = root.join(pid.to_string());
        fs::create_dir_all(dir.join("fd")).expect("mkdir");
        fs::create_dir_all(dir.join("fdinfo")).expect("mkdir");
        let cmdline: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
        fs::write(dir.join("cmdline"), cmdline).expect("cmdline");
        fs::write(dir.join("comm"), format!("{comm}\n")).expect("comm");
        for (fd, (target, iff)) in fds.iter().enumerate() {
            symlink(target, dir.join("fd").join(fd.to_string())).expect("fd");
            let info = format!("pos:\t0\niff:\t{iff}\n");
            fs::write(dir.join("fdinfo").join(fd.to_string()), info).expect("fdinfo");
        }
    };
    process(
        100,
        &["qemu", "-name", "guest=web"],
        "qemu",
        &[("/dev/net/tun", "vnet0")],
    );
    process(
        200,
        &["tapper"],
        "tapper",
        &[("/dev/net/tun", "vnet1"), ("/dev/tap50", "")],
    );
    process(
        300,
        &["qemu", "-name", "guest=db-qemu"],
        "qemu",
        &[("/dev/net/tun", "vnet7")],
    );
}

fn arp(ifindex: u32, ip: &str, mac: Mac) -> crate::state::Neighbour {
    crate::state::Neighbour::Ip {
        ifindex,
        ip: ip.parse().expect("test literal"),
        mac: Some(mac),
    }
}

struct World {
    host: HostState,
    guests: GuestIndex,
    libvirt: HashMap<String, String>,
    netns: HashMap<i32, String>,
    leases: Vec<(String, Lease)>,
    neigh: NeighbourCache,
    networks: Vec<NetworkPorts>,
}

impl World {
    fn new() -> World {
        let proc_dir = tempfile::tempdir().expect("tempdir");
        fake_proc(proc_dir.path());
        let mut neigh = NeighbourCache::new();
        neigh.learned(12, GUEST_A); // behind ve-g1: leased
        neigh.learned(13, GUEST_B); // behind vnet1: only in ARP
        neigh.learned(2, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]); // behind the uplink
        neigh.apply(&arp(10, "10.0.0.50", GUEST_B), false);
        neigh.apply(&arp(10, "10.0.0.51", GUEST_A), false);
        neigh.apply(
            &arp(20, "192.168.1.9", [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]),
            false,
        );
        let lease_text = format!(
            "0 {} 10.0.0.23 g1 *\n1700000000 {} 10.0.0.99 other *\n",
            MacAddr(GUEST_A),
            MacAddr(GUEST_B)
        );
        let leases = parse_leases(&lease_text).leases;
        World {
            host: host(),
            guests: scan_proc(proc_dir.path()),
            libvirt: HashMap::from([("vnet7".to_owned(), "db".to_owned())]),
            netns: HashMap::from([(4, "sy-g1".to_owned())]),
            leases: vec![
                ("lab".to_owned(), leases[0].clone()),
                ("elsewhere".to_owned(), leases[1].clone()),
            ],
            neigh,
            networks: networks(),
        }
    }

    fn ports(&self) -> Vec<PortInfo> {
        assemble_ports(&PortInputs {
            host: &self.host,
            guests: &self.guests,
            libvirt: &self.libvirt,
            netns_names: &self.netns,
            leases: &self.leases,
            neighbours: &self.neigh,
            networks: &self.networks,
        })
    }
}

fn find<'a>(ports: &'a [PortInfo], name: &str) -> &'a PortInfo {
    ports
        .iter()
        .find(|p| p.ifname == name)
        .unwrap_or_else(|| panic!("{name} is a port"))
}

#[test]
fn every_bridge_port_and_macvtap_in_bridge_order() {
    let ports = World::new().ports();
    let names: Vec<(&str, Option<&str>)> = ports
        .iter()
        .map(|p| {
            (
                p.ifname.as_str(),
                p.bridge.as_deref().or(p.parent.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("eth0", Some("br0")),
            ("vethab12", Some("docker0")),
            ("macvtap0", Some("eth1")),
            ("vnet0", Some("sybr0")),
            ("ve-g1", Some("sybr0")),
            ("vnet1", Some("sybr0")),
            ("ve-local", Some("sybr0")),
            ("ve-anon", Some("sybr0")),
            ("vnet7", Some("virbr0")),
        ],
        "bond slaves, bridges, loopback and lone links are not ports"
    );
}

#[test]
fn port_table() {
    let ports = World::new().ports();
    // (port, kind, network, guest, ip, ip source, guest mac)
    type Row<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<IpSource>,
        Option<String>,
    );
    let a = Some(MacAddr(GUEST_A).to_string());
    let b = Some(MacAddr(GUEST_B).to_string());
    let rows: &[Row<'_>] = &[
        ("vnet0", "tap", Some("lab"), Some("web"), None, None, None),
        (
            "ve-g1",
            "veth",
            Some("lab"),
            Some("sy-g1"),
            Some("10.0.0.23"),
            Some(IpSource::Lease),
            a,
        ),
        (
            "vnet1",
            "tap",
            Some("lab"),
            Some("tapper (pid 200)"),
            Some("10.0.0.50"),
            Some(IpSource::Neighbour),
            b.clone(),
        ),
        ("ve-local", "veth", Some("lab"), None, None, None, None),
        (
            "ve-anon",
            "veth",
            Some("lab"),
            Some("netns id 9"),
            None,
            None,
            None,
        ),
        ("vnet7", "tap", None, Some("db-qemu"), None, None, None),
        ("vethab12", "veth", None, None, None, None, None),
        ("eth0", "physical", Some("hostnet"), None, None, None, None),
        (
            "macvtap0",
            "macvtap",
            Some("direct"),
            Some("tapper (pid 200)"),
            None,
            None,
            b,
        ),
    ];
    for (name, kind, network, guest, ip, source, guest_mac) in rows {
        let p = find(&ports, name);
        assert_eq!(p.kind, *kind, "{name} kind");
        assert_eq!(p.network.as_deref(), *network, "{name} network");
        assert_eq!(p.guest.as_deref(), *guest, "{name} guest");
        assert_eq!(p.ip.as_deref(), *ip, "{name} ip");
        assert_eq!(p.ip_source, *source, "{name} ip source");
        assert_eq!(p.guest_mac, *guest_mac, "{name} guest mac");
    }
}

#[test]
fn guest_naming_priority() {
    let mut w = World::new();
    // libvirt's runtime XML names vnet7 "db", but QEMU's own -name wins; for a tap held by a
    // plain process, libvirt's name beats "comm (pid N)".
    w.libvirt.insert("vnet1".into(), "from-libvirt".into());
    let ports = w.ports();
    assert_eq!(find(&ports, "vnet7").guest.as_deref(), Some("db-qemu"));
    assert_eq!(find(&ports, "vnet1").guest.as_deref(), Some("from-libvirt"));
    w.guests = GuestIndex::default();
    let ports = w.ports();
    assert_eq!(find(&ports, "vnet7").guest.as_deref(), Some("db"));
    assert_eq!(find(&ports, "vnet0").guest, None, "nobody holds it");
}

#[test]
fn leases_only_count_in_the_ports_own_network() {
    let mut w = World::new();
    // GUEST_B's lease belongs to "elsewhere": vnet1 keeps its ARP address.
    assert_eq!(find(&w.ports(), "vnet1").ip.as_deref(), Some("10.0.0.50"));
    w.leases[1].0 = "lab".into();
    let ports = w.ports();
    assert_eq!(find(&ports, "vnet1").ip.as_deref(), Some("10.0.0.99"));
    assert_eq!(find(&ports, "vnet1").ip_source, Some(IpSource::Lease));
    // Foreign bridges use no lease, and uplink ports get no guest address at all.
    assert_eq!(find(&ports, "eth0").ip, None);
    assert_eq!(find(&ports, "eth0").guest_mac, None);
}

#[test]
fn port_fields_from_the_link() {
    let ports = World::new().ports();
    let v = find(&ports, "vnet0");
    assert_eq!(v.mac.as_deref(), Some("fe:00:00:00:00:0b"));
    assert_eq!((v.mtu, v.up, v.oper_state.as_str()), (1500, true, "up"));
    let local = find(&ports, "ve-local");
    assert_eq!((local.up, local.oper_state.as_str()), (false, "down"));
    assert_eq!(v.key(4), PortKey::new(4, 11));
}

#[test]
fn counters_lookup_in_sorted_list() {
    let c = |n| LinkCounters {
        rx_bytes: n,
        ..Default::default()
    };
    let list = [(1, c(1)), (5, c(5)), (9, c(9))];
    assert_eq!(counters_of(&list, 5), Some(c(5)));
    assert_eq!(counters_of(&list, 4), None);
    assert_eq!(counters_of(&[], 4), None);
}

#[test]
fn network_ports_from_definitions() {
    let nat = crate::model::parse_network_xml(
        "<network><name>lab</name><forward mode='nat'/><bridge name='sybr3'/>\
         <ip address='10.0.0.1' prefix='24'/></network>",
    )
    .expect("valid xml");
    let np = NetworkPorts::from_def(&nat, Some("/x/lab.leases".into()));
    assert_eq!(np.bridge.as_deref(), Some("sybr3"));
    assert!(np.macvtap_pool.is_empty());
    let direct = crate::model::parse_network_xml(
        "<network><name>d</name><forward mode='private'><interface dev='eth1'/>\
         <interface dev='eth2'/></forward></network>",
    )
    .expect("valid xml");
    let np = NetworkPorts::from_def(&direct, None);
    assert_eq!(np.bridge, None);
    assert_eq!(np.macvtap_pool, ["eth1", "eth2"]);
}
