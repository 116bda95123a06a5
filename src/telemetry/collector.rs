//! The collector: keeps netlink connections open in one network namespace and turns each
//! cycle into a [`PortsSnapshot`].
//!
//! Steady state, per cycle: one `RTM_GETSTATS` dump (64-bit counters only) moved into the
//! snapshot, one `stat` per lease file, and the port list of the last assembly shared by
//! reference. Everything else happens only when something changed:
//!
//! * links: dumped again when an `RTNLGRP_LINK` event (or a socket overrun) says the topology
//!   changed; the processes holding taps, libvirt's runtime XML and the names of veth peer
//!   namespaces are looked up again then too;
//! * guest processes: also every `guest_refresh` (default 5 s), only while a tap or macvtap
//!   exists;
//! * neighbours and bridge forwarding entries: dumped once, then kept from `RTNLGRP_NEIGH`
//!   events;
//! * lease files: re-read when their modification time changes.
//!
//! Blocking calls (the counter dump, `/proc` scans) run inline: a counter dump of 2,000 links
//! takes about a millisecond. [`Collector::start`] runs the cycles as a task (see `events`).

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::StreamExt;
use tokio::sync::watch;

use super::lease_watch::LeaseWatcher;
use super::leases::Lease;
use super::neigh::NeighbourCache;
use super::ports::{assemble_ports, NetworkPorts, PortInfo, PortInputs};
use super::rates::RateMeter;
use super::snapshot::{PortsSnapshot, SnapshotCause};
use crate::host::error::HostError;
use crate::host::{Events, Host, HostEvent};
use crate::state::GuestIndex;
use crate::state::LinkCounters;
use crate::state::{HostState, LinkKind};

/// A collector that could not start or run a cycle.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("{op}: {source}")]
    Io {
        op: &'static str,
        #[source]
        source: io::Error,
    },
}

/// Timings of a collector, and how it names guests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorOptions {
    /// Time between counter samples.
    pub interval: Duration,
    /// Time between looks at which process holds each tap and macvtap, when no link changed.
    pub guest_refresh: Duration,
    /// After a link event, wait this long for more before dumping links (a burst of events,
    /// such as a VM starting, costs one dump).
    pub settle: Duration,
    /// At least this long between two link dumps during an event storm.
    pub min_topology_gap: Duration,
    /// A suffix of network namespace names that is not part of the guest's name (the
    /// sandbox's `-PID`, which keeps its namespaces apart from others'): a guest behind a veth
    /// is named by its namespace without it.
    pub netns_suffix: Option<String>,
    /// Only ports are wanted (`ports`, `watch`): a topology refresh reads the bridges, their
    /// ports and the macvtaps ([`Host::dump_port_links`]), not every link of the host.
    pub ports_only: bool,
}

impl Default for CollectorOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            guest_refresh: Duration::from_secs(5),
            settle: Duration::from_millis(20),
            min_topology_gap: Duration::from_millis(100),
            netns_suffix: None,
            ports_only: false,
        }
    }
}

/// What a netlink event means for the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventEffect {
    /// Nothing the ports show.
    None,
    /// A guest MAC or neighbour changed: ports are re-assembled at the next cycle.
    Annotations,
    /// Links changed: dump them again soon, without waiting for the tick.
    Topology,
    /// A ruleset changed: publish a snapshot soon (its `firewall` count moved on), so the
    /// networks' drift is looked at without waiting for the tick.
    Firewall,
}

/// Which inputs changed since the last assembly.
#[derive(Debug, Clone, Copy, Default)]
struct Dirty {
    topology: bool,
    neighbours: bool,
    annotations: bool,
}

/// Looked-up names of the processes, domains and namespaces behind ports.
#[derive(Debug, Default)]
struct GuestMaps {
    processes: GuestIndex,
    libvirt: HashMap<String, String>,
    netns_names: HashMap<i32, String>,
    scanned: Option<Instant>,
}

