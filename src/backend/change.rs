//! Changing a network's definition: stored for the next start (`--config`), applied to the
//! running network (`--live`), or both. A live change that the running network can take
//! without its bridge (dnsmasq's hosts, ranges and DNS records; the firewall rules) is applied
//! as one transaction with the bridge and the guests' links untouched; one that needs the bridge
//! made again restarts the network, and the guests' ports are put back on it.

use super::{record, Backend, BackendError};
use crate::host::apply::{self, On};
use crate::host::Host;
use crate::model::{self, NetworkDef, Problem};
use crate::plan::change::{classify, with_firewall, Change};
use crate::plan::ports::port_list;
use crate::plan::{Plan, Step};
use crate::store::StoreLock;

/// Where a change goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The running network (libvirt's `--live`).
    pub live: bool,
    /// The stored definition (libvirt's `--config`).
    pub config: bool,
}

/// What became of a change, in words for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub message: String,
    /// The steps carried out on the host (none for a stored-only change).
    pub plan: Plan,
}

fn refused(message: String) -> BackendError {
    BackendError::Invalid(vec![Problem::new("live", message)])
}

impl<H: Host> Backend<H> {
    /// Changes `name` into `new` (already completed and validated, same name). The caller
    /// holds the lock. Live first, then stored: a live change that fails leaves both as they
    /// were.
    pub async fn change_locked(
        &self,
        lock: &StoreLock,
        new: NetworkDef,
        target: Target,
        mut progress: impl FnMut(usize, &Step),
    ) -> Result<Changed, BackendError> {
        let name = new.name.clone();
        let running = self.record(&name)?;
        let Some(rec) = running.filter(|_| target.live) else {
            if target.config {
                self.store
                    .save(lock, &name, &model::format_network_xml(&new))?;
            }
            let message = match (target.config, target.live) {
                (true, _) => format!("{name}: stored; it applies at the next start"),
                (false, _) => format!("{name} is not running: nothing to change live"),
            };
            return Ok(Changed {
                message,
                plan: Plan::default(),
            });
        };
        let old = model::parse_network_xml(&rec.def_xml)?;
        let paths = self.live_dnsmasq_paths(&name);
        let outcome = match classify(&old, &new, &paths)? {
            Change::Nothing => {
                self.record_running(&rec, &new, None)?;
                Changed {
                    message: format!("{name}: nothing on the host changes"),
                    plan: Plan::default(),
                }
            }
            Change::Live(plan) => self.apply_live(rec, &new, plan, &mut progress).await?,
            Change::Restart(reasons) if !target.config => {
                return Err(refused(format!(
                    "this change needs the bridge of {name} made again ({}); store it with \
                     --config and restart the network",
                    reasons.join("; ")
                )))
            }
            Change::Restart(reasons) => {
                return self.restart_with(lock, new, &reasons, &mut progress).await
            }
        };
        if target.config {
            self.store
                .save(lock, &name, &model::format_network_xml(&new))?;
        }
        Ok(outcome)
    }

    /// Carries out a live change as one transaction and records the new running definition.
    async fn apply_live(
        &self,
        rec: record::RuntimeRecord,
        new: &NetworkDef,
        plan: Plan,
        progress: &mut impl FnMut(usize, &Step),
    ) -> Result<Changed, BackendError> {
        let applied = apply::apply(&mut On(self.host()), &plan, progress).await;
        self.host().settle().await;
        applied.map_err(|e| BackendError::Apply(Box::new(e), new.name.clone()))?;
        self.record_running(&rec, new, Some(&plan))?;
        let steps: Vec<String> = plan.steps.iter().map(Step::to_string).collect();
        Ok(Changed {
            message: format!(
                "{}: applied live, bridge and guests untouched ({})",
                new.name,
                steps.join("; ")
            ),
            plan,
        })
    }

    /// The record of a running network after a live change: its definition, and what its stop
    /// must undo (the new rules; a dnsmasq started or stopped).
    fn record_running(
        &self,
        rec: &record::RuntimeRecord,
        new: &NetworkDef,
        live: Option<&Plan>,
    ) -> Result<(), BackendError> {
        let mut rec = rec.clone();
        rec.def_xml = model::format_network_xml(new);
        for step in live.map(|p| p.steps.as_slice()).unwrap_or_default() {
            match step {
                Step::ReplaceFirewall { new, .. } | Step::AddFirewall { net: new, .. } => {
                    rec.plan = with_firewall(&rec.plan, Some(new));
                }
                Step::RemoveFirewall { .. } => rec.plan = with_firewall(&rec.plan, None),
                Step::StopDnsmasq { .. } => rec
                    .plan
                    .steps
                    .retain(|s| !matches!(s, Step::StartDnsmasq { .. } | Step::WriteFile { .. })),
                Step::WriteFile { .. } | Step::StartDnsmasq { .. } => {
                    rec.plan.steps.push(step.clone())
                }
                _ => {}
            }
        }
        record::save(&self.paths().run, &rec)?;
        Ok(())
    }

