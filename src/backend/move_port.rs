//! Moving a guest port from one network's bridge to another's: `switchyard move-port` and the
//! Ports view's `M`. Only a guest's own port (a tap or a veth) on the bridge of a running
//! network switchyard made, to the bridge of another such network; the link is re-mastered by
//! its interface index, as the one step [`Step::MovePort`], which checks again at the kernel
//! that nothing changed between the decision and the move.

use serde::Serialize;

use super::{own_bridge, record, Backend, BackendError};
use crate::host::Host;
use crate::model::{self, MacAddr};
use crate::plan::ports::PortRef;
use crate::plan::Step;
use crate::state::{HostState, LinkInfo, LinkKind};

/// Why a port was not moved (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("there is no interface {0} on this host")]
    NoSuchInterface(String),
    #[error("{name} is a {kind} link, not a guest port: switchyard moves only guests' tap and veth ports")]
    NotAGuestPort { name: String, kind: String },
    #[error("{name} is on no bridge; switchyard moves only ports on the bridge of one of its running networks")]
    OnNoBridge { name: String },
    #[error("{name} is on bridge {bridge}, which no running switchyard network made; refusing to touch it")]
    ForeignBridge { name: String, bridge: String },
    #[error("{name} belongs to libvirt guest {domain}, whose own records say where it is; change its network with virsh instead (switchyard would otherwise put it back at the next start)")]
    Libvirt { name: String, domain: String },
    #[error("network {0} is not active; start it first")]
    NotActive(String),
    #[error("network {network} has no bridge switchyard made ({mode}); ports can only move to a bridge of a nat, route, open or isolated network")]
    NoOwnBridge { network: String, mode: String },
    #[error("{name} is already on {network}")]
    AlreadyThere { name: String, network: String },
}

/// A move that was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MovedPort {
    /// The port's interface name.
    pub ifname: String,
    /// Its interface index, which did not change.
    pub ifindex: u32,
    /// Its MAC address.
    pub mac: Option<MacAddr>,
    /// The guest behind it, when known.
    pub guest: Option<String>,
    /// The network and bridge it left.
    pub from_network: String,
    pub from_bridge: String,
    /// The network and bridge it is on now.
    pub to_network: String,
    pub to_bridge: String,
}

impl std::fmt::Display for MovedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = match &self.guest {
            Some(g) => format!("{} ({g})", self.ifname),
            None => self.ifname.clone(),
        };
        write!(
            f,
            "moved {who} from {} ({}) to {} ({}); the guest may need to renew its DHCP lease",
            self.from_network, self.from_bridge, self.to_network, self.to_bridge
        )
    }
}

/// A running network's bridge that switchyard made: its name and recorded interface index.
struct OwnBridge {
    network: String,
    name: String,
    ifindex: u32,
}

/// The link kinds a guest's port is: what QEMU (tap) or a container (veth) brings.
fn is_guest_kind(kind: &LinkKind) -> bool {
    matches!(kind, LinkKind::Tun | LinkKind::Veth)
}

impl<H: Host> Backend<H> {
    /// The bridges of running networks that switchyard made, as they are on the host now (a
    /// bridge whose recorded index no longer matches its name is not ours any more).
    fn own_bridges(&self, host: &HostState) -> Result<Vec<OwnBridge>, BackendError> {
        let mut out = Vec::new();
        for network in self.store.names()? {
            let Ok(Some(rec)) = record::load(&self.paths().run, &network) else {
                continue;
            };
            let Ok(def) = model::parse_network_xml(&rec.def_xml) else {
                continue;
            };
            let (Some(name), Some(ifindex)) = (def.bridge_name(), own_bridge(&rec.plan)) else {
                continue;
            };
            if def.uses_own_bridge()
                && host
                    .link_by_index(ifindex)
                    .is_some_and(|l| l.name == name && l.kind == LinkKind::Bridge)
            {
                out.push(OwnBridge {
                    network,
                    name: name.to_owned(),
                    ifindex,
                });
            }
        }
        Ok(out)
    }