/// Collects port snapshots from a host.
pub struct Collector<H> {
    options: CollectorOptions,
    host_io: Arc<H>,
    pub(crate) events: Events,
    pub(crate) events_open: bool,
    pub(crate) networks: watch::Receiver<Vec<NetworkPorts>>,
    host: Arc<HostState>,
    guests: GuestMaps,
    lease_files: LeaseWatcher,
    leases: Arc<Vec<(String, Lease)>>,
    neighbours: NeighbourCache,
    ports: Arc<Vec<PortInfo>>,
    dirty: Dirty,
    topology: u64,
    last_topology: Option<Instant>,
    errors: Vec<String>,
    /// Rates of every link, measured once per cycle for every reader.
    meter: RateMeter<u32>,
    /// Counts nftables changes seen (0: none yet, or no notifications).
    firewall: u64,
}

impl<H: Host> Collector<H> {
    /// Subscribes to the host's events (the subscription runs on the current tokio
    /// runtime). `networks` is read at every cycle; send a new list when networks start or
    /// stop.
    pub async fn open(
        host: Arc<H>,
        networks: watch::Receiver<Vec<NetworkPorts>>,
        options: CollectorOptions,
    ) -> Result<Collector<H>, CollectorError> {
        let events = host.events()?;
        let mut collector = Collector::with_events(host, networks, options, events);
        collector.events_open = true;
        Ok(collector)
    }

    /// A collector that follows no events: every cycle dumps the links again. For one or two
    /// snapshots (`switchyard ports`), where a subscription would only cost.
    pub fn open_unsubscribed(
        host: Arc<H>,
        networks: watch::Receiver<Vec<NetworkPorts>>,
        options: CollectorOptions,
    ) -> Result<Collector<H>, CollectorError> {
        let events = futures::stream::empty().boxed();
        Ok(Collector::with_events(host, networks, options, events))
    }

    fn with_events(
        host: Arc<H>,
        mut networks: watch::Receiver<Vec<NetworkPorts>>,
        options: CollectorOptions,
        events: Events,
    ) -> Collector<H> {
        let mut lease_files = LeaseWatcher::new();
        lease_files.set_networks(&networks.borrow_and_update());
        Collector {
            options,
            host_io: host,
            events,
            events_open: false,
            networks,
            host: Arc::default(),
            guests: GuestMaps::default(),
            lease_files,
            leases: Arc::default(),
            neighbours: NeighbourCache::new(),
            ports: Arc::default(),
            dirty: Dirty {
                topology: true,
                neighbours: true,
                annotations: true,
            },
            topology: 0,
            last_topology: None,
            errors: Vec::new(),
            meter: RateMeter::new(),
            firewall: 0,
        }
    }

    /// The options it runs with.
    pub fn options(&self) -> CollectorOptions {
        self.options.clone()
    }

    pub(crate) fn set_interval(&mut self, interval: Duration) {
        self.options.interval = interval;
    }

    /// Take one snapshot: apply pending events, refresh what changed, sample the counters.
    pub async fn cycle(&mut self, cause: SnapshotCause) -> Result<PortsSnapshot, CollectorError> {
        self.errors.clear();
        self.drain_events();
        if !self.events_open {
            // Without events, links can only be known by dumping them every time.
            self.dirty.topology = true;
        }
        self.follow_networks();
        if self.dirty.topology {
            self.refresh_topology().await?;
        }
        if self.dirty.neighbours {
            self.dump_neighbours().await?;
        }
        if self.guest_scan_due() {
            self.refresh_guests();
        }
        self.refresh_leases();
        let (at, counters) = self.sample_counters()?;
        self.meter.update(at, counters.iter().copied());
        let rates = counters
            .iter()
            .filter_map(|(ifindex, _)| Some((*ifindex, self.meter.rate(ifindex)?)))
            .collect();
        self.update_ports();
        Ok(PortsSnapshot {
            at,
            netns: self.host_io.netns_id(),
            ports: Arc::clone(&self.ports),
            host: Arc::clone(&self.host),
            counters,
            rates,
            firewall: self.firewall,
            leases: Arc::clone(&self.leases),
            topology: self.topology,
            cause,
            errors: self.errors.clone(),
        })
    }