    /// Stop, store, start: the guests' ports are remembered by the stop and put back by the
    /// start. If the new definition does not start, the old one is stored and started again.
    async fn restart_with(
        &self,
        lock: &StoreLock,
        new: NetworkDef,
        reasons: &[String],
        progress: &mut impl FnMut(usize, &Step),
    ) -> Result<Changed, BackendError> {
        let name = new.name.clone();
        let old_xml = self.store.load(&name)?;
        self.stop_locked(lock, &name, &mut *progress).await?;
        self.store
            .save(lock, &name, &model::format_network_xml(&new))?;
        let started = self.start_locked(lock, &name, &mut *progress).await;
        match started {
            Ok(plan) => Ok(Changed {
                message: format!(
                    "{name} restarted with the new definition ({}){}",
                    reasons.join("; "),
                    reattached(&plan)
                ),
                plan,
            }),
            Err(e) => {
                self.store.save(lock, &name, &old_xml)?;
                let again = self.start_locked(lock, &name, |_, _| {}).await;
                let restored = match again {
                    Ok(plan) => format!(
                        "the old definition was restored and started again{}",
                        reattached(&plan)
                    ),
                    Err(e2) => format!("the old definition was restored but did not start: {e2}"),
                };
                Err(BackendError::EditFailed {
                    error: Box::new(e),
                    restored,
                })
            }
        }
    }

    /// Replaces the definition of `name` from XML: stored, and applied to the running network
    /// (live where it can be, else by a restart that puts the guests back).
    pub async fn edit_network(
        &self,
        name: &str,
        xml: &str,
        progress: impl FnMut(usize, &Step),
    ) -> Result<String, BackendError> {
        super::check_name(name)?;
        let facts = super::host_facts(&self.host().observe().await?);
        let lock = self.store.lock()?;
        let new = self.complete(model::parse_network_xml(xml)?, &facts)?;
        if new.name != name {
            return Err(BackendError::Invalid(vec![Problem::new(
                "name",
                format!("an edit keeps the name {name}; define a new network instead"),
            )]));
        }
        let target = Target {
            live: true,
            config: true,
        };
        Ok(self
            .change_locked(&lock, new, target, progress)
            .await?
            .message)
    }

    /// What an edit of `name` into `xml` would do, in words, before it is done: stored only,
    /// nothing on the host, applied live (with the steps), or a restart (with its reasons, the
    /// guests put back, and the start's plan).
    pub async fn preview_change(&self, name: &str, xml: &str) -> Result<String, BackendError> {
        super::check_name(name)?;
        let host = self.host().observe().await?;
        let new = self.complete(model::parse_network_xml(xml)?, &super::host_facts(&host))?;
        let Some(rec) = self.record(name)? else {
            return Ok(format!(
                "{name} is not running: the definition is stored; it applies at the next start"
            ));
        };
        let old = model::parse_network_xml(&rec.def_xml)?;
        Ok(
            match classify(&old, &new, &self.live_dnsmasq_paths(name))? {
                Change::Nothing => "Nothing on the host changes (applied live).".to_owned(),
                Change::Live(plan) => {
                    format!("Applied live: the bridge and the guests' links stay.\n{plan}")
                }
                Change::Restart(reasons) => {
                    let bridge = old.bridge_name().unwrap_or_default();
                    let ports = crate::plan::ports::ports_on(&host, bridge, &Default::default());
                    format!(
                        "Restarts the bridge ({}); {} guest port(s) are put back on it{}.\n",
                        reasons.join("; "),
                        ports.len(),
                        if ports.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", port_list(&ports))
                        }
                    )
                }
            },
        )
    }
}

/// ", 2 guest ports put back on sybr0: vnet0 (web1), vnet1" when the start put any back.
fn reattached(plan: &Plan) -> String {
    plan.steps
        .iter()
        .find_map(|s| match s {
            Step::AttachPorts { bridge, ports } => Some(format!(
                "; {} guest port(s) put back on {bridge}: {}",
                ports.len(),
                port_list(ports)
            )),
            _ => None,
        })
        .unwrap_or_default()
}

/// A change to a definition: applied to the stored one and to the running one separately
/// (they may differ), each refusal naming its field.
type Edit<'a> = dyn Fn(&NetworkDef) -> Result<NetworkDef, model::UpdateError> + 'a;

impl<H: Host> Backend<H> {
    /// libvirt's default target: the running network when it runs, else the definition.
    pub fn default_target(&self, name: &str) -> Result<Target, BackendError> {
        let running = self.record(name)?.is_some();
        Ok(Target {
            live: running,
            config: !running,
        })
    }

