//! Port forwards: added to and removed from a network's definition (stored, and applied live
//! to a running network: only its firewall chains change), listed with their counters.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::{Backend, BackendError, Target};
use crate::host::listen::{ssh_server_port, Listener};
use crate::host::Host;
use crate::model::forward::{self, Forward, GuestRef, PortRange, Proto, Target as FwdTarget};
use crate::model::{self, NetworkDef, Problem};
use crate::plan::firewall::forward_counters;

/// One forward as `forward list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardRow {
    pub network: String,
    /// Whether the network runs (its rules are loaded).
    pub active: bool,
    pub forward: Forward,
    /// The target address now (a guest's reservation resolved).
    pub to: Option<Ipv4Addr>,
    /// New connections DNAT'ed, and bytes forwarded, since the rules were loaded; `None`
    /// when the network is not running or the counters could not be read.
    pub hits: Option<u64>,
    pub bytes: Option<u64>,
}

/// A socket of the host a forward would take over.
fn taken_by(listeners: &[Listener], f: &Forward) -> Option<String> {
    listeners.iter().find(|l| l.serves(f.address)).map(|l| {
        let who = match &l.process {
            Some((pid, comm)) => format!("{} (pid {pid})", comm.escape_debug()),
            None => "a process of the host".to_owned(),
        };
        format!("{}/{} is served on {} by {who}", l.proto, l.port, l.addr)
    })
}

fn refused(path: &str, message: String) -> BackendError {
    BackendError::Invalid(vec![Problem::new(path, message)])
}

impl<H: Host> Backend<H> {
    /// `forward add`: stores the forward with the network and, when it runs, loads its rules
    /// (only the network's chains change). Unless `force`, a port the host itself serves on
    /// that address (and always the port of this SSH session) is refused, naming the process.
    pub async fn add_forward(
        &self,
        network: &str,
        f: Forward,
        force: bool,
        ssh_connection: Option<&str>,
    ) -> Result<String, BackendError> {
        if !force {
            if let Some((addr, port)) = ssh_connection.and_then(ssh_server_port) {
                let this_address = match (f.address, addr) {
                    (None, _) => true,
                    (Some(a), std::net::IpAddr::V4(b)) => a == b,
                    (Some(_), _) => false,
                };
                if f.proto == Proto::Tcp && f.port.contains(port) && this_address {
                    return Err(refused(
                        "port",
                        format!(
                            "tcp/{port} carries this SSH session ($SSH_CONNECTION); a forward \
                             would lock you out (--force to take it anyway)"
                        ),
                    ));
                }
            }
            if let Some(what) = taken_by(&self.host().listeners(f.proto, f.port), &f) {
                return Err(refused(
                    "port",
                    format!(
                        "{what}; a forward would take it from {} (another --port or \
                         --address, or --force to take it anyway)",
                        f.address
                            .map_or("every address".to_owned(), |a| a.to_string())
                    ),
                ));
            }
        }
        let key = f.key();
        let lease = self.leased_address(network, &f)?;
        let pinned = std::cell::Cell::new(false);
        let edit = |def: &NetworkDef| {
            let with_pin;
            let def = match (&f.target, &lease) {
                (FwdTarget::Guest(g), Some((mac, name, ip)))
                    if forward::pinned_address(def, g).is_none() =>
                {
                    with_pin = model::pin(def, *mac, name.as_deref(), (*ip).into(), false)?.0;
                    pinned.set(true);
                    &with_pin
                }
                _ => def,
            };
            let mut list =
                forward::forwards(def).map_err(|p| model::UpdateError::Invalid(vec![p]))?;
            if let Some(same) = list.iter().find(|g| g.proto == f.proto && g.port == f.port) {
                return Err(model::UpdateError::Invalid(vec![Problem::new(
                    "port",
                    format!("network {} already forwards {}", def.name, same.key()),
                )]));
            }
            list.push(f.clone());
            Ok(forward::with_forwards(def, &list))
        };
        let said = self.apply_edit(network, Self::both(), &edit).await?;
        let pinned = match (&f.target, &lease, pinned.get()) {
            (FwdTarget::Guest(g), Some((_, _, ip)), true) => {
                format!("{g} pinned to its leased address {ip}, so the forward keeps reaching it\n")
            }
            _ => String::new(),
        };
        Ok(format!("{pinned}forward {key} added to {network}\n{said}"))
    }

