//! The simulated host of `--demo` and of the TUI tests: a [`FakeHost`] with a few NICs, a host
//! bridge and a Docker bridge, three networks defined and two started through the real backend
//! (the same planner, transactions and dnsmasq configuration as on a real host), guests that
//! took their leases over the last hour, and one network whose dnsmasq died (drift).
//!
//! [`source`] runs it live under the real [`LiveSource`] (wall clock); [`series`] takes
//! snapshots one fake second apart on a manual clock, the same on every run, for tests.

use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::watch;

use super::{refresh_networks, snapshot, LiveSource};
use crate::backend::{host_facts, Backend};
use crate::host::fake::{FakeHost, GuestKind, Traffic, FAKE_EPOCH_UNIX};
use crate::host::Host;
use crate::state::LinkKind;
use crate::store::Paths;
use crate::telemetry::collector::{Collector, CollectorOptions};
use crate::telemetry::snapshot::SnapshotCause;
use crate::tui::data::{Command, CommandResult, ProgressSender, Snapshot};

/// The simulated host's name.
pub const HOSTNAME: &str = "kvm-lab01";

const DEFAULT_XML: &str = "<network>
  <name>default</name>
  <uuid>5d1a3c2e-7f4b-4c1e-9a0d-3b2c1d0e9f01</uuid>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <mac address='52:54:00:0e:51:01'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>";

const ROUTED_XML: &str = "<network>
  <name>routed</name>
  <uuid>5d1a3c2e-7f4b-4c1e-9a0d-3b2c1d0e9f02</uuid>
  <forward mode='route'/>
  <bridge name='virbr1' stp='on' delay='0'/>
  <mac address='52:54:00:0e:51:02'/>
  <ip address='10.10.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.10.0.100' end='10.10.0.199'/>
      <host mac='02:5e:1c:00:00:04' name='ci-runner' ip='10.10.0.120'>
        <lease expiry='0'/>
      </host>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00:10::1' prefix='64'/>
</network>";

const ISOLATED_XML: &str = "<network>
  <name>isolated</name>
  <uuid>5d1a3c2e-7f4b-4c1e-9a0d-3b2c1d0e9f03</uuid>
  <bridge name='virbr2' stp='on' delay='0'/>
  <mac address='52:54:00:0e:51:03'/>
  <ip address='172.16.5.1' netmask='255.255.255.0'/>
</network>";

fn mac(text: &str) -> Option<[u8; 6]> {
    crate::host::fake::parse_mac(text)
}

/// The host's own interfaces: an uplink with the default route, a bond of a second NIC under a
/// host bridge, a VLAN, and Docker's bridge with a container on it.
fn hardware(h: &FakeHost) -> Result<()> {
    let net = |s: &str| s.parse::<ipnet::IpNet>().expect("literal");
    h.add_link(
        "eth0",
        LinkKind::Physical,
        mac("3c:ec:ef:10:00:01"),
        Traffic::steady(120_000.0, 60_000.0, 0.0),
    )?;
    h.add_link(
        "eth1",
        LinkKind::Physical,
        mac("3c:ec:ef:10:00:02"),
        Traffic::steady(3_000_000.0, 1_800_000.0, 0.0),
    )?;
    h.add_link(
        "bond0",
        LinkKind::Bond,
        mac("3c:ec:ef:10:00:02"),
        Traffic::Sum,
    )?;
    h.add_link(
        "br0",
        LinkKind::Bridge,
        mac("3c:ec:ef:10:00:02"),
        Traffic::Sum,
    )?;
    let vlan = h.add_link(
        "eth1.100",
        LinkKind::Vlan,
        mac("3c:ec:ef:10:00:02"),
        Traffic::steady(80_000.0, 20_000.0, 0.0),
    )?;
    let eth1 = h.state().link_by_name("eth1").map(|l| l.ifindex);
    h.edit_link(vlan, |l| l.parent = eth1);
    h.add_link(
        "docker0",
        LinkKind::Bridge,
        mac("02:42:5c:10:00:07"),
        Traffic::Sum,
    )?;
    for name in ["eth0", "eth1", "bond0", "br0", "eth1.100", "docker0"] {
        h.set_admin(name, true)?;
    }
    for name in ["eth1", "bond0", "br0"] {
        let i = h.state().link_by_name(name).map(|l| l.ifindex);
        if let Some(i) = i {
            h.edit_link(i, |l| l.mtu = 9000);
        }
    }
    h.set_master("eth1", "bond0")?;
    h.set_master("bond0", "br0")?;
    h.add_address("eth0", net("198.51.100.10/24"))?;
    h.add_address("eth0", net("2001:db8:1::10/64"))?;
    h.add_address("br0", net("203.0.113.5/24"))?;
    h.add_address("eth1.100", net("10.100.0.2/24"))?;
    h.add_address("docker0", net("172.17.0.1/16"))?;
    h.add_route(net("0.0.0.0/0"), "198.51.100.1".parse().ok(), "eth0")?;
    let veth = h.add_link(
        "veth3f9a2c1",
        LinkKind::Veth,
        mac("a2:11:5f:3e:90:06"),
        Traffic::steady(1_000.0, 1_000.0, 0.0),
    )?;
    h.edit_link(veth, |l| l.peer_netnsid = Some(1));
    h.set_admin("veth3f9a2c1", true)?;
    h.set_master("veth3f9a2c1", "docker0")?;
    Ok(())
}

