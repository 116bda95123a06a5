//! The real host as the TUI's data source: the telemetry collector for ports, counters and
//! leases, the backend for networks and drift, sysinfo for the header. It runs on a thread of
//! its own with its own runtime and hands shared snapshots (`Arc<Snapshot>`) to the UI over a
//! `watch` channel.

mod commands;
pub mod demo;
pub mod forwards;
pub mod rows;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use color_eyre::eyre::{eyre, Result, WrapErr};
use futures::future::BoxFuture;
use tokio::sync::{watch, Notify};

use crate::backend::{Backend, NetworkStatus, Observation};
use crate::host::Host;
use crate::telemetry::collector::{Collector, CollectorOptions};
use crate::telemetry::snapshot::PortsSnapshot;
use crate::tui::data::{Command, CommandResult, NetworkRow, ProgressSender, Snapshot};
use crate::tui::DataSource;

/// How often networks (statuses, drift, addresses) are re-read when nothing signalled a change.
const NETWORK_REFRESH: Duration = Duration::from_secs(5);

/// Networks with a command under way: the supervisor leaves them alone.
pub type Busy = Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>;

/// The live source. Dropping it ends its threads.
pub struct LiveSource {
    snapshots: watch::Receiver<Arc<Snapshot>>,
    interval_ms: watch::Sender<u64>,
    actor: commands::Actor,
}

impl LiveSource {
    /// Connects to the host on a thread of its own (`connect` runs there and returns the
    /// backend over it, so the host's sockets and their tasks live on that thread's runtime,
    /// which is always being driven), starts the collector and the snapshot loop there, and
    /// the backend actor that carries out the commands; fails if the host cannot be observed.
    pub fn start<H, F, Fut>(connect: F, interval_ms: u64) -> Result<LiveSource>
    where
        H: Host,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<Backend<H>>>,
    {
        Self::start_with(connect, interval_ms, None)
    }

    /// [`Self::start`], naming the guests behind veths by their namespace without
    /// `netns_suffix` (see [`CollectorOptions::netns_suffix`]).
    pub fn start_with<H, F, Fut>(
        connect: F,
        interval_ms: u64,
        netns_suffix: Option<String>,
    ) -> Result<LiveSource>
    where
        H: Host,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<Backend<H>>>,
    {
        let (tx, snapshots) = watch::channel(Arc::new(Snapshot::default()));
        let (interval_tx, interval_rx) = watch::channel(interval_ms.max(50));
        let refresh = Arc::new(Notify::new());
        let busy = Busy::default();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (r, u) = (refresh.clone(), busy.clone());
        std::thread::Builder::new()
            .name("switchyard-live".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => return drop(ready_tx.send(Err(eyre!(e)))),
                };
                rt.block_on(async move {
                    let backend = match connect().await {
                        Ok(backend) => backend,
                        Err(e) => return drop(ready_tx.send(Err(e))),
                    };
                    run(backend, tx, interval_rx, r, u, ready_tx, netns_suffix).await
                });
            })
            .wrap_err("cannot start the telemetry thread")?;
        let backend = ready_rx
            .recv()
            .map_err(|_| eyre!("the telemetry thread died"))??;
        let actor = commands::Actor::start(backend, refresh, busy)
            .wrap_err("cannot start the backend's thread")?;
        Ok(LiveSource {
            snapshots,
            interval_ms: interval_tx,
            actor,
        })
    }
}

impl DataSource for LiveSource {
    fn snapshots(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.snapshots.clone()
    }

    fn execute(&self, id: u64, cmd: Command) -> BoxFuture<'static, CommandResult> {
        self.execute_with_progress(id, cmd, ProgressSender::discard(id))
    }

    fn execute_with_progress(
        &self,
        id: u64,
        cmd: Command,
        progress: ProgressSender,
    ) -> BoxFuture<'static, CommandResult> {
        self.actor.execute(id, cmd, progress)
    }

    fn refresh_interval(&self, ms: u64) {
        self.interval_ms.send_replace(ms.max(50));
    }
}

/// What the slower network refresh produced.
#[derive(Default)]
struct NetworkView {
    rows: Vec<NetworkRow>,
    statuses: Vec<NetworkStatus>,
    /// Interface addresses (the collector dumps links only).
    addrs: Vec<crate::state::AddrInfo>,
    /// Interfaces a default route (main table, IPv4 or IPv6) leaves through.
    default_via: Vec<u32>,
    /// Host addresses and route destinations, each once, for the wizard's free-subnet checks.
    taken_subnets: Vec<ipnet::IpNet>,
    stamp: DirStamp,
    at: Option<Instant>,
    /// The table as last listed, and the host's ruleset-change count when it was: while the
    /// count stays, the table is reused instead of running `nft list` again.
    firewall: Option<(u64, Option<crate::plan::firewall::ObservedTable>)>,
    /// Every network's forwards as defined (running ones as they run), without counters.
    forwards: Vec<crate::backend::ForwardRow>,
}