    /// Apply one event of the host.
    pub fn apply_event(&mut self, event: HostEvent) -> EventEffect {
        let effect = match event {
            HostEvent::Links => EventEffect::Topology,
            HostEvent::Neighbour(n, deleted) if self.neighbours.apply(&n, deleted) => {
                EventEffect::Annotations
            }
            HostEvent::Neighbour(..) => EventEffect::None,
            HostEvent::Firewall => {
                self.firewall = self.firewall.wrapping_add(1);
                EventEffect::Firewall
            }
            // Events were lost: nothing known from events can be trusted any more.
            HostEvent::Overrun => {
                self.dirty.neighbours = true;
                EventEffect::Topology
            }
        };
        match effect {
            EventEffect::Topology => self.dirty.topology = true,
            EventEffect::Annotations => self.dirty.annotations = true,
            EventEffect::None | EventEffect::Firewall => {}
        }
        effect
    }

    /// When a topology refresh asked for now may run: after the settle time, and not sooner
    /// than `min_topology_gap` after the previous link dump.
    pub fn topology_due(&self) -> Instant {
        let settled = Instant::now() + self.options.settle;
        match self.last_topology {
            Some(t) => settled.max(t + self.options.min_topology_gap),
            None => settled,
        }
    }

    /// Whether links must be dumped again.
    pub fn topology_pending(&self) -> bool {
        self.dirty.topology
    }

    /// Apply the events that already arrived, without waiting.
    fn drain_events(&mut self) {
        while self.events_open {
            match self.events.next().now_or_never() {
                Some(Some(event)) => {
                    self.apply_event(event);
                }
                Some(None) => self.events_closed(),
                None => break,
            }
        }
    }

    pub(crate) fn events_closed(&mut self) {
        self.events_open = false;
        self.dirty.topology = true;
    }

    fn follow_networks(&mut self) {
        if self.networks.has_changed().unwrap_or(false) {
            self.networks_changed();
        }
    }

    /// Take the caller's new network list (the task calls this when `changed()` fired, which
    /// already marked the list as seen).
    pub(crate) fn networks_changed(&mut self) {
        let nets = self.networks.borrow_and_update().clone();
        self.lease_files.set_networks(&nets);
        self.dirty.annotations = true;
    }

    async fn refresh_topology(&mut self) -> Result<(), CollectorError> {
        let links = if self.options.ports_only {
            self.host_io.dump_port_links().await?
        } else {
            self.host_io.dump_links().await?
        };
        self.last_topology = Some(Instant::now());
        self.host = Arc::new(HostState {
            links,
            ..HostState::default()
        });
        self.topology += 1;
        let live: std::collections::HashSet<u32> =
            self.host.links.iter().map(|l| l.ifindex).collect();
        self.neighbours.retain_ifindexes(|i| live.contains(&i));
        self.refresh_guests();
        self.dirty.topology = false;
        self.dirty.annotations = true;
        Ok(())
    }

    async fn dump_neighbours(&mut self) -> Result<(), CollectorError> {
        self.neighbours.clear();
        for entry in self.host_io.dump_neighbours().await? {
            self.neighbours.apply(&entry, false);
        }
        self.dirty.neighbours = false;
        self.dirty.annotations = true;
        Ok(())
    }

    fn guest_scan_due(&self) -> bool {
        self.guests
            .scanned
            .is_none_or(|t| t.elapsed() >= self.options.guest_refresh)
    }

