//! The operations every front end uses (CLI verbs, TUI actions, tests): define, start, stop,
//! status with drift. It ties the store, the pure planner and the host together, so the CLI
//! and the TUI can never disagree.

pub mod attach;
mod edit;
pub mod record;

use std::collections::BTreeSet;
use std::os::unix::fs::DirBuilderExt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::host::apply::{self, ApplyError, Faults, RealHost};
use crate::host::error::HostError;
use crate::host::netlink::Netlink;
use crate::host::nft::{self, FirewallState, NftError};
use crate::host::state::HostState;
use crate::host::{dnsmasq, sysctl};
use crate::model::{self, CreateRequest, HostFacts, NetworkDef, Problem, XmlError};
use crate::plan::dnsmasq::DnsmasqPaths;
use crate::plan::firewall::FirewallNet;
use crate::plan::{self, Observed, Plan, PlanError, Step};
use crate::store::{Paths, Store, StoreError};
use record::{RecordStatus, RuntimeRecord};

/// Everything that can go wrong in an operation, each naming what it concerns.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
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
    #[error("{error}; {restored}")]
    EditFailed {
        error: Box<BackendError>,
        restored: String,
    },
    #[error("network {0} is active; stop it first")]
    Active(String),
    #[error("network {0} is not active")]
    NotActive(String),
    #[error("stopping {network} left errors: {}", .failures.join("; "))]
    StopIncomplete {
        network: String,
        failures: Vec<String>,
    },
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
    pub firewall: Option<FirewallState>,
    /// Why the firewall could not be read, if it could not.
    pub firewall_error: Option<String>,
    /// The forwarding sysctls at the time of the look.
    pub forwarding: crate::host::state::ForwardingSysctls,
}

impl Observation {
    pub async fn take(nl: &Netlink) -> Result<Observation, BackendError> {
        // nft runs as a process: start it first so it works while netlink answers.
        let pending = nft::PendingObserve::start();
        let host = nl.observe().await?;
        let (firewall, firewall_error) = match pending.and_then(|p| p.finish()) {
            Ok(fw) => (fw, None),
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(Observation {
            host,
            firewall,
            firewall_error,
            forwarding: sysctl::read_forwarding(),
        })
    }

    /// The planner's view of this look, for one network.
    fn observed<'a>(
        &'a self,
        other_firewall: &'a [FirewallNet],
        dnsmasq_running: bool,
    ) -> Observed<'a> {
        static NONE: BTreeSet<String> = BTreeSet::new();
        Observed {
            host: &self.host,
            firewall_networks: self.firewall.as_ref().map_or(&NONE, |f| &f.networks),
            other_firewall,
            dnsmasq_running,
            ipv4_forward: self.forwarding.ipv4_forward,
            ipv6_forward: self.forwarding.ipv6_forward,
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
    pub active: bool,
    pub autostart: bool,
    pub drift: Vec<String>,
    pub dnsmasq_pid: Option<i32>,
}

/// The operations, over one store.
#[derive(Debug, Clone)]
pub struct Backend {
    pub store: Store,
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .is_err()
    {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        return (t as u64) ^ u64::from(std::process::id()).rotate_left(32);
    }
    u64::from_le_bytes(buf)
}

impl Backend {
    pub fn new(paths: Paths) -> Backend {
        Backend {
            store: Store::new(paths),
        }
    }

    pub fn paths(&self) -> &Paths {
        self.store.paths()
    }