/// Modification times of the definition and runtime folders: a change made from another
/// shell (define, start, stop) shows up here.
#[derive(Default, PartialEq, Eq, Clone, Copy)]
struct DirStamp(Option<SystemTime>, Option<SystemTime>);

fn stamp<H: Host>(backend: &Backend<H>) -> DirStamp {
    let m = |p: &Path| crate::store::modified(p);
    DirStamp(m(&backend.paths().defs), m(&backend.paths().run))
}

/// Re-reads the networks. With the collector's `ports`, its links are used (it follows link
/// events, so nothing dumps every link again), and the previous view's table is reused while
/// the host's count of ruleset changes has not moved (0: the host reports none, so the table
/// is listed every time).
async fn refresh_networks<H: Host>(
    backend: &Backend<H>,
    previous: Option<&NetworkView>,
    ports: Option<&PortsSnapshot>,
) -> NetworkView {
    let firewall_seen = ports.map_or(0, |p| p.firewall);
    let cached = previous
        .and_then(|v| v.firewall.as_ref())
        .filter(|(seen, _)| firewall_seen != 0 && *seen == firewall_seen)
        .map(|(_, table)| table.clone());
    let obs = match ports.filter(|p| !p.host.links.is_empty()) {
        Some(p) => Observation::take_with(backend.host(), p.host.links.clone(), cached).await,
        None => Observation::take(backend.host()).await,
    };
    let Ok(obs) = obs else {
        return NetworkView::default();
    };
    let firewall = obs
        .firewall_error
        .is_none()
        .then(|| (firewall_seen, obs.firewall.clone()));
    let statuses: Vec<NetworkStatus> = backend.statuses(&obs).unwrap_or_default();
    let rules = |name: &str| obs.firewall.as_ref().map_or(0, |f| f.rules_of(name));
    NetworkView {
        rows: {
            let attached = backend.attachments();
            statuses
                .iter()
                .map(|s| NetworkRow {
                    attachments: attached.iter().filter(|a| a.network == s.name).count(),
                    ..rows::network_row(s, rules(&s.name))
                })
                .collect()
        },
        statuses,
        taken_subnets: taken_subnets(&obs.host),
        default_via: obs
            .host
            .routes
            .iter()
            .filter(|r| r.dest.prefix_len() == 0)
            .filter_map(|r| r.oif)
            .collect(),
        addrs: obs.host.addrs,
        forwards: backend.forward_rows(None).unwrap_or_default(),
        stamp: stamp(backend),
        at: Some(Instant::now()),
        firewall,
    }
}

/// The host's subnets, each once: an address's subnet and the route the kernel adds for it
/// are the same claim.
fn taken_subnets(host: &crate::state::HostState) -> Vec<ipnet::IpNet> {
    let mut taken = crate::backend::host_facts(host).taken_subnets;
    taken.sort_unstable();
    taken.dedup();
    taken
}

/// The supervisor's state in the live source: pauses between tries, and its notices.
#[derive(Default)]
struct Supervision {
    backoff: crate::backend::supervise::Backoff,
    notices: Vec<crate::tui::data::Notice>,
    seq: u64,
}

/// Notices kept for the snapshots (the App logs each once).
const NOTICES_KEPT: usize = 32;

impl Supervision {
    /// Starts again the dnsmasq of networks whose dnsmasq died (not those `busy`), and
    /// reports whether anything was tried.
    async fn round<H: Host>(
        &mut self,
        backend: &Backend<H>,
        view: &NetworkView,
        busy: &Busy,
    ) -> bool {
        let busy: Vec<String> = busy
            .lock()
            .map(|b| b.iter().cloned().collect())
            .unwrap_or_default();
        let now = Instant::now();
        let tried = backend
            .supervise_once(&view.statuses, &mut self.backoff, &busy, now)
            .await;
        for (ok, text) in &tried {
            self.seq += 1;
            self.notices.push(crate::tui::data::Notice {
                seq: self.seq,
                ok: *ok,
                text: text.clone(),
            });
        }
        let excess = self.notices.len().saturating_sub(NOTICES_KEPT);
        self.notices.drain(..excess);
        !tried.is_empty()
    }
}

