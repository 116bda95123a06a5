//! A deterministic fake KVM host (pure): three networks, six ports, leases and host interfaces,
//! with counters that grow by a fixed pattern each step. Commands change it as a real backend
//! would, so the demo and the tests can start, stop and undefine networks.

use std::time::Duration;

use crate::telemetry::LinkCounters;
use crate::tui::data::{
    Command, CommandResult, HostSummary, IfaceRow, LeaseRow, NetworkRow, PortRow, Snapshot,
};

/// Wall-clock time of step zero, unix seconds (2023-11-14 22:13:20 UTC).
pub const FAKE_EPOCH_UNIX: u64 = 1_700_000_000;

/// Relative load per step, repeating, in tenths: traffic wobbles but stays reproducible.
const WOBBLE: [u64; 10] = [10, 12, 15, 11, 9, 14, 18, 13, 10, 7];

/// Average packet size used to derive packet counters from bytes.
const PACKET_BYTES: u64 = 800;

/// One link of the fake host and how fast it moves traffic (bytes per second).
#[derive(Debug, Clone)]
struct FakeLink {
    rx_bps: u64,
    tx_bps: u64,
    /// A packet is dropped every this many steps (0 = never).
    drop_every: u64,
    counters: LinkCounters,
}

impl FakeLink {
    fn new(rx_bps: u64, tx_bps: u64, drop_every: u64) -> Self {
        Self {
            rx_bps,
            tx_bps,
            drop_every,
            counters: LinkCounters::default(),
        }
    }

    fn step(&mut self, step: u64, salt: u64, dt: Duration) {
        let wobble = WOBBLE[((step + salt) % WOBBLE.len() as u64) as usize];
        let ms = dt.as_millis() as u64;
        let rx = self.rx_bps * wobble * ms / 10_000;
        let tx = self.tx_bps * wobble * ms / 10_000;
        let c = &mut self.counters;
        c.rx_bytes += rx;
        c.tx_bytes += tx;
        c.rx_packets += rx.div_ceil(PACKET_BYTES);
        c.tx_packets += tx.div_ceil(PACKET_BYTES);
        if self.drop_every > 0 && step % self.drop_every == 0 {
            c.rx_dropped += 1;
        }
    }
}

/// The fake host's state.
#[derive(Debug, Clone)]
pub struct FakeHost {
    step: u64,
    at: Duration,
    networks: Vec<NetworkRow>,
    ports: Vec<(PortRow, FakeLink)>,
    ifaces: Vec<(IfaceRow, FakeLink)>,
}

impl Default for FakeHost {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeHost {
    /// The host at step zero.
    pub fn new() -> Self {
        Self {
            step: 0,
            at: Duration::ZERO,
            networks: fake_networks(),
            ports: fake_ports(),
            ifaces: fake_ifaces(),
        }
    }

    /// Advance time by `dt`: counters grow by the traffic of that interval.
    pub fn step(&mut self, dt: Duration) {
        self.step += 1;
        self.at += dt;
        let step = self.step;
        for (i, (_, link)) in self.ports.iter_mut().enumerate() {
            link.step(step, i as u64, dt);
        }
        for (i, (_, link)) in self.ifaces.iter_mut().enumerate() {
            link.step(step, 3 + i as u64, dt);
        }
    }

    /// What an observer would see now.
    pub fn snapshot(&self) -> Snapshot {
        let now_unix = FAKE_EPOCH_UNIX + self.at.as_secs();
        let with_counters = |row: &PortRow, link: &FakeLink| PortRow {
            counters: link.counters,
            ..row.clone()
        };
        Snapshot {
            host: HostSummary {
                hostname: "kvm-lab01".into(),
                kernel: "6.8.0-45-generic".into(),
                uptime_secs: 1_105_230 + self.at.as_secs(),
                load: [0.42, 0.57, 0.61],
            },
            at: self.at,
            networks: self.networks.clone(),
            ports: self.ports.iter().map(|(r, l)| with_counters(r, l)).collect(),
            leases: fake_leases(&self.networks),
            ifaces: self
                .ifaces
                .iter()
                .map(|(r, l)| IfaceRow {
                    counters: l.counters,
                    ..r.clone()
                })
                .collect(),
            now_unix,
        }
    }

    /// Run a command against the fake host, as a backend would.
    pub fn apply(&mut self, id: u64, cmd: &Command) -> CommandResult {
        let outcome = self.apply_inner(cmd);
        CommandResult {
            id,
            ok: outcome.is_ok(),
            message: outcome.unwrap_or_else(|e| e),
        }
    }

