//! The operations every front end uses (CLI verbs, TUI actions, tests): define, start, stop,
//! status with drift. It ties the store, the pure planner and the host together, so the CLI
//! and the TUI can never disagree.

pub mod attach;
mod change;
pub use change::{Changed, Target};
mod edit;
mod forward;
pub use forward::{fill_counters, ForwardRow};
mod forward_probe;
mod move_port;
pub use forward_probe::{ForwardTest, PathResult, ProbeOutcome, ProbePath};
pub use move_port::{MoveError, MovedPort};
mod ports;
pub mod record;
pub mod supervise;
mod why;
pub use why::{free_address, WhyOutcome, WhyRequest, TRACE_TIMEOUT};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::host::apply::{self, ApplyError, On};
use crate::host::error::HostError;
use crate::host::nft::NftError;
use crate::host::{Host, SystemHost};
use crate::model::{self, CreateRequest, HostFacts, NetworkDef, Problem, XmlError};
use crate::plan::dnsmasq::DnsmasqPaths;
use crate::plan::firewall::{FirewallNet, ObservedTable};
use crate::plan::{self, Observed, Plan, PlanError, Step};
use crate::state::HostState;
use crate::store::{Paths, Store, StoreError, StoreLock};
use record::{RecordStatus, RuntimeRecord};