/// Builds the world on `backend`'s host over the hour before the clock's present: networks
/// first, then guests arriving (one leaves again), then the routed network's dnsmasq dies.
pub async fn populate(backend: &Backend<FakeHost>) -> Result<()> {
    let h = backend.host();
    hardware(h)?;
    let facts = host_facts(&h.observe().await?);
    for xml in [DEFAULT_XML, ROUTED_XML, ISOLATED_XML] {
        backend.define_xml(xml, &facts)?;
    }
    backend.set_autostart("default", true)?;
    for name in ["default", "routed"] {
        backend
            .start(name, |_, _| {})
            .await
            .wrap_err_with(|| format!("starting the demo's {name}"))?;
    }
    let guest = |name: &str, kind, port: &str, bridge, mac: &str, traffic| {
        h.add_guest(name, kind, port, bridge, mac, Some(Some(name)), traffic)
    };
    h.name_netns(1, "docker-3f9a2c1");
    h.name_netns(2, "ci-runner");
    // 95 s before the present a guest took a lease, then went away; its lease runs out soon.
    h.advance(Duration::from_secs(3_600 - 3_505));
    h.add_guest(
        "scratch",
        GuestKind::Tap,
        "vnet9",
        Some("virbr0"),
        "52:54:00:6b:3c:7f",
        Some(None),
        Traffic::Idle,
    )?;
    h.remove_link("vnet9")?;
    h.advance(Duration::from_secs(3_505 - 1_795));
    guest(
        "db01",
        GuestKind::Tap,
        "vnet1",
        Some("virbr0"),
        "52:54:00:6b:3c:02",
        Traffic::steady(40_000.0, 80_000.0, 5.0),
    )?;
    guest(
        "ci-runner",
        GuestKind::Veth { nsid: 2 },
        "veth-ci0",
        Some("virbr1"),
        "02:5e:1c:00:00:04",
        Traffic::steady(600_000.0, 30_000.0, 0.0),
    )?;
    h.kill_dnsmasq(&backend.dnsmasq_paths("routed").conf);
    guest(
        "build01",
        GuestKind::Tap,
        "vnet2",
        Some("virbr1"),
        "52:54:00:a1:07:03",
        Traffic::steady(5_000.0, 3_000.0, 0.0),
    )?;
    guest(
        "nas01",
        GuestKind::Macvtap,
        "macvtap0",
        None,
        "52:54:00:c4:19:05",
        Traffic::steady(2_000_000.0, 150_000.0, 0.0),
    )?;
    let eth0 = h.state().link_by_name("eth0").map(|l| l.ifindex);
    let macvtap = h.state().link_by_name("macvtap0").map(|l| l.ifindex);
    if let Some(i) = macvtap {
        h.edit_link(i, |l| {
            l.parent = eth0;
            l.macvtap_mode = Some("bridge".into());
        });
    }
    h.advance(Duration::from_secs(1_795 - 60));
    guest(
        "web01",
        GuestKind::Tap,
        "vnet0",
        Some("virbr0"),
        "52:54:00:6b:3c:01",
        Traffic::steady(250_000.0, 1_200_000.0, 0.0),
    )?;
    forwards(backend).await?;
    h.advance(Duration::from_secs(60));
    Ok(())
}

/// Two port forwards into the NAT network, to the web and database guests' addresses, with
/// traffic through them (the fake counts on their named counters).
async fn forwards(backend: &Backend<FakeHost>) -> Result<()> {
    use crate::model::forward::{Forward, PortRange, Proto, Target};
    let list = [
        (8080, 80, None, "192.168.122.4", "web01 http", 3.5, 42_000.0),
        (
            2222,
            22,
            Some([198, 51, 100, 10]),
            "192.168.122.3",
            "db01 ssh",
            0.5,
            900.0,
        ),
    ];
    for (port, to_port, address, to, comment, pps, bps) in list {
        let f = Forward {
            proto: Proto::Tcp,
            port: PortRange::single(port),
            address: address.map(std::net::Ipv4Addr::from),
            target: Target::Addr(to.parse().expect("literal")),
            to_port: Some(PortRange::single(to_port)),
            comment: Some(comment.to_owned()),
        };
        backend
            .add_forward("default", f, false, None)
            .await
            .wrap_err_with(|| format!("adding the demo's forward tcp/{port}"))?;
        let (hits, bytes) = crate::plan::firewall::forward_counters("default", Proto::Tcp, port);
        backend.host().count_steadily(&hits, pps, 0.0);
        backend.host().count_steadily(&bytes, 0.0, bps);
    }
    Ok(())
}