    pub fn dnsmasq_paths(&self, network: &str) -> DnsmasqPaths {
        let mut paths = DnsmasqPaths::new(&self.paths().run, &self.paths().state, network);
        if !world_traversable(&self.paths().run) {
            paths.user = Some("root".into());
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
        let def = self.complete(def, host)?;
        self.store
            .save(&lock, &def.name, &model::format_network_xml(&def))?;
        Ok(def)
    }

    /// A definition as define stores it, without storing it: identity kept from an earlier
    /// definition of the same name (as libvirt does), defaults filled, validated against the
    /// other definitions.
    pub fn complete(
        &self,
        mut def: NetworkDef,
        host: &HostFacts,
    ) -> Result<NetworkDef, BackendError> {
        let others = self.others(&def.name)?;
        if let Ok(old) = self.load_def(&def.name) {
            def.uuid = def.uuid.or(old.uuid);
            def.mac = def.mac.or(old.mac);
            if def.bridge_name().is_none() && def.uses_own_bridge() {
                def.bridge = old.bridge;
            }
        }
        let mut rand = random_u64;
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
        let others = self.others(&req.name)?;
        if self.store.exists(&req.name) {
            return Err(BackendError::Invalid(vec![Problem {
                path: "name".into(),
                message: format!("a network named {} is already defined", req.name),
            }]));
        }
        let mut rand = random_u64;
        let def = model::build_definition(req, &others, host, &mut rand)
            .map_err(BackendError::Invalid)?;
        let def = self.define(def, host)?;
        if req.autostart {
            self.set_autostart(&def.name, true)?;
        }
        Ok(def)
    }

    pub fn undefine(&self, name: &str) -> Result<(), BackendError> {
        let lock = self.store.lock()?;
        if record::load(&self.paths().run, name).is_some() {
            return Err(BackendError::Active(name.to_owned()));
        }
        self.store.remove(&lock, name)?;
        Ok(())
    }

    pub fn set_autostart(&self, name: &str, on: bool) -> Result<(), BackendError> {
        let lock = self.store.lock()?;
        Ok(self.store.set_autostart(&lock, name, on)?)
    }

    pub fn record(&self, name: &str) -> Option<RuntimeRecord> {
        record::load(&self.paths().run, name)
    }

    fn dnsmasq_pid(&self, name: &str) -> Option<i32> {
        let p = self.dnsmasq_paths(name);
        dnsmasq::running(&p.pid_file, &p.conf)
    }

    /// Firewall entries and forwarding needs of every active network except `except`.
    fn active_others(
        &self,
        except: &str,
    ) -> Result<(Vec<FirewallNet>, BTreeSet<&'static str>), BackendError> {
        let mut fw = Vec::new();
        let mut keys = BTreeSet::new();
        for name in self.store.names()? {
            if name == except {
                continue;
            }
            let Some(rec) = self.record(&name) else {
                continue;
            };
            let Ok(def) = model::parse_network_xml(&rec.def_xml) else {
                continue;
            };
            if let Some(entry) = def.bridge_name().and_then(|b| plan::firewall_net(&def, b)) {
                fw.push(entry);
            }
            keys.extend(plan::start::forwarding_keys(&def));
        }
        Ok((fw, keys))
    }

    /// Status of every defined network, with drift for the active ones.
    pub fn statuses(&self, obs: &Observation) -> Result<Vec<NetworkStatus>, BackendError> {
        let mut out = Vec::new();
        for (name, def) in self.definitions()? {
            let rec = self.record(&name);
            let pid = self.dnsmasq_pid(&name);
            let mut drift = Vec::new();
            if let Some(rec) = &rec {
                if rec.status == RecordStatus::Starting {
                    drift.push("start was interrupted".to_owned());
                }
                if let Ok(running) = model::parse_network_xml(&rec.def_xml) {
                    let observed = obs.observed(&[], pid.is_some());
                    drift.extend(plan::detect_drift(&running, &observed));
                }
            }
            out.push(NetworkStatus {
                autostart: self.store.autostart(&name),
                active: rec.is_some(),
                name,
                def,
                drift,
                dnsmasq_pid: pid,
            });
        }
        Ok(out)
    }

    /// Plans the start of `name` against the host as it is now.
    pub async fn plan_start(
        &self,
        nl: &Netlink,
        name: &str,
    ) -> Result<(NetworkDef, Plan), BackendError> {
        let def = self.load_def(name)?;
        let plan = self.plan_for(nl, &def).await?;
        Ok((def, plan))
    }

    /// Plans the start of `def` (stored or not) against the host as it is now.
    pub async fn plan_for(&self, nl: &Netlink, def: &NetworkDef) -> Result<Plan, BackendError> {
        let name = def.name.as_str();
        let obs = Observation::take(nl).await?;
        if let Some(e) = &obs.firewall_error {
            if plan::firewall_net(def, def.bridge_name().unwrap_or_default()).is_some() {
                return Err(BackendError::Firewall(NftError::Output(e.clone())));
            }
        }
        let (other_fw, _) = self.active_others(name)?;
        let observed = obs.observed(&other_fw, self.dnsmasq_pid(name).is_some());
        Ok(plan::plan_start(def, &observed, &self.dnsmasq_paths(name))?)
    }

    /// Starts (or repairs) `name` as one transaction: on failure the host is left as before.
    pub async fn start(
        &self,
        nl: Netlink,
        name: &str,
        faults: Faults,
        progress: impl FnMut(usize, &Step),
    ) -> Result<Plan, BackendError> {
        let _lock = self.store.lock()?;
        let (def, plan) = self.plan_start(&nl, name).await?;
        for dir in [&self.paths().run, &self.paths().state] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)
                .map_err(|source| StoreError::Io {
                    path: dir.clone(),
                    source,
                })?;
        }
        let previous = self.record(name);
        let mut rec = RuntimeRecord {
            network: name.to_owned(),
            status: RecordStatus::Starting,
            def_xml: model::format_network_xml(&def),
            plan: merged_plan(previous.as_ref(), &plan),
            started_unix: now_unix(),
        };
        // Recorded before the first change, so an interrupted start is seen as drift.
        record::save(&self.paths().run, &rec)?;
        let mut host = RealHost::new(nl);
        let applied = apply::apply(&mut host, &plan, faults, progress).await;
        host.finish();
        if let Err(e) = applied {
            match previous {
                Some(prev) => record::save(&self.paths().run, &prev)?,
                None => record::remove(&self.paths().run, name)?,
            }
            return Err(BackendError::Apply(Box::new(e), name.to_owned()));
        }
        rec.status = RecordStatus::Active;
        record::save(&self.paths().run, &rec)?;
        Ok(plan)
    }