    fn apply_inner(&mut self, cmd: &Command) -> Result<String, String> {
        let name = cmd.network().to_string();
        let pos = self
            .networks
            .iter()
            .position(|n| n.name == name)
            .ok_or_else(|| format!("network '{name}' is not defined"))?;
        let net = &mut self.networks[pos];
        match cmd {
            Command::StartNetwork(_) if net.active => Err(format!("network '{name}' is already active")),
            Command::StartNetwork(_) | Command::RepairNetwork(_) => Ok(start(net)),
            Command::StopNetwork(_) if !net.active => Err(format!("network '{name}' is not active")),
            Command::StopNetwork(_) => {
                net.active = false;
                net.dnsmasq_pid = None;
                net.firewall_rules = 0;
                net.drift.clear();
                Ok(format!("network '{name}' stopped"))
            }
            Command::SetAutostart(_, on) => {
                net.autostart = *on;
                Ok(format!("network '{name}' autostart {}", if *on { "on" } else { "off" }))
            }
            Command::Undefine(_) if net.active => {
                Err(format!("network '{name}' is active: stop it before undefining it"))
            }
            Command::Undefine(_) => {
                self.networks.remove(pos);
                Ok(format!("network '{name}' undefined"))
            }
        }
    }
}

/// Start (or restart) a fake network: dnsmasq and rules come up, drift goes away.
fn start(net: &mut NetworkRow) -> String {
    let was_active = net.active;
    net.active = true;
    net.drift.clear();
    if net.dhcp.is_some() {
        net.dnsmasq_pid = Some(4000 + net.name.len() as i32);
    }
    net.firewall_rules = if net.mode == "isolated" { 2 } else { 7 };
    let verb = if was_active { "repaired" } else { "started" };
    format!("network '{}' {verb}", net.name)
}

fn xml(name: &str, mode: &str, bridge: &str, ip: &str, dhcp: Option<(&str, &str)>) -> String {
    let forward = match mode {
        "isolated" => String::new(),
        m => format!("  <forward mode='{m}'/>\n"),
    };
    let dhcp = dhcp.map_or(String::new(), |(a, b)| {
        format!("    <dhcp>\n      <range start='{a}' end='{b}'/>\n    </dhcp>\n")
    });
    format!(
        "<network>\n  <name>{name}</name>\n{forward}  <bridge name='{bridge}' stp='on' delay='0'/>\n  \
         <ip address='{ip}' netmask='255.255.255.0'>\n{dhcp}  </ip>\n</network>\n"
    )
}

fn fake_networks() -> Vec<NetworkRow> {
    let dhcp = |a: &str, b: &str| Some(format!("{a}–{b}"));
    vec![
        NetworkRow {
            name: "default".into(),
            active: true,
            autostart: true,
            mode: "nat".into(),
            bridge: Some("virbr0".into()),
            ipv4: Some("192.168.122.1/24".into()),
            ipv6: None,
            dhcp: dhcp("192.168.122.2", "192.168.122.254"),
            drift: vec![],
            dnsmasq_pid: Some(1234),
            firewall_rules: 7,
            xml: xml("default", "nat", "virbr0", "192.168.122.1", Some(("192.168.122.2", "192.168.122.254"))),
            error: None,
        },
        NetworkRow {
            name: "routed".into(),
            active: true,
            autostart: false,
            mode: "route".into(),
            bridge: Some("virbr1".into()),
            ipv4: Some("10.10.0.1/24".into()),
            ipv6: Some("fd00:10::1/64".into()),
            dhcp: dhcp("10.10.0.100", "10.10.0.199"),
            drift: vec!["dnsmasq is not running".into()],
            dnsmasq_pid: None,
            firewall_rules: 4,
            xml: xml("routed", "route", "virbr1", "10.10.0.1", Some(("10.10.0.100", "10.10.0.199"))),
            error: None,
        },
        NetworkRow {
            name: "isolated".into(),
            active: false,
            autostart: false,
            mode: "isolated".into(),
            bridge: Some("virbr2".into()),
            ipv4: Some("172.16.5.1/24".into()),
            ipv6: None,
            dhcp: None,
            drift: vec![],
            dnsmasq_pid: None,
            firewall_rules: 0,
            xml: xml("isolated", "isolated", "virbr2", "172.16.5.1", None),
            error: None,
        },
    ]
}

#[allow(clippy::too_many_arguments)]
fn port(
    ifindex: u32,
    ifname: &str,
    kind: &str,
    bridge: Option<&str>,
    network: Option<&str>,
    mac: &str,
    guest: Option<&str>,
    ip: Option<&str>,
) -> PortRow {
    PortRow {
        ifindex,
        ifname: ifname.into(),
        kind: kind.into(),
        bridge: bridge.map(Into::into),
        network: network.map(Into::into),
        mac: Some(mac.into()),
        mtu: 1500,
        up: true,
        guest: guest.map(Into::into),
        ip: ip.map(Into::into),
        counters: LinkCounters::default(),
    }
}

fn fake_ports() -> Vec<(PortRow, FakeLink)> {
    let (v0, v1) = (Some("virbr0"), Some("virbr1"));
    let (def, rtd) = (Some("default"), Some("routed"));
    vec![
        (
            port(10, "vnet0", "tap", v0, def, "52:54:00:6b:3c:01", Some("web01"), Some("192.168.122.10")),
            FakeLink::new(250_000, 1_200_000, 0),
        ),
        (
            port(11, "vnet1", "tap", v0, def, "52:54:00:6b:3c:02", Some("db01"), Some("192.168.122.11")),
            FakeLink::new(40_000, 80_000, 5),
        ),
        (
            port(12, "vnet2", "tap", v1, rtd, "52:54:00:a1:07:03", Some("build01"), None),
            FakeLink::new(5_000, 3_000, 0),
        ),
        (
            port(13, "veth-ci0", "veth", v1, rtd, "02:5e:1c:00:00:04", Some("ci-runner"), Some("10.10.0.120")),
            FakeLink::new(600_000, 30_000, 0),
        ),
        (
            port(14, "macvtap0", "macvtap", None, None, "52:54:00:c4:19:05", Some("nas01"), None),
            FakeLink::new(2_000_000, 150_000, 0),
        ),
        (
            port(15, "veth3f9a2c1", "veth", Some("docker0"), None, "a2:11:5f:3e:90:06", None, None),
            FakeLink::new(1_000, 1_000, 0),
        ),
    ]
}

fn fake_leases(networks: &[NetworkRow]) -> Vec<LeaseRow> {
    let lease = |net: &str, mac: &str, ip: &str, host: Option<&str>, expiry: Option<u64>| LeaseRow {
        network: net.into(),
        mac: Some(mac.into()),
        ip: ip.into(),
        hostname: host.map(Into::into),
        expiry,
    };
    let fixed = FAKE_EPOCH_UNIX;
    let all = vec![
        lease("default", "52:54:00:6b:3c:01", "192.168.122.10", Some("web01"), Some(fixed + 3_540)),
        lease("default", "52:54:00:6b:3c:02", "192.168.122.11", Some("db01"), Some(fixed + 1_805)),
        lease("default", "52:54:00:6b:3c:7f", "192.168.122.57", None, Some(fixed + 95)),
        lease("routed", "02:5e:1c:00:00:04", "10.10.0.120", Some("ci-runner"), None),
    ];
    all.into_iter()
        .filter(|l| networks.iter().any(|n| n.name == l.network && n.active))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn iface(
    ifindex: u32,
    ifname: &str,
    kind: &str,
    mac: &str,
    mtu: u32,
    addrs: &[&str],
    master: Option<&str>,
) -> IfaceRow {
    IfaceRow {
        ifindex,
        ifname: ifname.into(),
        kind: kind.into(),
        mac: Some(mac.into()),
        mtu,
        up: true,
        addrs: addrs.iter().map(|a| a.to_string()).collect(),
        master: master.map(Into::into),
        counters: LinkCounters::default(),
    }
}

fn fake_ifaces() -> Vec<(IfaceRow, FakeLink)> {
    vec![
        (
            iface(2, "eth0", "physical", "3c:ec:ef:10:00:01", 1500, &["198.51.100.10/24", "2001:db8:1::10/64"], None),
            FakeLink::new(120_000, 60_000, 0),
        ),
        (
            iface(3, "eth1", "physical", "3c:ec:ef:10:00:02", 9000, &[], Some("bond0")),
            FakeLink::new(3_000_000, 1_800_000, 0),
        ),
        (
            iface(4, "bond0", "bond", "3c:ec:ef:10:00:02", 9000, &[], Some("br0")),
            FakeLink::new(3_000_000, 1_800_000, 0),
        ),
        (
            iface(5, "br0", "bridge", "3c:ec:ef:10:00:02", 9000, &["203.0.113.5/24"], None),
            FakeLink::new(2_900_000, 1_750_000, 0),
        ),
        (
            iface(6, "eth1.100", "vlan", "3c:ec:ef:10:00:02", 1500, &["10.100.0.2/24"], None),
            FakeLink::new(80_000, 20_000, 0),
        ),
    ]
}