/// A backend over a fresh simulated host whose clock starts an hour before `present_unix`
/// (`None`: the wall clock), populated; its files live in `home`.
async fn world(home: &std::path::Path, present_unix: Option<u64>) -> Result<Backend<FakeHost>> {
    let host = match present_unix {
        Some(t) => FakeHost::manual(HOSTNAME, t - 3_600),
        None => FakeHost::new_at(
            HOSTNAME,
            std::time::SystemTime::now() - Duration::from_secs(3_600),
        ),
    };
    let backend = Backend::new(Paths::under(home), host);
    populate(&backend).await?;
    Ok(backend)
}

/// The simulated host under the real live source, on the wall clock; its files live in
/// `home` (keep it until the source is dropped). Commands take `step_delay` per plan step.
pub fn source(
    home: &std::path::Path,
    interval_ms: u64,
    step_delay: Duration,
) -> Result<LiveSource> {
    let home = home.to_owned();
    LiveSource::start(
        move || async move {
            let backend = world(&home, None).await?;
            backend.host().set_step_delay(step_delay);
            Ok(backend)
        },
        interval_ms,
    )
}

/// The simulated host on a manual clock, driven by hand: snapshots, commands through the
/// real backend (with the steps they report), and faults — the same on every run. For tests
/// and screenshots.
pub struct Demo {
    rt: tokio::runtime::Runtime,
    backend: Backend<FakeHost>,
    collector: Collector<FakeHost>,
    nets: watch::Sender<Vec<crate::telemetry::ports::NetworkPorts>>,
    counters: super::forwards::ForwardCounters,
    _home: crate::store::TempHome,
}

impl Default for Demo {
    fn default() -> Self {
        Self::new()
    }
}

impl Demo {
    /// The world at [`FAKE_EPOCH_UNIX`].
    pub fn new() -> Demo {
        let home = crate::store::temp_home("switchyard-demo-")
            .expect("a temporary folder for the simulated host");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (backend, collector, nets) = rt.block_on(async {
            let backend = world(home.path(), Some(FAKE_EPOCH_UNIX))
                .await
                .expect("the simulated host builds");
            let (nets, nets_rx) = watch::channel(backend.network_ports());
            let collector =
                Collector::open(backend.host_arc(), nets_rx, CollectorOptions::default())
                    .await
                    .expect("a collector on the simulated host");
            (backend, collector, nets)
        });
        Demo {
            rt,
            backend,
            collector,
            nets,
            counters: Default::default(),
            _home: home,
        }
    }

    /// The fake host (to add guests or faults).
    pub fn host(&self) -> &FakeHost {
        self.backend.host()
    }

    /// The backend over it.
    pub fn backend(&self) -> &Backend<FakeHost> {
        &self.backend
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.host().advance(by);
    }

    /// What the live source would publish now.
    pub fn snapshot(&mut self) -> Snapshot {
        let Demo {
            rt,
            backend,
            collector,
            nets,
            counters,
            ..
        } = self;
        rt.block_on(async {
            let now = backend.network_ports();
            nets.send_if_modified(|current| {
                let changed = *current != now;
                *current = now;
                changed
            });
            let view = refresh_networks(backend, None, None).await;
            let ports = collector
                .cycle(SnapshotCause::Tick)
                .await
                .expect("a cycle on the simulated host");
            counters
                .poll(backend.host(), ports.at, &view.forwards)
                .await;
            snapshot(
                backend.host(),
                &ports,
                (&view, 0),
                &[],
                counters,
                &mut super::rows::RowCache::default(),
            )
        })
    }

    /// `n + 1` snapshots one fake second apart, the first one now.
    pub fn series(&mut self, n: usize) -> Vec<Snapshot> {
        let mut out = vec![self.snapshot()];
        for _ in 0..n {
            self.advance(Duration::from_secs(1));
            out.push(self.snapshot());
        }
        out
    }

    /// Carries out `cmd` as the live source's backend actor does; returns the steps it
    /// reported and its result.
    pub fn execute(&mut self, id: u64, cmd: Command) -> (Vec<String>, CommandResult) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let progress = ProgressSender::new(id, tx);
        let result = self
            .rt
            .block_on(super::commands::result(&self.backend, id, cmd, &progress));
        let mut steps = Vec::new();
        while let Ok(p) = rx.try_recv() {
            steps.push(p.step);
        }
        (steps, result)
    }

    /// The plan text the backend answers a preview of `xml` with.
    pub fn preview(&mut self, xml: &str) -> Result<String, String> {
        let (_, r) = self.execute(
            0,
            Command::PreviewStart {
                xml: xml.to_owned(),
            },
        );
        if r.ok {
            Ok(r.message)
        } else {
            Err(r.message)
        }
    }
}

/// `n + 1` snapshots of the simulated host, one fake second apart, starting at
/// [`FAKE_EPOCH_UNIX`]: the same on every run.
pub fn series(n: usize) -> Vec<Snapshot> {
    Demo::new().series(n)
}