async fn run<H: Host>(
    backend: Backend<H>,
    tx: watch::Sender<Arc<Snapshot>>,
    mut interval_rx: watch::Receiver<u64>,
    refresh: Arc<Notify>,
    busy: Busy,
    ready: std::sync::mpsc::Sender<Result<Backend<H>>>,
    netns_suffix: Option<String>,
) {
    let setup = async {
        let (nets_tx, nets_rx) = watch::channel(backend.network_ports());
        let options = CollectorOptions {
            interval: Duration::from_millis(*interval_rx.borrow_and_update()),
            netns_suffix,
            ..CollectorOptions::default()
        };
        let collector = Collector::open(backend.host_arc(), nets_rx, options)
            .await?
            .start()
            .await?;
        Ok::<_, color_eyre::Report>((nets_tx, collector))
    };
    let (nets_tx, collector) = match setup.await {
        Ok(parts) => {
            let _ = ready.send(Ok(backend.clone()));
            parts
        }
        Err(e) => return drop(ready.send(Err(e))),
    };
    let mut ports_rx = collector.subscribe();
    let mut view = refresh_networks(&backend, None, None).await;
    let mut supervision = Supervision::default();
    let mut counters = forwards::ForwardCounters::default();
    let mut rows = rows::RowCache::default();
    // Counts the network views read (their addresses are the interface rows' input).
    let mut views = 0u64;
    let mut topology = 0;
    let mut firewall = 0;
    loop {
        let forced = tokio::select! {
            () = tx.closed() => return,
            changed = ports_rx.changed() => { if changed.is_err() { return; } false }
            () = refresh.notified() => true,
            changed = interval_rx.changed() => {
                if changed.is_err() { return; }
                collector.set_interval(Duration::from_millis(*interval_rx.borrow_and_update()));
                continue;
            }
        };
        let ports = ports_rx.borrow_and_update().clone();
        let stale = view.at.is_none_or(|t| t.elapsed() >= NETWORK_REFRESH);
        let rules_changed = ports.firewall != firewall;
        if forced
            || stale
            || rules_changed
            || ports.topology != topology
            || stamp(&backend) != view.stamp
        {
            // After a command, a change from another shell, or when links changed (the
            // collector's dump may still be settling), everything is read afresh: the
            // notifications may still be on their way. The timer and ruleset changes reuse
            // the collector's links.
            let fresh = forced || ports.topology != topology || stamp(&backend) != view.stamp;
            let (previous, seen) = if fresh {
                (None, None)
            } else {
                (Some(&view), Some(&*ports))
            };
            view = refresh_networks(&backend, previous, seen).await;
            if supervision.round(&backend, &view, &busy).await {
                view = refresh_networks(&backend, Some(&view), Some(&ports)).await;
            }
            views += 1;
            // Only a real change: the collector re-dumps its links for a new list.
            let nets = backend.network_ports();
            nets_tx.send_if_modified(|current| {
                let changed = *current != nets;
                if changed {
                    *current = nets;
                }
                changed
            });
        }
        topology = ports.topology;
        firewall = ports.firewall;
        counters
            .poll(backend.host(), ports.at, &view.forwards)
            .await;
        tx.send_replace(Arc::new(snapshot(
            backend.host(),
            &ports,
            (&view, views),
            &supervision.notices,
            &counters,
            &mut rows,
        )));
    }
}

/// The screens' snapshot: `view` is the network view with its number (which changes
/// whenever its addresses may have), `rows` the rows of the snapshots before.
fn snapshot<H: Host>(
    host: &H,
    ports: &PortsSnapshot,
    (view, view_number): (&NetworkView, u64),
    notices: &[crate::tui::data::Notice],
    counters: &forwards::ForwardCounters,
    cache: &mut rows::RowCache,
) -> Snapshot {
    let now_unix = host
        .now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let port_rows = cache.port_rows(ports);
    let mut leases: Vec<_> = ports
        .leases
        .iter()
        .map(|(n, l)| rows::lease_row(n, l))
        .collect();
    leases.extend(rows::reservation_rows(&view.rows, &leases));
    Snapshot {
        host: host.summary(),
        at: ports.at,
        networks: view.rows.clone(),
        forwards: counters.rows(&view.forwards, &view.rows, &leases, &port_rows),
        ports: port_rows,
        leases,
        ifaces: cache.iface_rows(ports, &view.addrs, &view.default_via, view_number),
        taken_subnets: view.taken_subnets.clone(),
        now_unix,
        notices: notices.to_vec(),
    }
}