    /// For a forward to a guest: the reservation its lease would give (MAC, name, leased
    /// address), made with the forward when the guest has none.
    #[allow(clippy::type_complexity)]
    fn leased_address(
        &self,
        network: &str,
        f: &Forward,
    ) -> Result<Option<(Option<model::MacAddr>, Option<String>, Ipv4Addr)>, BackendError> {
        let FwdTarget::Guest(guest) = &f.target else {
            return Ok(None);
        };
        let path = self.live_dnsmasq_paths(network).lease_file;
        let text = self.host().read_text(&path)?.unwrap_or_default();
        let leases = crate::telemetry::leases::parse_leases(&text).leases;
        let lease = leases.iter().find(|l| match guest {
            GuestRef::Mac(m) => l.mac.as_deref().and_then(|s| s.parse().ok()) == Some(*m),
            GuestRef::Name(n) => l.hostname.as_deref() == Some(n.as_str()),
        });
        Ok(lease.and_then(|l| match l.ip {
            std::net::IpAddr::V4(ip) => Some((
                l.mac.as_deref().and_then(|s| s.parse().ok()),
                match guest {
                    GuestRef::Name(n) => Some(n.clone()),
                    GuestRef::Mac(_) => None,
                },
                ip,
            )),
            std::net::IpAddr::V6(_) => None,
        }))
    }

    /// `forward remove`: the forward of `proto` on host port(s) `port` leaves the network.
    pub async fn remove_forward(
        &self,
        network: &str,
        proto: Proto,
        port: PortRange,
    ) -> Result<String, BackendError> {
        let edit = |def: &NetworkDef| {
            let list = forward::forwards(def).map_err(|p| model::UpdateError::Invalid(vec![p]))?;
            let kept: Vec<Forward> = list
                .iter()
                .filter(|g| !(g.proto == proto && g.port == port))
                .cloned()
                .collect();
            if kept.len() == list.len() {
                return Err(model::UpdateError::Invalid(vec![Problem::new(
                    "port",
                    format!("network {} has no forward {proto}/{port}", def.name),
                )]));
            }
            Ok(forward::with_forwards(def, &kept))
        };
        let said = self.apply_edit(network, Self::both(), &edit).await?;
        Ok(format!(
            "forward {proto}/{port} removed from {network}\n{said}"
        ))
    }

    /// The stored definition and, when running, the running one.
    fn both() -> Target {
        Target {
            live: true,
            config: true,
        }
    }

    /// Every forward (of `network`, or of every network), with its counters when running.
    /// A running network's forwards are those it runs with.
    pub async fn forwards(&self, network: Option<&str>) -> Result<Vec<ForwardRow>, BackendError> {
        let mut rows = self.forward_rows(network)?;
        // One read of the table's counters, for the running networks' forwards.
        if rows.iter().any(|r| r.active) {
            if let Ok(counters) = self.host().firewall_counters().await {
                fill_counters(&mut rows, &counters);
            }
        }
        Ok(rows)
    }

    /// Every forward (of `network`, or of every network) without its counters: the stored
    /// definitions and the running networks' records only, no call to nft. The TUI's live
    /// source reads these with the networks and the counters at its own pace.
    pub fn forward_rows(&self, network: Option<&str>) -> Result<Vec<ForwardRow>, BackendError> {
        let names = match network {
            Some(n) => {
                self.load_def(n)?;
                vec![n.to_owned()]
            }
            None => self.store.names()?,
        };
        let mut rows = Vec::new();
        for name in names {
            let (def, active) = match self.record(&name)? {
                Some(rec) => (model::parse_network_xml(&rec.def_xml)?, true),
                None => (self.load_def(&name)?, false),
            };
            let list = forward::forwards(&def).map_err(|p| BackendError::Invalid(vec![p]))?;
            rows.extend(list.into_iter().map(|f| ForwardRow {
                network: name.clone(),
                active,
                to: forward::target_address(&def, &f),
                hits: None,
                bytes: None,
                forward: f,
            }));
        }
        Ok(rows)
    }
}

/// The running forwards' hits and bytes from one reading of the table's named counters (name
/// → packets, bytes); a forward whose counters are missing keeps `None`.
pub fn fill_counters(rows: &mut [ForwardRow], counters: &BTreeMap<String, (u64, u64)>) {
    for r in rows.iter_mut().filter(|r| r.active) {
        let f = &r.forward;
        let (hits, bytes) = forward_counters(&r.network, f.proto, f.port.first);
        r.hits = counters.get(&hits).map(|(packets, _)| *packets);
        r.bytes = counters.get(&bytes).map(|(_, b)| *b);
    }
}
