//! [`FakeHost`]: an in-memory kernel beneath the real backend, for `--demo`, the TUI tests and
//! backend tests that need no root. It holds links, addresses, routes, forwarding sysctls,
//! neighbour tables, an nftables ruleset (an interpreter of nft's JSON), dnsmasq processes that
//! hand out leases, and guests with deterministic traffic. Plan steps run through the same
//! [`steps::run_step`](super::steps::run_step) as on the real host; only the primitives are
//! fake. Files (definitions, records, dnsmasq's configuration and lease files) are real files
//! under the backend's home, which the caller keeps private (a temporary folder).
//!
//! Its clock is either the wall clock, or a manual one that only [`FakeHost::advance`] moves
//! (so a series of snapshots is the same on every run). Faults: [`FakeHost::fail_step`] makes
//! the next step of a kind fail with an errno, [`FakeHost::set_step_delay`] slows every step
//! (to see spinners), [`FakeHost::kill_dnsmasq`] ends a network's dnsmasq behind its back.

mod dnsmasq;
mod links;
mod nft;
mod probe;
mod traffic;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::channel::mpsc;
use futures::StreamExt;
use ipnet::IpNet;
use serde_json::Value;

pub use links::FakeLink;
pub use traffic::Traffic;

use super::apply::Outcome;
use super::error::HostError;
use super::netlink::{BridgeSpec, MacvtapMode};
use super::seam::{DnsmasqSetup, Events, FileStamp, GuestInterface, Host, HostEvent};
use super::steps::{self, Kernel, Stopping};
use crate::host::procscan::{GuestIndex, GuestProcess};
use crate::plan::bandwidth::Shaping;
use crate::plan::firewall::ObservedTable;
use crate::plan::Step;
use crate::state::{
    ForwardingSysctls, HostState, HostSummary, LinkCounters, LinkInfo, LinkKind, Neighbour,
};

/// The fake clock's epoch for tests: 2026-01-01T00:00:00Z.
pub const FAKE_EPOCH_UNIX: u64 = 1_767_225_600;

/// The namespace identity every fake host reports ([`Host::netns_id`]): made up, the same on
/// every run, shaped like the inode number of a real namespace.
pub const FAKE_NETNS_ID: u64 = 4_026_532_008;

/// How a guest reaches its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestKind {
    /// A QEMU process holding a tap (`vnetN`).
    Tap,
    /// A container or namespace behind a veth (namespace id `nsid`).
    Veth { nsid: i32 },
    /// A QEMU process holding `/dev/tapN` of a macvtap.
    Macvtap,
}

/// A guest: its port, and what it asks of DHCP.
#[derive(Debug, Clone)]
pub struct FakeGuest {
    pub name: String,
    pub kind: GuestKind,
    /// Its port's interface index on the host.
    pub port: u32,
    /// The MAC of the guest's own interface (lower case).
    pub mac: String,
    /// The host name it sends with DHCP requests; `None` asks for no address at all.
    pub dhcp_hostname: Option<Option<String>>,
    pub pid: u32,
}

struct Inner {
    links: links::Links,
    nft: nft::Ruleset,
    dnsmasq: dnsmasq::Dnsmasqs,
    guests: Vec<FakeGuest>,
    /// When each link appeared, in seconds on the fake clock.
    born: BTreeMap<u32, f64>,
    netns: HashMap<i32, String>,
    next_mac: u32,
    next_guest_pid: u32,
    /// What the kernel's trace of the next `why` probe says (`trace id …` lines), if a test
    /// scripted it: the fake has no packet path of its own to trace.
    trace_script: Option<Vec<String>>,
    /// The trace once a fix has run (the fake cannot tell what a fix changes: a test says).
    trace_after_fix: Option<Vec<String>>,
    /// Every fix run, in order: its commands.
    fix_runs: Vec<Vec<Vec<String>>>,
    /// The next fix fails with this stderr.
    fail_fix: Option<String>,
    /// What guests serve, by guest MAC: (protocol, port) they answer probes on.
    services: Vec<(String, crate::model::forward::Proto, u16)>,
    /// Named nft counters that grow with the clock (the fake forwards no packets itself):
    /// name → (packets per second, bytes per second, since when in seconds).
    counting: BTreeMap<String, (f64, f64, f64)>,
}

/// What makes steps fail or slow.
#[derive(Default)]
struct Faults {
    /// Step kinds (`Step::kind`) that fail once, with this errno.
    fail: Vec<(String, i32)>,
    delay: Duration,
}

