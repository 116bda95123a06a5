//! A deterministic fake KVM host (pure): three networks, six ports, leases and host interfaces,
//! with counters that grow by a fixed pattern each step. Commands change it as a real backend
//! would, so the demo and the tests can start, stop and undefine networks.

use std::time::Duration;

use super::inventory::{fake_ifaces, fake_leases, fake_networks, fake_ports};
use crate::telemetry::LinkCounters;
use crate::tui::data::{
    Command, CommandResult, HostSummary, IfaceRow, NetworkRow, PortRow, Snapshot,
};

/// Wall-clock time of step zero, unix seconds (2023-11-14 22:13:20 UTC).
pub const FAKE_EPOCH_UNIX: u64 = 1_700_000_000;

/// Relative load per step, repeating, in tenths: traffic wobbles but stays reproducible.
const WOBBLE: [u64; 10] = [10, 12, 15, 11, 9, 14, 18, 13, 10, 7];

/// Average packet size used to derive packet counters from bytes.
const PACKET_BYTES: u64 = 800;

/// One link of the fake host and how fast it moves traffic (bytes per second).
#[derive(Debug, Clone)]
pub(super) struct FakeLink {
    rx_bps: u64,
    tx_bps: u64,
    /// A packet is dropped every this many steps (0 = never).
    drop_every: u64,
    counters: LinkCounters,
}

impl FakeLink {
    pub(super) fn new(rx_bps: u64, tx_bps: u64, drop_every: u64) -> Self {
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
        if self.drop_every > 0 && step.is_multiple_of(self.drop_every) {
            c.rx_dropped += 1;
        }
    }
}

/// The fake host's state.
#[derive(Debug, Clone)]
pub struct FakeHost {
    step: u64,
    at: Duration,
    pub(super) networks: Vec<NetworkRow>,
    pub(super) ports: Vec<(PortRow, FakeLink)>,
    pub(super) ifaces: Vec<(IfaceRow, FakeLink)>,
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
            notices: Vec::new(),
            host: HostSummary {
                hostname: "kvm-lab01".into(),
                kernel: "6.8.0-45-generic".into(),
                uptime_secs: 1_105_230 + self.at.as_secs(),
                load: [0.42, 0.57, 0.61],
                simulated: true,
            },
            at: self.at,
            networks: self.networks.clone(),
            ports: self
                .ports
                .iter()
                .map(|(r, l)| with_counters(r, l))
                .collect(),
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
            taken_subnets: self.taken_subnets(),
        }
    }

    /// The host's subnets: its default route, a VPN route to 192.168.100.0/24, its
    /// addresses, and the subnets of the active networks.
    fn taken_subnets(&self) -> Vec<String> {
        let mut out: Vec<String> = vec!["0.0.0.0/0".into(), "192.168.100.0/24".into()];
        let addrs = self.ifaces.iter().flat_map(|(i, _)| i.addrs.iter());
        let nets = self
            .networks
            .iter()
            .filter(|n| n.active)
            .flat_map(|n| n.ipv4.iter().chain(n.ipv6.iter()));
        for text in addrs.chain(nets) {
            if let Ok(net) = text.parse::<ipnet::IpNet>() {
                out.push(net.trunc().to_string());
            }
        }
        out
    }

    /// Run a command against the fake host, as a backend would.
    pub fn apply(&mut self, id: u64, cmd: &Command) -> CommandResult {
        let outcome = self.apply_inner(cmd);
        CommandResult {
            id,
            ok: outcome.is_ok(),
            message: outcome.unwrap_or_else(|e| e),
            ..CommandResult::default()
        }
    }

    fn apply_inner(&mut self, cmd: &Command) -> Result<String, String> {
        if let Some(outcome) = self.apply_wizard(cmd) {
            return outcome;
        }
        let name = cmd.network().unwrap_or_default();
        let pos = self
            .networks
            .iter()
            .position(|n| n.name == name)
            .ok_or_else(|| format!("network '{name}' is not defined"))?;
        let net = &mut self.networks[pos];
        match cmd {
            Command::StartNetwork(_) if net.active => {
                Err(format!("network '{name}' is already active"))
            }
            Command::StartNetwork(_) | Command::RepairNetwork(_) => Ok(start(net)),
            Command::StopNetwork(_) if !net.active => {
                Err(format!("network '{name}' is not active"))
            }
            Command::StopNetwork(_) => {
                net.active = false;
                net.dnsmasq_pid = None;
                net.firewall_rules = 0;
                net.drift.clear();
                Ok(format!("network '{name}' stopped"))
            }
            Command::SetAutostart(_, on) => {
                net.autostart = *on;
                Ok(format!(
                    "network '{name}' autostart {}",
                    if *on { "on" } else { "off" }
                ))
            }
            Command::Undefine(_) if net.active => Err(format!(
                "network '{name}' is active: stop it before undefining it"
            )),
            Command::Undefine(_) => {
                self.networks.remove(pos);
                Ok(format!("network '{name}' undefined"))
            }
            other => Err(format!("the fake host cannot {}", other.describe())),
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