    /// Moves guest port `ifname` to the bridge of running network `network`. Refused, with
    /// the reason and nothing changed, for anything but a guest's tap or veth on the bridge of
    /// another running switchyard network, and for a libvirt guest's port.
    pub async fn move_port(&self, ifname: &str, network: &str) -> Result<MovedPort, BackendError> {
        super::check_name(network)?;
        let _lock = self.store.lock()?;
        let host = self.host().observe().await?;
        let link = host
            .link_by_name(ifname)
            .ok_or_else(|| MoveError::NoSuchInterface(ifname.to_owned()))?;
        let bridges = self.own_bridges(&host)?;
        let from = source_bridge(&host, link, &bridges)?;
        if let Some(domain) = self
            .host()
            .libvirt_interfaces()
            .into_iter()
            .find(|i| i.target.as_deref() == Some(ifname))
            .map(|i| i.domain)
        {
            return Err(MoveError::Libvirt {
                name: ifname.to_owned(),
                domain,
            }
            .into());
        }
        let to = self.target_bridge(network, &bridges)?;
        if to.ifindex == from.ifindex {
            return Err(MoveError::AlreadyThere {
                name: ifname.to_owned(),
                network: network.to_owned(),
            }
            .into());
        }
        let guest = self
            .host()
            .guest_names(std::slice::from_ref(link))
            .remove(ifname);
        let port = PortRef {
            ifindex: link.ifindex,
            name: link.name.clone(),
            mac: link.mac.map(MacAddr),
            guest: guest.clone(),
        };
        let step = Step::MovePort {
            port,
            from: from.name.clone(),
            from_index: from.ifindex,
            to: to.name.clone(),
            to_index: to.ifindex,
        };
        self.host().run(&step).await?;
        Ok(MovedPort {
            ifname: link.name.clone(),
            ifindex: link.ifindex,
            mac: link.mac.map(MacAddr),
            guest,
            from_network: from.network.clone(),
            from_bridge: from.name.clone(),
            to_network: to.network.clone(),
            to_bridge: to.name.clone(),
        })
    }

    /// The bridge of `network` a port may move to, or why there is none.
    fn target_bridge<'a>(
        &self,
        network: &str,
        bridges: &'a [OwnBridge],
    ) -> Result<&'a OwnBridge, BackendError> {
        if let Some(b) = bridges.iter().find(|b| b.network == network) {
            return Ok(b);
        }
        let def = self.load_def(network)?;
        if !def.uses_own_bridge() {
            let mode = match def.mode() {
                _ if def.is_macvtap() => "a macvtap network".to_owned(),
                Some(m) => format!("mode {}", m.as_str()),
                None => "isolated".to_owned(),
            };
            return Err(MoveError::NoOwnBridge {
                network: network.to_owned(),
                mode,
            }
            .into());
        }
        Err(MoveError::NotActive(network.to_owned()).into())
    }
}

/// The bridge `link` is on, when it is a guest port on one of `bridges`; else why it may not
/// be moved.
fn source_bridge<'a>(
    host: &HostState,
    link: &LinkInfo,
    bridges: &'a [OwnBridge],
) -> Result<&'a OwnBridge, MoveError> {
    let name = link.name.clone();
    if !is_guest_kind(&link.kind) {
        return Err(MoveError::NotAGuestPort {
            name,
            kind: link.kind.name().to_owned(),
        });
    }
    let Some(master) = link.master else {
        return Err(MoveError::OnNoBridge { name });
    };
    bridges
        .iter()
        .find(|b| b.ifindex == master)
        .ok_or_else(|| MoveError::ForeignBridge {
            name,
            bridge: host
                .link_by_index(master)
                .map_or_else(|| format!("index {master}"), |b| b.name.clone()),
        })
}