/// Everything that can go wrong in an operation, each naming what it concerns.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("the definition is not valid:\n{}", problems_text(.0))]
    Invalid(Vec<Problem>),
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("start of {network} failed at {0}", network = .1)]
    Apply(Box<ApplyError>, String),
    #[error(transparent)]
    Firewall(#[from] NftError),
    #[error(transparent)]
    Attach(#[from] attach::AttachError),
    #[error(transparent)]
    Move(#[from] MoveError),
    #[error("{error}; {restored}")]
    EditFailed {
        error: Box<BackendError>,
        restored: String,
    },
    #[error("network {0} is active; stop it first")]
    Active(String),
    #[error("network {0} is not active")]
    NotActive(String),
    #[error("network {network} still has macvtap attachments ({}); undefining it would orphan them", .links.join(", "))]
    Attached { network: String, links: Vec<String> },
    #[error(transparent)]
    Record(#[from] record::RecordError),
    #[error("stopping {network} left errors: {}", .failures.join("; "))]
    StopIncomplete {
        network: String,
        failures: Vec<String>,
    },
    #[error("'{}' is not a valid network name: {reason}", .name.escape_debug())]
    BadName { name: String, reason: String },
}

impl BackendError {
    /// The kernel's errno behind the failure, when a system call failed.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Host(e) => e.errno(),
            Self::Apply(e, _) => e.error.errno(),
            Self::EditFailed { error, .. } => error.errno(),
            Self::Firewall(NftError::Spawn(e)) => e.raw_os_error(),
            _ => None,
        }
    }

    /// What the operator can do about it, when it is one of the common failures.
    pub fn fix(&self) -> Option<String> {
        match self {
            Self::Host(e) => e.fix(),
            Self::Apply(e, _) => e.error.fix(),
            Self::EditFailed { error, .. } => error.fix(),
            Self::Firewall(NftError::Spawn(_)) => {
                Some("install nftables: apt-get install nftables".into())
            }
            Self::Active(name) => Some(format!("stop it first: switchyard stop {name}")),
            Self::Attached { links, .. } => Some(format!(
                "detach them first: {}",
                links
                    .iter()
                    .map(|l| format!("switchyard detach {l}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            Self::Plan(PlanError::HostConflict { .. }) => Some(
                "choose another subnet or bridge name (edit), or remove what holds it on the host"
                    .into(),
            ),
            _ => None,
        }
    }
}

fn problems_text(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What was seen on the host in one look.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub host: HostState,
    /// Our nftables table, `None` when it does not exist (or nft could not be run).
    pub firewall: Option<ObservedTable>,
    /// Why the firewall could not be read, if it could not.
    pub firewall_error: Option<String>,
    /// The forwarding sysctls at the time of the look.
    pub forwarding: crate::state::ForwardingSysctls,
}

impl Observation {
    pub async fn take<H: Host>(h: &H) -> Result<Observation, BackendError> {
        let look = h.look().await?;
        let (firewall, firewall_error) = match look.firewall {
            Ok(fw) => (fw, None),
            Err(e) => (None, Some(e)),
        };
        Ok(Observation {
            host: look.host,
            firewall,
            firewall_error,
            forwarding: look.forwarding,
        })
    }

    /// A look at links, addresses, routes and forwarding, without listing the table.
    pub async fn take_without_firewall<H: Host>(h: &H) -> Result<Observation, BackendError> {
        Ok(Observation {
            host: h.observe().await?,
            firewall: None,
            firewall_error: None,
            forwarding: h.forwarding(),
        })
    }

    /// A look for a network's first start: addresses, routes and forwarding, and of the links
    /// only those called `names` or numbered `indices` (one request each), so that it costs
    /// the same however many links the host has. A name the kernel could not hold is absent.
    pub async fn take_with_links<H: Host>(
        h: &H,
        names: &[&str],
        indices: &[u32],
    ) -> Result<Observation, BackendError> {
        let mut host = h.observe_without_links().await?;
        let mut found = Vec::new();
        for name in names {
            match h.link_by_name(name).await {
                Ok(link) => found.extend(link),
                Err(HostError::Invalid { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        for &index in indices {
            found.extend(h.link_by_index(index).await?);
        }
        for link in found {
            if host.link_by_index(link.ifindex).is_none() {
                host.links.push(link);
            }
        }
        Ok(Observation {
            host,
            firewall: None,
            firewall_error: None,
            forwarding: h.forwarding(),
        })
    }

    /// A look that takes its links from the caller (who follows link events) and `firewall`
    /// as the table last listed (`None`: list it now).
    pub async fn take_with<H: Host>(
        h: &H,
        links: Vec<crate::state::LinkInfo>,
        firewall: Option<Option<ObservedTable>>,
    ) -> Result<Observation, BackendError> {
        let mut host = h.observe_without_links().await?;
        host.links = links;
        let (firewall, firewall_error) = match firewall {
            Some(table) => (table, None),
            None => match h.firewall().await {
                Ok(table) => (table, None),
                Err(e) => (None, Some(e.to_string())),
            },
        };
        Ok(Observation {
            host,
            firewall,
            firewall_error,
            forwarding: h.forwarding(),
        })
    }

    /// The planner's view of this look, for one network.
    fn observed<'a>(
        &'a self,
        other_firewall: &'a [FirewallNet],
        dnsmasq_running: bool,
    ) -> Observed<'a> {
        Observed {
            host: &self.host,
            firewall: self.firewall.as_ref(),
            other_firewall,
            dnsmasq_running,
            ipv4_forward: self.forwarding.ipv4_forward,
            ipv6_forward: self.forwarding.ipv6_forward,
            own_bridge: None,
        }
    }
}

/// A stored definition by name: parsed, or why it could not be.
pub type Definition = (String, Result<NetworkDef, String>);

/// A defined network as the list and the TUI show it.
#[derive(Debug, Clone)]
pub struct NetworkStatus {
    pub name: String,
    pub def: Result<NetworkDef, String>,
    /// Running, or possibly running: a record that cannot be read counts as active (its
    /// network may hold a bridge, rules and a dnsmasq) and is reported in `record_error`.
    pub active: bool,
    pub autostart: bool,
    pub drift: Vec<plan::Drift>,
    pub dnsmasq_pid: Option<i32>,
    /// Why the runtime record could not be read, if it could not.
    pub record_error: Option<String>,
}

/// The operations, over one store and one host.
#[derive(Debug)]
pub struct Backend<H = SystemHost> {
    pub store: Store,
    host: Arc<H>,
}

impl<H> Clone for Backend<H> {
    fn clone(&self) -> Self {
        Backend {
            store: self.store.clone(),
            host: Arc::clone(&self.host),
        }
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl<H: Host> Backend<H> {
    pub fn new(paths: Paths, host: H) -> Backend<H> {
        Backend {
            store: Store::new(paths),
            host: Arc::new(host),
        }
    }

    /// The host it works on.
    pub fn host(&self) -> &H {
        &self.host
    }

    /// The host it works on, shared (the live views watch the same one).
    pub fn host_arc(&self) -> Arc<H> {
        Arc::clone(&self.host)
    }

    pub fn paths(&self) -> &Paths {
        self.store.paths()
    }

    /// Where a network's dnsmasq files go and whom it runs as (see
    /// [`dnsmasq::runtime_dir`] and [`dnsmasq::account`]).
    pub fn dnsmasq_paths(&self, network: &str) -> DnsmasqPaths {
        let setup = self.host.dnsmasq_setup(&self.paths().run);
        let mut paths = DnsmasqPaths::new(&setup.dir, &self.paths().state, network);
        paths.user = Some(setup.user);
        paths.group = setup.group;
        // Leases outlive restarts and upgrades: a lease file the first release named keeps
        // serving until it is replaced.
        let legacy = crate::store::legacy_path(&self.paths().state, network, ".leases");
        if let Some(old) = legacy.filter(|p| p.exists() && !paths.lease_file.exists()) {
            paths.lease_file = old;
        }
        paths
    }

    /// The files of the dnsmasq a running network was started with: those its record names
    /// (a network started by an earlier release keeps its own paths until it restarts), else
    /// [`Backend::dnsmasq_paths`].
    pub fn live_dnsmasq_paths(&self, network: &str) -> DnsmasqPaths {
        let mut paths = self.dnsmasq_paths(network);
        let started = record::load(&self.paths().run, network)
            .ok()
            .flatten()
            .and_then(|r| {
                r.plan.steps.iter().find_map(|s| match s {
                    Step::StartDnsmasq { conf, pid_file, .. } => {
                        Some((conf.clone(), pid_file.clone()))
                    }
                    _ => None,
                })
            });
        if let Some((conf, pid_file)) = started {
            paths.hosts_file = conf.with_extension("hostsfile");
            paths.addn_hosts = conf.with_extension("addnhosts");
            paths.conf = conf;
            paths.pid_file = pid_file;
        }
        paths
    }

    /// Every stored definition, parsed (a file that no longer parses is reported, not hidden).
    pub fn definitions(&self) -> Result<Vec<Definition>, BackendError> {
        let names = self.store.names()?;
        Ok(names
            .into_iter()
            .map(|name| {
                let def = self
                    .store
                    .load(&name)
                    .map_err(|e| e.to_string())
                    .and_then(|xml| model::parse_network_xml(&xml).map_err(|e| e.to_string()));
                (name, def)
            })
            .collect())
    }

    pub fn load_def(&self, name: &str) -> Result<NetworkDef, BackendError> {
        check_name(name)?;
        Ok(model::parse_network_xml(&self.store.load(name)?)?)
    }

    fn others(&self, name: &str) -> Result<Vec<NetworkDef>, BackendError> {
        Ok(self
            .definitions()?
            .into_iter()
            .filter(|(n, _)| n != name)
            .filter_map(|(_, d)| d.ok())
            .collect())
    }

    /// Defines (or redefines) a network from XML: parse, fill libvirt's defaults, validate
    /// against the other definitions, store atomically. Nothing is written on any error.
    pub fn define_xml(&self, xml: &str, host: &HostFacts) -> Result<NetworkDef, BackendError> {
        let def = model::parse_network_xml(xml)?;
        self.define(def, host)
    }

    /// Defines a parsed network (see [`Backend::define_xml`]).
    pub fn define(&self, def: NetworkDef, host: &HostFacts) -> Result<NetworkDef, BackendError> {
        let lock = self.store.lock()?;
        self.define_locked(&lock, def, host)
    }

    /// [`Backend::define`] for a caller that holds the lock.
    pub fn define_locked(
        &self,
        lock: &StoreLock,
        def: NetworkDef,
        host: &HostFacts,
    ) -> Result<NetworkDef, BackendError> {
        let def = self.complete(def, host)?;
        self.store
            .save(lock, &def.name, &model::format_network_xml(&def))?;
        Ok(def)
    }

    /// A definition as define stores it, without storing it: identity kept from an earlier
    /// definition of the same name (as libvirt does), defaults filled, validated against the
    /// other definitions and the stored one (so a redefinition with another UUID is refused,
    /// as libvirt refuses it). Dubious values are accepted; see [`model::dubious`].
    pub fn complete(
        &self,
        mut def: NetworkDef,
        host: &HostFacts,
    ) -> Result<NetworkDef, BackendError> {
        check_name(&def.name)?;
        let mut others = self.others(&def.name)?;
        if let Ok(old) = self.load_def(&def.name) {
            def.uuid = def.uuid.or(old.uuid);
            def.mac = def.mac.or(old.mac);
            if def.bridge_name().is_none() && def.uses_own_bridge() {
                def.bridge = old.bridge.clone();
            }
            others.push(old);
        }
        let mut rand = crate::host::random_u64;
        model::fill_defaults(&mut def, &others, &host.ifnames, &mut rand);
        let problems = model::validate(&def, &others);
        if !problems.is_empty() {
            return Err(BackendError::Invalid(problems));
        }
        Ok(def)
    }

    /// The non-interactive twin of the creation wizard.
    pub fn create(
        &self,
        req: &CreateRequest,
        host: &HostFacts,
    ) -> Result<NetworkDef, BackendError> {
        check_name(&req.name)?;
        let lock = self.store.lock()?;
        let others = self.others(&req.name)?;
        if self.store.exists(&req.name) {
            return Err(BackendError::Invalid(vec![Problem {
                path: "name".into(),
                message: format!("a network named {} is already defined", req.name),
            }]));
        }
        let mut rand = crate::host::random_u64;
        let def = model::build_definition(req, &others, host, &mut rand)
            .map_err(BackendError::Invalid)?;
        let def = self.define_locked(&lock, def, host)?;
        if req.autostart {
            self.store.set_autostart(&lock, &def.name, true)?;
        }
        Ok(def)
    }

    pub fn undefine(&self, name: &str) -> Result<(), BackendError> {
        check_name(name)?;
        let lock = self.store.lock()?;
        self.undefine_locked(&lock, name)
    }

    fn undefine_locked(&self, lock: &StoreLock, name: &str) -> Result<(), BackendError> {
        if self.record(name)?.is_some() {
            return Err(BackendError::Active(name.to_owned()));
        }
        // A macvtap network's attachments would be orphaned: name them instead.
        let attached: Vec<String> = self
            .attachments()
            .into_iter()
            .filter(|a| a.network == name)
            .map(|a| a.ifname)
            .collect();
        if !attached.is_empty() {
            return Err(BackendError::Attached {
                network: name.to_owned(),
                links: attached,
            });
        }
        self.store.remove(lock, name)?;
        Ok(())
    }

    pub fn set_autostart(&self, name: &str, on: bool) -> Result<(), BackendError> {
        check_name(name)?;
        let lock = self.store.lock()?;
        Ok(self.store.set_autostart(&lock, name, on)?)
    }

    /// The runtime record of `name`: `None` when it is not running; an error when a record
    /// exists but cannot be read (never taken as "not running").
    pub fn record(&self, name: &str) -> Result<Option<RuntimeRecord>, BackendError> {
        check_name(name)?;
        Ok(record::load(&self.paths().run, name)?)
    }

    fn dnsmasq_pid(&self, name: &str) -> Option<i32> {
        let p = self.live_dnsmasq_paths(name);
        self.host.dnsmasq_pid(&p.pid_file, &p.conf)
    }

    /// What a start or stop of `except` needs to know of the other active networks: one of
    /// them that has rules (whether the table is shared), and which of `keys` (forwarding
    /// sysctls) one of them needs. Records are read one by one only until both are answered,
    /// so with other networks like this one the first record answers, and the cost does not
    /// grow with their number.
    fn active_others(
        &self,
        except: &str,
        keys: &BTreeSet<&str>,
    ) -> Result<(Option<FirewallNet>, BTreeSet<&'static str>), BackendError> {
        let mut fw = None;
        let mut needed = BTreeSet::new();
        for name in self.store.names()? {
            if fw.is_some() && keys.iter().all(|k| needed.contains(k)) {
                break;
            }
            if name == except {
                continue;
            }
            let Ok(Some(rec)) = record::load(&self.paths().run, &name) else {
                continue;
            };
            let Ok(def) = model::parse_network_xml(&rec.def_xml) else {
                continue;
            };
            if fw.is_none() {
                fw = def.bridge_name().and_then(|b| plan::firewall_net(&def, b));
            }
            needed.extend(plan::start::forwarding_keys(&def));
        }
        Ok((fw, needed))
    }

    /// How many networks but `except` have a runtime record (are active, or were interrupted):
    /// one read of the run folder, not a look for each defined network's record.
    fn active_count(&self, except: &str) -> Result<u64, BackendError> {
        let active = crate::store::names_in(&self.paths().run, ".json")?
            .iter()
            .filter(|n| *n != except)
            .count();
        Ok(active as u64)
    }

    /// Status of every defined network, with drift for the active ones. Each record is read
    /// and parsed once; a network's drift is judged with every other active network's rules
    /// counted as wanted.
    pub fn statuses(&self, obs: &Observation) -> Result<Vec<NetworkStatus>, BackendError> {
        let defs = self.definitions()?;
        let mut records = Vec::with_capacity(defs.len());
        let mut firewall: BTreeMap<String, FirewallNet> = BTreeMap::new();
        for (name, _) in &defs {
            let (rec, record_error) = match record::load(&self.paths().run, name) {
                Ok(rec) => (rec, None),
                Err(e) => (None, Some(e.to_string())),
            };
            let running = rec
                .as_ref()
                .and_then(|r| model::parse_network_xml(&r.def_xml).ok());
            if let Some(def) = &running {
                if let Some(entry) = def.bridge_name().and_then(|b| plan::firewall_net(def, b)) {
                    firewall.insert(name.clone(), entry);
                }
            }
            records.push((rec, record_error, running));
        }
        let mut out = Vec::new();
        for ((name, def), (rec, record_error, running)) in defs.into_iter().zip(records) {
            let pid = self.dnsmasq_pid(&name);
            let mut drift = Vec::new();
            if let Some(e) = &record_error {
                drift.push(plan::Drift::RecordUnreadable(e.clone()));
            }
            if let Some(rec) = &rec {
                if rec.status == RecordStatus::Starting {
                    drift.push(plan::Drift::StartInterrupted);
                }
                if let Some(running) = &running {
                    let others: Vec<FirewallNet> = firewall
                        .iter()
                        .filter(|(n, _)| **n != name)
                        .map(|(_, f)| f.clone())
                        .collect();
                    let observed = obs.observed(&others, pid.is_some());
                    drift.extend(plan::detect_drift(running, &observed));
                }
            }
            out.push(NetworkStatus {
                autostart: self.store.autostart(&name),
                active: rec.is_some() || record_error.is_some(),
                name,
                def,
                drift,
                dnsmasq_pid: pid,
                record_error,
            });
        }
        Ok(out)
    }

    /// Plans the start of `name` against the host as it is now: of its stored definition, or
    /// for a running network (a repair) of the definition it runs with — a stored change
    /// applies at the next restart, or at once through `edit` or `update`.
    pub async fn plan_start(&self, name: &str) -> Result<(NetworkDef, Plan), BackendError> {
        let def = match self.record(name)? {
            Some(rec) => model::parse_network_xml(&rec.def_xml)?,
            None => self.load_def(name)?,
        };
        let plan = self.plan_for(&def).await?;
        Ok((def, plan))
    }

    /// Plans the start of `def` (stored or not) against the host as it is now.
    pub async fn plan_for(&self, def: &NetworkDef) -> Result<Plan, BackendError> {
        let name = def.name.as_str();
        let previous = self.record(name)?;
        let reattach = self.reattach_candidates(def);
        // A network that is not running gets its rules loaded whatever the table holds (the
        // transaction is idempotent and repairs this network's part and the shared chains), so
        // the table, whose listing grows with every network, is not read; nor are the links
        // but its bridge and the guests' ports it may put back. A running network's start is
        // a repair: its part is compared with what it should be.
        let targeted = previous.is_none() && def.uses_own_bridge();
        let obs = match &previous {
            Some(_) => Observation::take(&*self.host).await?,
            None if targeted => {
                let (mut names, indices) = reattach.as_ref().map(|r| r.links()).unwrap_or_default();
                names.extend(def.bridge_name());
                Observation::take_with_links(&*self.host, &names, &indices).await?
            }
            None => Observation::take_without_firewall(&*self.host).await?,
        };
        if let Some(e) = &obs.firewall_error {
            if plan::firewall_net(def, def.bridge_name().unwrap_or_default()).is_some() {
                return Err(BackendError::Firewall(NftError::Output(e.clone())));
            }
        }
        let (other_fw, _) = self.active_others(name, &BTreeSet::new())?;
        let other_fw: Vec<FirewallNet> = other_fw.into_iter().collect();
        // A network without a record has no dnsmasq of ours: the record is written before
        // the first change of a start and removed after the last of a stop. So only a repair
        // looks for one (by pid file, else through every process's command line).
        let dnsmasq_running = previous.is_some() && self.dnsmasq_pid(name).is_some();
        let own_bridge = previous.as_ref().and_then(|r| own_bridge(&r.plan));
        let paths = self.dnsmasq_paths(name);
        let plan_with = |obs: &Observation| {
            let mut observed = obs.observed(&other_fw, dnsmasq_running);
            observed.own_bridge = own_bridge;
            plan::plan_start(def, &observed, &paths)
        };
        let (obs, planned) = match plan_with(&obs) {
            // The conflicts name the interfaces that hold the subnet: look at every link.
            Err(PlanError::HostConflict { .. }) if targeted => {
                let full = Observation::take_without_firewall(&*self.host).await?;
                let planned = plan_with(&full);
                (full, planned)
            }
            planned => (obs, planned),
        };
        let mut plan = planned?;
        let dnsmasq_at = plan
            .steps
            .iter()
            .position(|s| matches!(s, Step::StartDnsmasq { .. }));
        if let Some(at) = dnsmasq_at {
            // Every active network is counted as holding a dnsmasq: a safe overestimate that
            // costs a look at each record's name, not a read of it.
            let ours = 1 + self.active_count(name)?;
            let limit = obs.forwarding.inotify_max_user_instances;
            if let Some(step) = plan::start::inotify_step(limit, ours) {
                plan.steps.insert(at, step);
            }
        }
        plan.steps
            .extend(self.reattach_steps(def, reattach, &obs.host));
        Ok(plan)
    }

    /// Starts (or repairs) `name` as one transaction: on failure the host is left as before.
    pub async fn start(
        &self,
        name: &str,
        progress: impl FnMut(usize, &Step),
    ) -> Result<Plan, BackendError> {
        check_name(name)?;
        let lock = self.store.lock()?;
        self.start_locked(&lock, name, progress).await
    }

    /// [`Backend::start`] for a caller that holds the lock.
    pub async fn start_locked(
        &self,
        _lock: &StoreLock,
        name: &str,
        progress: impl FnMut(usize, &Step),
    ) -> Result<Plan, BackendError> {
        let (def, plan) = self.plan_start(name).await?;
        let dnsmasq_dir = self.host.dnsmasq_setup(&self.paths().run).dir;
        for dir in [&self.paths().run, &self.paths().state, &dnsmasq_dir] {
            crate::store::ensure_dir(dir, 0o755)?;
        }
        let previous = self.record(name)?;
        let mut rec = RuntimeRecord {
            version: record::RECORD_VERSION,
            network: name.to_owned(),
            status: RecordStatus::Starting,
            def_xml: model::format_network_xml(&def),
            plan: merged_plan(previous.as_ref(), &plan),
            started_unix: now_unix(),
        };
        // Recorded before the first change, so an interrupted start is seen as drift.
        record::save(&self.paths().run, &rec)?;
        let mut runner = Recording {
            host: &*self.host,
            run: &self.paths().run,
            record: &mut rec,
        };
        let applied = apply::apply(&mut runner, &plan, progress).await;
        self.host.settle().await;
        let done = match applied {
            Ok(done) => done,
            Err(e) => {
                match previous {
                    Some(prev) => record::save(&self.paths().run, &prev)?,
                    None => record::remove(&self.paths().run, name)?,
                }
                // An empty folder is all the failed start may have left.
                crate::store::remove_empty_dir(&dnsmasq_dir);
                return Err(BackendError::Apply(Box::new(e), name.to_owned()));
            }
        };
        let done = Plan {
            network: plan.network.clone(),
            steps: done,
            notes: plan.notes.clone(),
        };
        rec.plan = merged_plan(previous.as_ref(), &done);
        rec.status = RecordStatus::Active;
        record::save(&self.paths().run, &rec)?;
        Ok(done)
    }

    /// Stops `name`: removes everything its start added, and nothing else.
    pub async fn stop(
        &self,
        name: &str,
        progress: impl FnMut(usize, &Step),
    ) -> Result<Plan, BackendError> {
        check_name(name)?;
        let lock = self.store.lock()?;
        self.stop_locked(&lock, name, progress).await
    }

    /// [`Backend::stop`] for a caller that holds the lock. A record that cannot be read is
    /// replaced by the plan a start of the definition would make on an empty host: every
    /// removal then checks what is there.
    pub async fn stop_locked(
        &self,
        _lock: &StoreLock,
        name: &str,
        progress: impl FnMut(usize, &Step),
    ) -> Result<Plan, BackendError> {
        let started = match self.record(name) {
            Ok(Some(rec)) => rec.plan,
            Ok(None) if self.store.exists(name) => {
                return Err(BackendError::NotActive(name.to_owned()))
            }
            Ok(None) => return Err(StoreError::NotDefined(name.to_owned()).into()),
            Err(BackendError::Record(_)) => self.plan_from_definition(name)?,
            Err(e) => return Err(e),
        };
        // Only the forwarding sysctls this network set need an answer from the others.
        let set: BTreeSet<&str> = started
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::SetSysctl { key, .. } => Some(key.as_str()),
                _ => None,
            })
            .filter(|k| [plan::start::IPV4_FORWARD, plan::start::IPV6_FORWARD].contains(k))
            .collect();
        let (other_fw, needed) = self.active_others(name, &set)?;
        let other_fw: Vec<FirewallNet> = other_fw.into_iter().collect();
        // The table is read only when no other network has rules: then it holds (besides
        // the first release's rules, which decide whether it may go) only this one's.
        let obs = if other_fw.is_empty() {
            Observation::take(&*self.host).await?
        } else {
            Observation::take_without_firewall(&*self.host).await?
        };
        let observed = obs.observed(&other_fw, true);
        let mut plan = plan::plan_stop(&started, &observed, &needed);
        plan.notes = started.notes.clone();
        let made = started.steps.iter().find_map(|s| match s {
            Step::CreateBridge(b) => Some(b.name.as_str()),
            _ => None,
        });
        if let Some(step) = made.and_then(|b| self.remember_ports(name, b, &obs.host)) {
            plan.steps.insert(0, step);
        }
        let paths = self.live_dnsmasq_paths(name);
        plan.steps.push(Step::RemoveFile {
            path: paths.pid_file,
        });
        let failures = apply::apply_all(&mut On(&*self.host), &plan, progress).await;
        self.host.settle().await;
        if !failures.is_empty() {
            return Err(BackendError::StopIncomplete {
                network: name.to_owned(),
                failures: failures
                    .iter()
                    .map(|(step, e)| format!("{step}: {e}"))
                    .collect(),
            });
        }
        record::remove(&self.paths().run, name)?;
        // The folder goes with the last network's files (remove_dir refuses a full one).
        crate::store::remove_empty_dir(&self.host.dnsmasq_setup(&self.paths().run).dir);
        Ok(plan)
    }

    /// What a start of the stored definition does on a host where nothing of it exists: the
    /// steps a stop undoes when the record of the real start is lost.
    fn plan_from_definition(&self, name: &str) -> Result<Plan, BackendError> {
        let def = self.load_def(name)?;
        let empty = HostState::default();
        let observed = Observed {
            host: &empty,
            firewall: None,
            other_firewall: &[],
            dnsmasq_running: false,
            ipv4_forward: None,
            ipv6_forward: None,
            own_bridge: None,
        };
        let mut plan = plan::plan_start(&def, &observed, &self.dnsmasq_paths(name))?;
        plan.notes = vec![format!(
            "the runtime record of {name} was unreadable: this stop was planned from the \
             definition, and forwarding sysctls are left as they are"
        )];
        Ok(plan)
    }
}

impl<H: Host> Backend<H> {
    /// Starts the dnsmasq of running network `name` again if it died (nothing else of the
    /// network is touched): checked under the lock, so a stop or an edit under way is never
    /// fought (when another switchyard holds the lock, nothing is done this time). `Ok(None)`
    /// when there was nothing to do; else the new dnsmasq's pid.
    pub async fn revive_dnsmasq(&self, name: &str) -> Result<Option<i32>, BackendError> {
        check_name(name)?;
        let Some(_lock) = self.store.try_lock()? else {
            return Ok(None);
        };
        let Some(rec) = self.record(name)? else {
            return Ok(None);
        };
        let def = model::parse_network_xml(&rec.def_xml)?;
        let dead = rec.status == RecordStatus::Active
            && plan::dnsmasq::needs_dnsmasq(&def)
            && self.dnsmasq_pid(name).is_none();
        if !dead {
            return Ok(None);
        }
        let paths = self.live_dnsmasq_paths(name);
        let host = HostState::default();
        let observed = Observed {
            host: &host,
            firewall: None,
            other_firewall: &[],
            dnsmasq_running: false,
            ipv4_forward: None,
            ipv6_forward: None,
            own_bridge: None,
        };
        let bridge = def.bridge_name().unwrap_or_default();
        let mut steps = Vec::new();
        plan::start::dnsmasq_steps(&def, &observed, bridge, &paths, &mut steps)?;
        let plan = Plan {
            network: name.to_owned(),
            steps,
            notes: Vec::new(),
        };
        apply::apply(&mut On(&*self.host), &plan, |_, _| {})
            .await
            .map_err(|e| BackendError::Apply(Box::new(e), name.to_owned()))?;
        Ok(self.dnsmasq_pid(name))
    }

    /// What would keep `def` from starting on the host as it is now (a bridge or a subnet
    /// that is not its own): `define` reports these as warnings, since the host may change
    /// before the start, which refuses them.
    pub fn start_warnings(&self, def: &NetworkDef, host: &HostState) -> Vec<String> {
        let own = self
            .record(&def.name)
            .ok()
            .flatten()
            .and_then(|r| own_bridge(&r.plan));
        plan::start::host_conflicts(def, host, own)
            .into_iter()
            .map(|c| format!("network {} will not start as things are: {c}", def.name))
            .collect()
    }
}

/// Refuses a name that is not a valid network name (every verb checks it first, so a name
/// like `../x` never reaches a path).
pub fn check_name(name: &str) -> Result<(), BackendError> {
    crate::store::check_name(name).map_err(|e| match e {
        StoreError::BadName { name, reason } => BackendError::BadName { name, reason },
        other => other.into(),
    })
}

/// Runs steps on the real host and writes a created bridge's interface index into the record
/// at once: a start killed right after is repaired (the bridge is recognised as ours) or
/// stopped by that index.
struct Recording<'a, H> {
    host: &'a H,
    run: &'a std::path::Path,
    record: &'a mut RuntimeRecord,
}

impl<H: Host> apply::StepRunner for Recording<'_, H> {
    async fn run(&mut self, step: &Step) -> Result<apply::Outcome, HostError> {
        let outcome = self.host.run(step).await?;
        if let (Step::CreateBridge(made), apply::Outcome::CreatedLink { ifindex }) = (step, outcome)
        {
            for s in &mut self.record.plan.steps {
                if let Step::CreateBridge(b) = s {
                    if b.name == made.name {
                        b.ifindex = Some(ifindex);
                    }
                }
            }
            record::save(self.run, self.record)
                .map_err(|e| HostError::invalid(step.to_string(), e.to_string()))?;
        }
        Ok(outcome)
    }
}

/// The interface index of the bridge a recorded start created, if it recorded one.
fn own_bridge(plan: &Plan) -> Option<u32> {
    plan.steps.iter().find_map(|s| match s {
        Step::CreateBridge(b) => b.ifindex,
        _ => None,
    })
}

/// The plan a record keeps: what an earlier (partial) start did plus what this one adds, so a
/// stop after a repair still undoes everything. A bridge created again replaces the record of
/// the one that was lost.
fn merged_plan(previous: Option<&RuntimeRecord>, plan: &Plan) -> Plan {
    let mut steps: Vec<Step> = previous.map(|r| r.plan.steps.clone()).unwrap_or_default();
    for step in &plan.steps {
        if let Step::CreateBridge(new) = step {
            steps.retain(|s| !matches!(s, Step::CreateBridge(old) if old.name == new.name));
        }
        if !steps.contains(step) {
            steps.push(step.clone());
        }
    }
    Plan {
        network: plan.network.clone(),
        steps,
        notes: Vec::new(),
    }
}

/// What the host looks like to the model's defaults: interface names and taken subnets.
pub fn host_facts(host: &HostState) -> HostFacts {
    let mut taken: Vec<ipnet::IpNet> = host.addrs.iter().map(|a| a.net.trunc()).collect();
    taken.extend(
        host.routes
            .iter()
            .filter(|r| r.dest.prefix_len() > 0)
            .map(|r| r.dest),
    );
    HostFacts {
        ifnames: host.links.iter().map(|l| l.name.clone()).collect(),
        taken_subnets: taken,
    }
}

impl<H: Host> Backend<H> {
    /// What the telemetry collector needs of each active network: its bridge, lease file and
    /// macvtap pool, from the definition it was started with.
    pub fn network_ports(&self) -> Vec<crate::telemetry::ports::NetworkPorts> {
        let names = self.store.names().unwrap_or_default();
        names
            .iter()
            .filter_map(|name| {
                let Some(rec) = record::load(&self.paths().run, name).ok().flatten() else {
                    // A macvtap network's links are made by `attach` whether or not it was
                    // started: they still belong to it.
                    let def = self.load_def(name).ok().filter(NetworkDef::is_macvtap)?;
                    return Some(crate::telemetry::ports::NetworkPorts::from_def(&def, None));
                };
                let def = model::parse_network_xml(&rec.def_xml).ok()?;
                let lease_file = self.live_dnsmasq_paths(name).lease_file;
                Some(crate::telemetry::ports::NetworkPorts::from_def(
                    &def,
                    Some(lease_file),
                ))
            })
            .collect()
    }
}