    /// Look again at who holds taps and macvtaps, and at veth peer namespace names; each only
    /// while such links exist.
    fn refresh_guests(&mut self) {
        let has = |f: &dyn Fn(&crate::state::LinkInfo) -> bool| self.host.links.iter().any(f);
        let taps = has(&|l| matches!(l.kind, LinkKind::Tun | LinkKind::Macvtap));
        let peers = has(&|l| l.kind == LinkKind::Veth && l.peer_netnsid.is_some());
        let mut maps = GuestMaps {
            scanned: Some(Instant::now()),
            ..GuestMaps::default()
        };
        if taps {
            maps.processes = self.host_io.guest_processes();
            maps.libvirt = self.host_io.libvirt_devices();
        }
        if peers {
            match self.host_io.netns_names() {
                Ok(names) => maps.netns_names = shown_names(names, &self.options.netns_suffix),
                Err(e) => self.errors.push(format!("namespace names: {e}")),
            }
        }
        let changed = maps.processes != self.guests.processes
            || maps.libvirt != self.guests.libvirt
            || maps.netns_names != self.guests.netns_names;
        self.dirty.annotations |= changed;
        self.guests = maps;
    }

    fn refresh_leases(&mut self) {
        let (changed, errors) = self.lease_files.refresh(&*self.host_io);
        self.errors.extend(errors);
        if changed {
            self.leases = Arc::new(self.lease_files.leases());
            self.dirty.annotations = true;
        }
    }

    /// One counter dump, stamped with the midpoint of the request.
    fn sample_counters(&mut self) -> Result<(Duration, Vec<(u32, LinkCounters)>), CollectorError> {
        let before = self.host_io.monotonic();
        let mut counters = self.host_io.dump_counters()?;
        let after = self.host_io.monotonic();
        counters.sort_unstable_by_key(|(ifindex, _)| *ifindex);
        Ok((before + (after - before) / 2, counters))
    }

    /// Re-assemble the ports if an input changed.
    fn update_ports(&mut self) {
        if self.dirty.annotations {
            let networks = self.networks.borrow();
            let ports = assemble_ports(&PortInputs {
                host: &self.host,
                guests: &self.guests.processes,
                libvirt: &self.guests.libvirt,
                netns_names: &self.guests.netns_names,
                leases: &self.leases,
                neighbours: &self.neighbours,
                networks: &networks,
            });
            drop(networks);
            if *self.ports != ports {
                self.ports = Arc::new(ports);
            }
            self.dirty.annotations = false;
        }
    }
}

/// Namespace names as guests' names: each without `suffix` where it ends with it (and has
/// more than it).
pub fn shown_names(names: HashMap<i32, String>, suffix: &Option<String>) -> HashMap<i32, String> {
    let Some(suffix) = suffix.as_deref().filter(|s| !s.is_empty()) else {
        return names;
    };
    names
        .into_iter()
        .map(|(id, name)| match name.strip_suffix(suffix) {
            Some(short) if !short.is_empty() => (id, short.to_owned()),
            _ => (id, name),
        })
        .collect()
}

#[cfg(test)]
mod netns_suffix_tests {
    use super::*;

    #[test]
    fn the_sandbox_suffix_is_not_part_of_a_guest_name() {
        let names: HashMap<i32, String> = [
            (1, "web1-4242".to_string()),
            (2, "other".to_string()),
            (3, "-4242".to_string()),
            (4, "db1-42425".to_string()),
        ]
        .into();
        let shown = shown_names(names.clone(), &Some("-4242".into()));
        assert_eq!(shown[&1], "web1");
        assert_eq!(shown[&2], "other");
        assert_eq!(shown[&3], "-4242", "never an empty name");
        assert_eq!(
            shown[&4], "db1-42425",
            "a suffix only where the name ends with it"
        );
        assert_eq!(shown_names(names.clone(), &None), names);
        assert_eq!(shown_names(names.clone(), &Some(String::new())), names);
    }
}