    /// Stops `name`: removes everything its start added, and nothing else.
    pub async fn stop(
        &self,
        nl: Netlink,
        name: &str,
        progress: impl FnMut(usize, &Step),
    ) -> Result<Plan, BackendError> {
        let _lock = self.store.lock()?;
        let rec = self
            .record(name)
            .ok_or_else(|| BackendError::NotActive(name.to_owned()))?;
        let obs = Observation::take(&nl).await?;
        let (other_fw, needed) = self.active_others(name)?;
        let observed = obs.observed(&other_fw, true);
        let mut plan = plan::plan_stop(&rec.plan, &observed, &needed);
        let paths = self.dnsmasq_paths(name);
        plan.steps.push(Step::RemoveFile {
            path: paths.pid_file,
        });
        let mut host = RealHost::new(nl);
        let failures = apply::apply_all(&mut host, &plan, progress).await;
        host.finish();
        if !failures.is_empty() {
            return Err(BackendError::StopIncomplete {
                network: name.to_owned(),
                failures,
            });
        }
        record::remove(&self.paths().run, name)?;
        Ok(plan)
    }
}

/// Whether every folder above `dir` lets other users through (dnsmasq, once it has dropped to
/// its unprivileged user, re-reads its hosts files from there).
fn world_traversable(dir: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    dir.ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty())
        .all(|a| std::fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// The plan a record keeps: what an earlier (partial) start did plus what this one adds, so a
/// stop after a repair still undoes everything.
fn merged_plan(previous: Option<&RuntimeRecord>, plan: &Plan) -> Plan {
    let mut steps: Vec<Step> = previous.map(|r| r.plan.steps.clone()).unwrap_or_default();
    for step in &plan.steps {
        if !steps.contains(step) {
            steps.push(step.clone());
        }
    }
    Plan {
        network: plan.network.clone(),
        steps,
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

impl Backend {
    /// What the telemetry collector needs of each active network: its bridge, lease file and
    /// macvtap pool, from the definition it was started with.
    pub fn network_ports(&self) -> Vec<crate::telemetry::ports::NetworkPorts> {
        let names = self.store.names().unwrap_or_default();
        names
            .iter()
            .filter_map(|name| {
                let rec = self.record(name)?;
                let def = model::parse_network_xml(&rec.def_xml).ok()?;
                let lease_file = self.dnsmasq_paths(name).lease_file;
                Some(crate::telemetry::ports::NetworkPorts::from_def(
                    &def,
                    Some(lease_file),
                ))
            })
            .collect()
    }
}