enum Clock {
    Wall {
        start: Instant,
        epoch: SystemTime,
        offset: Duration,
    },
    Manual {
        epoch: SystemTime,
        elapsed: Duration,
    },
}

/// The fake host. See the module documentation.
pub struct FakeHost {
    inner: Mutex<Inner>,
    clock: Mutex<Clock>,
    summary: HostSummary,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<HostEvent>>>,
    faults: Mutex<Faults>,
    stopping: Mutex<Stopping>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeHost {
    /// An empty host (a loopback only) whose clock is the wall clock.
    pub fn new(hostname: &str) -> FakeHost {
        FakeHost::new_at(hostname, SystemTime::now())
    }

    /// An empty host whose clock runs with the wall clock from `start` on (a start in the
    /// past is caught up with [`FakeHost::advance`]).
    pub fn new_at(hostname: &str, start: SystemTime) -> FakeHost {
        FakeHost::with_clock(
            hostname,
            Clock::Wall {
                start: Instant::now(),
                epoch: start,
                offset: Duration::ZERO,
            },
        )
    }

    /// An empty host whose clock stands at `epoch_unix` until [`FakeHost::advance`] moves it.
    pub fn manual(hostname: &str, epoch_unix: u64) -> FakeHost {
        FakeHost::with_clock(
            hostname,
            Clock::Manual {
                epoch: UNIX_EPOCH + Duration::from_secs(epoch_unix),
                elapsed: Duration::ZERO,
            },
        )
    }

    fn with_clock(hostname: &str, clock: Clock) -> FakeHost {
        let host = FakeHost {
            inner: Mutex::new(Inner {
                links: links::Links::new(),
                nft: nft::Ruleset::default(),
                dnsmasq: dnsmasq::Dnsmasqs::default(),
                guests: Vec::new(),
                born: BTreeMap::new(),
                netns: HashMap::new(),
                next_mac: 1,
                next_guest_pid: 2200,
                trace_script: None,
                trace_after_fix: None,
                fix_runs: Vec::new(),
                fail_fix: None,
                services: Vec::new(),
                counting: BTreeMap::new(),
            }),
            clock: Mutex::new(clock),
            summary: HostSummary {
                hostname: hostname.to_owned(),
                kernel: "6.8.0-45-generic".into(),
                uptime_secs: 1_105_230,
                load: [0.42, 0.57, 0.61],
                simulated: true,
            },
            subscribers: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::default()),
            stopping: Mutex::new(Stopping::default()),
        };
        let lo = host
            .add_link("lo", LinkKind::Loopback, None, Traffic::Idle)
            .expect("an empty host has no lo");
        let mut inner = host.inner();
        inner.links.links.get_mut(&lo).expect("lo").info.mac = Some([0; 6]);
        inner.links.links.get_mut(&lo).expect("lo").info.mtu = 65536;
        drop(inner);
        let _ = host.set_admin("lo", true);
        host
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// Seconds on the fake clock since it started.
    fn secs(&self) -> f64 {
        match &*lock(&self.clock) {
            Clock::Wall { start, offset, .. } => (start.elapsed() + *offset).as_secs_f64(),
            Clock::Manual { elapsed, .. } => elapsed.as_secs_f64(),
        }
    }

    fn unix_now(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    /// Moves the clock forward (a wall clock also moves by itself), and lets the guests
    /// renew their leases.
    pub fn advance(&self, by: Duration) {
        match &mut *lock(&self.clock) {
            Clock::Manual { elapsed, .. } => *elapsed += by,
            Clock::Wall { offset, .. } => *offset += by,
        }
        self.serve_dhcp();
    }

    /// A fresh locally administered MAC, deterministic in creation order.
    fn fresh_mac(&self) -> [u8; 6] {
        let mut inner = self.inner();
        let n = inner.next_mac;
        inner.next_mac += 1;
        let b = n.to_be_bytes();
        [0x02, 0x5e, 0x00, b[1], b[2], b[3]]
    }

    /// Adds a link (a NIC, a foreign bridge, a bond…) with a MAC of its own unless given.
    pub fn add_link(
        &self,
        name: &str,
        kind: LinkKind,
        mac: Option<[u8; 6]>,
        traffic: Traffic,
    ) -> Result<u32, HostError> {
        let mac = mac.unwrap_or_else(|| self.fresh_mac());
        let secs = self.secs();
        let mut inner = self.inner();
        let i = inner.links.add(name, kind, mac, traffic)?;
        inner.born.insert(i, secs);
        drop(inner);
        self.emit(HostEvent::Links);
        Ok(i)
    }

    /// Changes a link in place (its MTU, parent, macvtap mode…).
    pub fn edit_link(&self, ifindex: u32, edit: impl FnOnce(&mut LinkInfo)) {
        if let Some(l) = self.inner().links.links.get_mut(&ifindex) {
            edit(&mut l.info);
        }
        self.emit(HostEvent::Links);
    }

    /// Sets a link up or down.
    pub fn set_admin(&self, name: &str, up: bool) -> Result<(), HostError> {
        self.inner().links.set_admin(name, up)?;
        self.emit(HostEvent::Links);
        self.serve_dhcp();
        Ok(())
    }

    /// A sysctl's value, as `sysctl` prints it; `None` when not set.
    pub fn sysctl(&self, key: &str) -> Option<String> {
        self.inner().links.sysctls.get(key).cloned()
    }

    /// Sets a sysctl as someone else would (any key).
    pub fn set_sysctl(&self, key: &str, value: &str) {
        self.inner()
            .links
            .sysctls
            .insert(key.to_owned(), value.to_owned());
    }

    /// Adds an address (and its prefix route).
    pub fn add_address(&self, name: &str, net: IpNet) -> Result<(), HostError> {
        self.inner().links.add_addr(name, net)
    }

    /// Adds a route of the main table.
    pub fn add_route(
        &self,
        dest: IpNet,
        gateway: Option<IpAddr>,
        dev: &str,
    ) -> Result<(), HostError> {
        self.inner().links.add_route(dest, gateway, dev)
    }

    /// Enslaves `port` to `master`.
    pub fn set_master(&self, port: &str, master: &str) -> Result<(), HostError> {
        self.inner().links.set_master(port, master)?;
        self.emit(HostEvent::Links);
        self.serve_dhcp();
        Ok(())
    }

    /// Deletes a link by name (a guest shutting down, a NIC unplugged).
    pub fn remove_link(&self, name: &str) -> Result<(), HostError> {
        let mut inner = self.inner();
        let i = inner
            .links
            .by_name(name)
            .map(|l| l.info.ifindex)
            .ok_or_else(|| HostError::NoSuchDevice {
                op: format!("delete link {name}"),
            })?;
        inner.links.delete(i, name)?;
        inner.guests.retain(|g| g.port != i);
        drop(inner);
        self.emit(HostEvent::Links);
        Ok(())
    }

    /// Names network namespace id `nsid` (what `ip netns` calls it).
    pub fn name_netns(&self, nsid: i32, name: &str) {
        self.inner().netns.insert(nsid, name.to_owned());
    }

    /// A guest with a port of `kind` called `port_name`, on bridge `bridge` (if any; a macvtap
    /// takes `parent` instead). `mac` is the guest's own MAC; `dhcp_hostname` is what it asks
    /// DHCP (`None`: it asks for nothing). Returns the port's interface index.
    #[allow(clippy::too_many_arguments)]
    pub fn add_guest(
        &self,
        name: &str,
        kind: GuestKind,
        port_name: &str,
        bridge: Option<&str>,
        mac: &str,
        dhcp_hostname: Option<Option<&str>>,
        traffic: Traffic,
    ) -> Result<u32, HostError> {
        let guest_mac = parse_mac(mac).ok_or_else(|| {
            HostError::invalid(format!("add guest {name}"), format!("bad MAC {mac}"))
        })?;
        // A tap's own MAC is the guest's with the first byte fe (as libvirt makes it); a
        // veth's and a macvtap's are the guest's.
        let port_mac = match kind {
            GuestKind::Tap => {
                let mut m = guest_mac;
                m[0] = 0xfe;
                m
            }
            _ => guest_mac,
        };
        let link_kind = match kind {
            GuestKind::Tap => LinkKind::Tun,
            GuestKind::Veth { .. } => LinkKind::Veth,
            GuestKind::Macvtap => LinkKind::Macvtap,
        };
        let port = self.add_link(port_name, link_kind, Some(port_mac), traffic)?;
        if let GuestKind::Veth { nsid } = kind {
            self.edit_link(port, |l| l.peer_netnsid = Some(nsid));
        }
        let mut inner = self.inner();
        let pid = inner.next_guest_pid;
        inner.next_guest_pid += 1;
        inner.guests.push(FakeGuest {
            name: name.to_owned(),
            kind,
            port,
            mac: mac.to_ascii_lowercase(),
            dhcp_hostname: dhcp_hostname.map(|h| h.map(str::to_owned)),
            pid,
        });
        drop(inner);
        self.set_admin(port_name, true)?;
        if let Some(bridge) = bridge {
            self.set_master(port_name, bridge)?;
        }
        Ok(port)
    }

    /// Makes the next step of `kind` (as [`Step::kind`] names it) fail with `errno`.
    pub fn fail_step(&self, kind: &str, errno: i32) {
        lock(&self.faults).fail.push((kind.to_owned(), errno));
    }

    /// Makes every step take `delay`.
    pub fn set_step_delay(&self, delay: Duration) {
        lock(&self.faults).delay = delay;
    }

    /// Ends the dnsmasq that reads `conf`, as a crash would; whether there was one.
    /// Makes the table's named counter `name` count `pps` packets and `bytes_ps` bytes per
    /// second of the fake clock from now on (while it exists): traffic through a forward.
    pub fn count_steadily(&self, name: &str, pps: f64, bytes_ps: f64) {
        let now = self.secs();
        self.inner()
            .counting
            .insert(name.to_owned(), (pps, bytes_ps, now));
    }

    pub fn kill_dnsmasq(&self, conf: &Path) -> bool {
        let mut inner = self.inner();
        match inner.dnsmasq.running_for(conf) {
            Some(pid) => inner.dnsmasq.stop(pid),
            None => false,
        }
    }

    /// Changes the rules of one of our chains behind switchyard's back.
    pub fn tamper_chain(
        &self,
        family: &str,
        table: &str,
        chain: &str,
        edit: impl FnOnce(&mut Vec<Value>),
    ) -> Result<(), String> {
        let done = self.inner().nft.edit_rules(family, table, chain, edit);
        self.emit(HostEvent::Firewall);
        done
    }

    /// Loads an nft JSON document as someone else would.
    pub fn nft_apply(&self, doc: &Value) -> Result<(), String> {
        let done = self.inner().nft.apply(doc);
        if done.is_ok() {
            self.emit(HostEvent::Firewall);
        }
        done
    }

    /// Scripts the kernel's trace for the next probes (`trace id …` lines as `nft -a
    /// monitor` prints them, naming the tracer's chains from [`crate::model::why`]).
    pub fn script_trace(&self, lines: Vec<String>) {
        self.inner().trace_script = Some(lines);
    }

    /// Scripts the trace of the probes after the next fix runs (it replaces the one of
    /// [`FakeHost::script_trace`] then): what the kernel would print once the fix opened
    /// the path.
    pub fn script_trace_after_fix(&self, lines: Vec<String>) {
        self.inner().trace_after_fix = Some(lines);
    }

    /// Every fix run through [`Host::run_fix`], in order (refused ones are not).
    pub fn fix_runs(&self) -> Vec<Vec<Vec<String>>> {
        self.inner().fix_runs.clone()
    }

    /// The next fix fails as its program would, with `stderr`.
    pub fn fail_next_fix(&self, stderr: &str) {
        self.inner().fail_fix = Some(stderr.to_owned());
    }

    /// Every nft table, as `family name`.
    pub fn nft_tables(&self) -> Vec<String> {
        self.inner().nft.tables()
    }

    /// The pids of the running fake dnsmasq processes.
    pub fn dnsmasq_pids(&self) -> Vec<i32> {
        self.inner().dnsmasq.running.keys().copied().collect()
    }

    /// The whole observable state, for comparisons in tests.
    pub fn state(&self) -> HostState {
        self.inner().links.state()
    }

    fn emit(&self, event: HostEvent) {
        lock(&self.subscribers).retain(|tx| tx.unbounded_send(event).is_ok());
    }

    /// Every dnsmasq answers the guests behind its interface; new neighbours are learned.
    fn serve_dhcp(&self) {
        let now = self.unix_now();
        let mut learned = Vec::new();
        {
            let mut inner = self.inner();
            let Inner {
                links,
                dnsmasq,
                guests,
                ..
            } = &mut *inner;
            for p in dnsmasq.running.values_mut() {
                let Some(bridge) = p.interface.as_deref().and_then(|n| links.by_name(n)) else {
                    continue;
                };
                let bridge_up = bridge.info.admin_up;
                let bridge_index = bridge.info.ifindex;
                let on_bridge: Vec<&FakeGuest> = guests
                    .iter()
                    .filter(|g| {
                        links
                            .links
                            .get(&g.port)
                            .is_some_and(|l| l.info.master == Some(bridge_index) && l.info.admin_up)
                    })
                    .collect();
                if !bridge_up {
                    continue;
                }
                let clients: Vec<dnsmasq::Client<'_>> = on_bridge
                    .iter()
                    .filter_map(|g| {
                        let hostname = g.dhcp_hostname.as_ref()?;
                        Some(dnsmasq::Client {
                            mac: &g.mac,
                            hostname: hostname.as_deref(),
                        })
                    })
                    .collect();
                for (mac, ip) in p.serve(&clients, now) {
                    let port = on_bridge.iter().find(|g| g.mac == mac).map(|g| g.port);
                    if let (Some(mac), Some(port)) = (parse_mac(&mac), port) {
                        learned.push(Neighbour::Ip {
                            ifindex: bridge_index,
                            ip: IpAddr::V4(ip),
                            mac: Some(mac),
                        });
                        learned.push(Neighbour::Learned { port, mac });
                    }
                }
            }
        }
        for n in learned {
            if self.inner().links.learn(n) {
                self.emit(HostEvent::Neighbour(n, false));
            }
        }
    }

    fn counters(&self) -> Vec<(u32, LinkCounters)> {
        let now = self.secs();
        let inner = self.inner();
        let links = &inner.links.links;
        // A bridge or bond carries what its ports carry (ports that are bonds or bridges
        // themselves included), at most a few levels deep.
        fn of(inner: &Inner, i: u32, now: f64, depth: u8) -> LinkCounters {
            let Some(l) = inner.links.links.get(&i) else {
                return LinkCounters::default();
            };
            let born = inner.born.get(&i).copied().unwrap_or(0.0);
            match l.traffic.counters(now - born) {
                Some(c) => c,
                None if depth == 0 => LinkCounters::default(),
                None => inner
                    .links
                    .links
                    .values()
                    .filter(|p| p.info.master == Some(i))
                    .map(|p| of(inner, p.info.ifindex, now, depth - 1))
                    .fold(LinkCounters::default(), traffic::add),
            }
        }
        links.keys().map(|i| (*i, of(&inner, *i, now, 4))).collect()
    }

    /// The dnsmasq answers and neighbour updates that follow a step.
    fn after_step(&self, step: &Step) {
        let links_changed = matches!(
            step,
            Step::CreateBridge(_)
                | Step::DeleteLink { .. }
                | Step::LinkUp { .. }
                | Step::LinkDown { .. }
                | Step::SetMtu { .. }
                | Step::AttachPorts { .. }
                | Step::MovePort { .. }
        );
        if links_changed {
            self.emit(HostEvent::Links);
        }
        self.serve_dhcp();
    }
}

/// `aa:bb:cc:dd:ee:ff` as bytes.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = text.split(':');
    for b in &mut out {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

impl Kernel for FakeHost {
    async fn link_by_name(&self, name: &str) -> Result<Option<LinkInfo>, HostError> {
        Ok(self.inner().links.by_name(name).map(|l| l.info.clone()))
    }

    async fn link_by_index(&self, ifindex: u32) -> Result<Option<LinkInfo>, HostError> {
        Ok(self
            .inner()
            .links
            .links
            .get(&ifindex)
            .map(|l| l.info.clone()))
    }

    async fn create_bridge(&self, spec: &BridgeSpec) -> Result<u32, HostError> {
        let mac = self.fresh_mac();
        let secs = self.secs();
        let mut inner = self.inner();
        let i = inner.links.create_bridge(spec, mac)?;
        inner.born.insert(i, secs);
        Ok(i)
    }

    async fn delete_link_index(&self, ifindex: u32, name: &str) -> Result<(), HostError> {
        let mut inner = self.inner();
        inner.links.delete(ifindex, name)?;
        inner.guests.retain(|g| g.port != ifindex);
        Ok(())
    }

    async fn add_addr(&self, dev: &str, addr: IpNet) -> Result<(), HostError> {
        self.inner().links.add_addr(dev, addr)
    }

    async fn del_addr(&self, dev: &str, addr: IpNet) -> Result<(), HostError> {
        self.inner().links.del_addr(dev, addr)
    }

    async fn set_up(&self, dev: &str) -> Result<(), HostError> {
        self.inner().links.set_admin(dev, true)
    }

    async fn set_down(&self, dev: &str) -> Result<(), HostError> {
        self.inner().links.set_admin(dev, false)
    }

    async fn set_mtu(&self, dev: &str, mtu: u32) -> Result<(), HostError> {
        self.inner().links.set_mtu(dev, mtu)
    }

    async fn set_master_index(
        &self,
        ifindex: u32,
        name: &str,
        master: u32,
    ) -> Result<(), HostError> {
        self.inner().links.set_master_index(ifindex, name, master)
    }

    async fn set_master(&self, port: &str, bridge: &str) -> Result<(), HostError> {
        self.inner().links.set_master(port, bridge)
    }

    async fn add_route(&self, dest: IpNet, gateway: IpAddr, dev: &str) -> Result<(), HostError> {
        self.inner().links.add_route(dest, Some(gateway), dev)
    }

    async fn del_route(&self, dest: IpNet, _gateway: IpAddr, dev: &str) -> Result<(), HostError> {
        self.inner().links.del_route(dest, dev)
    }

    fn write_sysctl(&self, key: &str, value: &str) -> Result<(), HostError> {
        self.inner().links.write_sysctl(key, value)
    }

    fn shape(&self, dev: &str, shaping: &Shaping) -> Result<(), HostError> {
        let mut inner = self.inner();
        if inner.links.by_name(dev).is_none() {
            return Err(HostError::NoSuchDevice {
                op: format!("shape {dev}"),
            });
        }
        inner.links.shaped.insert(dev.to_owned(), *shaping);
        Ok(())
    }

    fn unshape(&self, dev: &str) {
        self.inner().links.shaped.remove(dev);
    }

    fn nft_load(&self, doc: &Value) -> Result<(), String> {
        let done = self.inner().nft.apply(doc);
        if done.is_ok() {
            self.emit(HostEvent::Firewall);
        }
        done
    }

    fn nft_load_script(&self, _script: &str) -> Result<(), String> {
        Err(
            "the fake host loads nft JSON only (first-release text scripts are not simulated)"
                .into(),
        )
    }

    fn nft_list(&self) -> Result<Option<ObservedTable>, String> {
        self.inner().nft.observe()
    }

    fn dnsmasq_start(&self, conf: &Path, _pid_file: &Path) -> Result<(), String> {
        self.inner().dnsmasq.start(conf).map(|_| ())
    }

    fn dnsmasq_running(&self, _pid_file: &Path, conf: &Path) -> Option<i32> {
        self.inner().dnsmasq.running_for(conf)
    }

    fn dnsmasq_reload(&self, pid: i32) -> Result<(), String> {
        match self.inner().dnsmasq.running.get_mut(&pid) {
            Some(p) => p.reload(),
            None => Err(format!("cannot signal dnsmasq pid {pid}: No such process")),
        }
    }

    fn dnsmasq_signal_stop(&self, _pid_file: &Path, conf: &Path) -> Result<Option<i32>, String> {
        let mut inner = self.inner();
        let pid = inner.dnsmasq.running_for(conf);
        if let Some(pid) = pid {
            inner.dnsmasq.stop(pid);
        }
        Ok(pid)
    }

    fn dnsmasq_wait_gone(&self, _pids: &[i32]) {}

    fn dnsmasq_reader_of(&self, path: &Path) -> Option<i32> {
        self.inner().dnsmasq.reader_of(path)
    }

    fn stopping(&self) -> MutexGuard<'_, Stopping> {
        lock(&self.stopping)
    }
}

impl Host for FakeHost {
    async fn observe(&self) -> Result<HostState, HostError> {
        Ok(self.state())
    }

    fn forwarding(&self) -> ForwardingSysctls {
        self.inner().links.forwarding()
    }

    async fn firewall(&self) -> Result<Option<ObservedTable>, HostError> {
        self.inner()
            .nft
            .observe()
            .map_err(|message| HostError::Other {
                op: "list nftables table inet switchyard".into(),
                errno: None,
                message,
            })
    }

    async fn link_by_index(&self, ifindex: u32) -> Result<Option<LinkInfo>, HostError> {
        Kernel::link_by_index(self, ifindex).await
    }

    async fn link_by_name(&self, name: &str) -> Result<Option<LinkInfo>, HostError> {
        Kernel::link_by_name(self, name).await
    }

    async fn run(&self, step: &Step) -> Result<Outcome, HostError> {
        let (delay, fail) = {
            let mut faults = lock(&self.faults);
            let fail = faults
                .fail
                .iter()
                .position(|(k, _)| k == step.kind())
                .map(|i| faults.fail.remove(i).1);
            (faults.delay, fail)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if let Some(errno) = fail {
            return Err(HostError::from_errno(step.to_string(), errno));
        }
        let out = steps::run_step(self, step).await;
        self.after_step(step);
        out
    }

    async fn settle(&self) {
        steps::settle(self);
    }

    fn dnsmasq_pid(&self, _pid_file: &Path, conf: &Path) -> Option<i32> {
        self.inner().dnsmasq.running_for(conf)
    }

    fn dnsmasq_setup(&self, run: &Path) -> DnsmasqSetup {
        DnsmasqSetup {
            user: nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map_or_else(|| "root".into(), |u| u.name),
            group: None,
            dir: run.join("dnsmasq"),
        }
    }

    fn guest_names(&self, links: &[LinkInfo]) -> BTreeMap<String, String> {
        let inner = self.inner();
        links
            .iter()
            .filter_map(|l| {
                let g = inner.guests.iter().find(|g| g.port == l.ifindex)?;
                Some((l.name.clone(), g.name.clone()))
            })
            .collect()
    }

    fn libvirt_interfaces(&self) -> Vec<GuestInterface> {
        Vec::new()
    }

    async fn create_macvtap(
        &self,
        name: &str,
        parent: &str,
        mode: MacvtapMode,
        mac: [u8; 6],
    ) -> Result<u32, HostError> {
        let parent_index = self
            .inner()
            .links
            .by_name(parent)
            .map(|l| l.info.ifindex)
            .ok_or_else(|| HostError::NoSuchDevice {
                op: format!("create macvtap {name} on {parent}"),
            })?;
        let i = self.add_link(name, LinkKind::Macvtap, Some(mac), Traffic::Idle)?;
        let mode = format!("{mode:?}").to_ascii_lowercase();
        self.edit_link(i, |l| {
            l.parent = Some(parent_index);
            l.macvtap_mode = Some(mode);
        });
        Ok(i)
    }

    async fn set_up(&self, name: &str) -> Result<(), HostError> {
        self.set_admin(name, true)
    }

    async fn delete_link(&self, ifindex: u32, name: &str) -> Result<(), HostError> {
        Kernel::delete_link_index(self, ifindex, name).await?;
        self.emit(HostEvent::Links);
        Ok(())
    }

    async fn dump_links(&self) -> Result<Vec<LinkInfo>, HostError> {
        Ok(self.state().links)
    }

    fn dump_counters(&self) -> Result<Vec<(u32, LinkCounters)>, HostError> {
        Ok(self.counters())
    }

    async fn dump_neighbours(&self) -> Result<Vec<Neighbour>, HostError> {
        Ok(self.inner().links.neighbours.clone())
    }

    fn events(&self) -> Result<Events, HostError> {
        let (tx, rx) = mpsc::unbounded();
        // Subscribed to ruleset changes too.
        let _ = tx.unbounded_send(HostEvent::Firewall);
        lock(&self.subscribers).push(tx);
        Ok(rx.boxed())
    }

    fn guest_processes(&self) -> GuestIndex {
        let inner = self.inner();
        let mut index = GuestIndex::default();
        for g in &inner.guests {
            let process = GuestProcess {
                pid: g.pid,
                name: g.name.clone(),
                qemu_named: true,
            };
            match g.kind {
                GuestKind::Tap => {
                    if let Some(l) = inner.links.links.get(&g.port) {
                        index.add_tun(&l.info.name, process);
                    }
                }
                GuestKind::Macvtap => index.add_tap(g.port, process),
                GuestKind::Veth { .. } => {}
            }
        }
        index
    }

    fn libvirt_devices(&self) -> HashMap<String, String> {
        HashMap::new()
    }

    fn netns_id(&self) -> u64 {
        FAKE_NETNS_ID
    }

    fn netns_names(&self) -> Result<HashMap<i32, String>, HostError> {
        Ok(self.inner().netns.clone())
    }

    fn file_stamp(&self, path: &Path) -> Result<Option<FileStamp>, HostError> {
        super::real::file_stamp(path)
    }

    fn read_text(&self, path: &Path) -> Result<Option<String>, HostError> {
        super::real::read_text(path)
    }

    fn now(&self) -> SystemTime {
        match &*lock(&self.clock) {
            Clock::Wall {
                start,
                epoch,
                offset,
            } => *epoch + start.elapsed() + *offset,
            Clock::Manual { epoch, elapsed } => *epoch + *elapsed,
        }
    }

    fn monotonic(&self) -> Duration {
        // An offset, so that no sample sits at zero.
        Duration::from_secs(1_000) + Duration::from_secs_f64(self.secs())
    }

    fn summary(&self) -> HostSummary {
        let mut s = self.summary.clone();
        s.uptime_secs += self.secs() as u64;
        s
    }

    fn listeners(
        &self,
        _proto: crate::model::Proto,
        _ports: crate::model::PortRange,
    ) -> Vec<crate::host::listen::Listener> {
        Vec::new()
    }

    async fn firewall_counters(&self) -> Result<BTreeMap<String, (u64, u64)>, HostError> {
        let now = self.secs();
        let inner = self.inner();
        let mut counters = inner.nft.counters();
        for (name, (pps, bps, since)) in &inner.counting {
            if let Some((packets, bytes)) = counters.get_mut(name) {
                let t = (now - since).max(0.0);
                *packets += (pps * t) as u64;
                *bytes += (bps * t) as u64;
            }
        }
        Ok(counters)
    }

    /// As the real host: refuses without our table or the bridge, adds the tracer's chains
    /// (the same JSON), lists the ruleset with them in, and removes them; the trace itself is
    /// what a test scripted, else an error (the fake forwards no packets to trace).
    async fn trace_probe(
        &self,
        req: super::trace::TraceRequest,
    ) -> Result<super::trace::TraceCapture, HostError> {
        use crate::model::why;
        let op = "trace";
        let mut inner = self.inner();
        if inner.nft.list(why::OUR_FAMILY, why::OUR_TABLE).is_none() {
            return Err(HostError::Invalid {
                op: op.into(),
                reason: "table inet switchyard does not exist (no network is running)".into(),
            });
        }
        if !inner
            .links
            .links
            .values()
            .any(|l| l.info.name == req.probe.bridge)
        {
            return Err(HostError::NoSuchDevice {
                op: format!("attach a probe port to {}", req.probe.bridge),
            });
        }
        let Some(lines) = inner.trace_script.clone() else {
            return Err(HostError::Invalid {
                op: op.into(),
                reason: "the simulated host has no packet path to trace".into(),
            });
        };
        inner
            .nft
            .apply(&why::trace_doc(&req.probe))
            .map_err(|e| HostError::Other {
                op: "add the trace rule".into(),
                errno: None,
                message: e,
            })?;
        let ruleset_json = inner.nft.list_all().to_string();
        inner
            .nft
            .apply(&why::untrace_all_doc())
            .map_err(|e| HostError::Other {
                op: "remove the trace rule".into(),
                errno: None,
                message: e,
            })?;
        Ok(super::trace::TraceCapture {
            ruleset_json,
            lines,
            legacy: why::Legacy::default(),
            br_netfilter: false,
            ip_forward: inner
                .links
                .sysctls
                .get("net.ipv4.ip_forward")
                .is_some_and(|v| v == "1"),
        })
    }

    /// As the real host: refuses what [`crate::model::why::check_fix`] refuses; otherwise
    /// records the commands (the fake runs no programs) and, when a test scripted one, the
    /// trace after the fix becomes the trace.
    async fn run_fix(&self, commands: &[Vec<String>]) -> Result<(), HostError> {
        super::fix::check(commands)?;
        let mut inner = self.inner();
        if let Some(stderr) = inner.fail_fix.take() {
            let first = commands
                .first()
                .map(|c| crate::model::why::Fix::command_text(c));
            return Err(HostError::Other {
                op: format!("run {}", first.unwrap_or_default()),
                errno: None,
                message: format!("exit status 1: {stderr}"),
            });
        }
        inner.fix_runs.push(commands.to_vec());
        if let Some(after) = inner.trace_after_fix.take() {
            inner.trace_script = Some(after);
        }
        Ok(())
    }

    async fn nft_ruleset(&self) -> Result<Value, HostError> {
        Ok(self.inner().nft.list_all())
    }

    async fn probe(
        &self,
        probe: &crate::host::probe::Probe,
    ) -> Result<crate::host::probe::ProbeSeen, HostError> {
        Ok(self.probe_now(probe))
    }
}