    /// Applies `edit` to the stored definition (`config`) and to the running one (`live`),
    /// under one lock. Both results are computed first: a refusal changes nothing.
    pub async fn apply_edit(
        &self,
        name: &str,
        target: Target,
        edit: &Edit<'_>,
    ) -> Result<String, BackendError> {
        super::check_name(name)?;
        let lock = self.store.lock()?;
        let stored = self.load_def(name)?;
        let running = match self.record(name)? {
            Some(rec) if target.live => Some(model::parse_network_xml(&rec.def_xml)?),
            _ => None,
        };
        if target.live && running.is_none() && !target.config {
            return Err(refused(format!(
                "{name} is not running: use --config to change its definition"
            )));
        }
        let new_stored = match target.config {
            true => Some(self.checked(edit(&stored).map_err(update_error)?)?),
            false => None,
        };
        let new_running = running
            .as_ref()
            .map(|d| edit(d).map_err(update_error))
            .transpose()?;
        let mut said = Vec::new();
        if let Some(def) = new_running {
            let live = Target {
                live: true,
                config: false,
            };
            said.push(
                self.change_locked(&lock, def, live, |_, _| {})
                    .await?
                    .message,
            );
        }
        if let Some(def) = new_stored {
            self.store
                .save(&lock, name, &model::format_network_xml(&def))?;
            said.push(format!("{name}: definition stored"));
        }
        Ok(said.join("\n"))
    }

    /// A changed definition, checked against the other networks as define checks it.
    fn checked(&self, def: NetworkDef) -> Result<NetworkDef, BackendError> {
        self.complete(def, &model::HostFacts::default())
    }

    /// `update NETWORK COMMAND SECTION XML`: libvirt's net-update.
    pub async fn update_network(
        &self,
        name: &str,
        req: &model::UpdateRequest,
        target: Option<Target>,
    ) -> Result<String, BackendError> {
        let target = match target {
            Some(t) => t,
            None => self.default_target(name)?,
        };
        let edit = |def: &NetworkDef| model::apply_update(def, req);
        self.apply_edit(name, target, &edit).await
    }

    /// `pin`: a DHCP reservation, stored and applied live (dnsmasq re-reads its hosts file);
    /// an address or a name another host holds is refused unless `replace`.
    pub async fn pin_host(
        &self,
        name: &str,
        mac: Option<model::MacAddr>,
        hostname: Option<&str>,
        ip: std::net::IpAddr,
        replace: bool,
    ) -> Result<String, BackendError> {
        let outcome = std::cell::RefCell::new(None);
        let edit = |def: &NetworkDef| {
            let (new, how) = model::pin(def, mac, hostname, ip, replace)?;
            outcome.borrow_mut().get_or_insert(how);
            Ok(new)
        };
        let target = Target {
            live: true,
            config: true,
        };
        let said = self.apply_edit(name, target, &edit).await?;
        let who = mac
            .map(|m| m.to_string())
            .or(hostname.map(str::to_owned))
            .unwrap_or_default();
        Ok(match outcome.into_inner() {
            Some(model::PinOutcome::Unchanged) => format!("{who} is already pinned to {ip}"),
            Some(model::PinOutcome::Pinned { replaced, .. }) if !replaced.is_empty() => {
                let gone: Vec<String> = replaced.iter().map(host_text).collect();
                format!(
                    "{who} pinned to {ip}; it replaces {}\n{said}",
                    gone.join(", ")
                )
            }
            _ => format!("{who} pinned to {ip}\n{said}"),
        })
    }

    /// `unpin`: removes a reservation found by MAC, address or name.
    pub async fn unpin_host(&self, name: &str, key: model::PinKey) -> Result<String, BackendError> {
        let removed = std::cell::RefCell::new(None);
        let edit = |def: &NetworkDef| {
            let (new, host) = model::unpin(def, key.clone())?;
            removed.borrow_mut().get_or_insert(host);
            Ok(new)
        };
        let target = Target {
            live: true,
            config: true,
        };
        let said = self.apply_edit(name, target, &edit).await?;
        let what = removed
            .into_inner()
            .map(|h| host_text(&h))
            .unwrap_or_default();
        Ok(format!("unpinned {what}\n{said}"))
    }
}

fn host_text(h: &model::DhcpHost) -> String {
    let mut parts = Vec::new();
    parts.extend(h.mac.map(|m| m.to_string()));
    parts.extend(h.name.clone());
    parts.extend(h.ip.map(|i| i.to_string()));
    format!("the reservation {}", parts.join(" "))
}

fn update_error(e: model::UpdateError) -> BackendError {
    match e {
        model::UpdateError::Invalid(problems) => BackendError::Invalid(problems),
        other => {
            let field = other.field().unwrap_or("update").to_owned();
            BackendError::Invalid(vec![Problem::new(field, other.to_string())])
        }
    }
}
