//! macvtap attachments: a macvtap link on one of a network's pool devices, in the network's
//! mode, recorded so `detach` removes only what `attach` made.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Backend, BackendError};
use crate::host::netlink::MacvtapMode;
use crate::host::random_u64;
use crate::model::{ForwardMode, MacAddr, NetworkDef};
use crate::state::{HostState, LinkKind};
use crate::store::{remove_durable, write_atomic};

/// One attachment made by `attach`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub network: String,
    pub ifname: String,
    pub ifindex: u32,
    pub parent: String,
    pub mode: String,
    pub mac: String,
    /// The character device to hand to QEMU.
    pub tap_device: String,
}

impl Attachment {
    /// A QEMU argument line using the tap device on fd 3.
    pub fn qemu_args(&self) -> String {
        format!(
            "-netdev tap,id=net0,fd=3 -device virtio-net-pci,netdev=net0,mac={} 3<>{}",
            self.mac, self.tap_device
        )
    }
}

/// Attachment errors that are the operator's to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    #[error("network {0} is not a macvtap network (modes bridge with an interface pool, vepa, private, passthrough)")]
    NotMacvtap(String),
    #[error("network {0} has no interface in its pool")]
    EmptyPool(String),
    #[error("every device of network {0}'s passthrough pool already has its one attachment")]
    PoolFull(String),
    #[error("pool device {0} does not exist on this host")]
    MissingDevice(String),
    #[error("--mac {0}: not a valid unicast MAC address")]
    BadMac(String),
    #[error("{0} was not made by switchyard attach; refusing to remove it")]
    NotOurs(String),
    #[error("there is no interface {0} on this host (nor an attachment of that name)")]
    NoSuchInterface(String),
    #[error("--name: {0}")]
    BadName(String),
}

fn mode_of(def: &NetworkDef) -> Option<MacvtapMode> {
    if !def.is_macvtap() {
        return None;
    }
    Some(match def.mode()? {
        ForwardMode::Vepa => MacvtapMode::Vepa,
        ForwardMode::Private => MacvtapMode::Private,
        ForwardMode::Passthrough => MacvtapMode::Passthru,
        _ => MacvtapMode::Bridge,
    })
}

/// Pure: the pool device to use: the one with the fewest macvtaps on it (passthrough: only a
/// device with none).
pub fn choose_device(def: &NetworkDef, host: &HostState) -> Result<String, AttachError> {
    let pool: Vec<&String> = def
        .forward
        .iter()
        .flat_map(|f| f.interfaces.iter())
        .collect();
    if pool.is_empty() {
        return Err(AttachError::EmptyPool(def.name.clone()));
    }
    let passthrough = def.mode() == Some(ForwardMode::Passthrough);
    let mut best: Option<(usize, &String)> = None;
    for dev in pool {
        let link = host
            .link_by_name(dev)
            .ok_or_else(|| AttachError::MissingDevice(dev.clone()))?;
        let used = host
            .links
            .iter()
            .filter(|l| l.kind == LinkKind::Macvtap && l.parent == Some(link.ifindex))
            .count();
        if passthrough && used > 0 {
            continue;
        }
        if best.is_none_or(|(n, _)| used < n) {
            best = Some((used, dev));
        }
    }
    best.map(|(_, d)| d.clone())
        .ok_or_else(|| AttachError::PoolFull(def.name.clone()))
}

/// Pure: the lowest free `macvtapN` name.
pub fn free_name(host: &HostState) -> String {
    (0..)
        .map(|n| format!("macvtap{n}"))
        .find(|n| host.link_by_name(n).is_none())
        .expect("an unbounded range has a free name")
}

fn random_mac() -> MacAddr {
    let r = random_u64().to_le_bytes();
    MacAddr([0x52, 0x54, 0x00, r[0], r[1], r[2]])
}

fn attachments_dir(run: &Path) -> PathBuf {
    run.join("attachments")
}

impl<H: crate::host::Host> Backend<H> {
    /// Creates a macvtap on the network's pool and records it.
    pub async fn attach(
        &self,
        network: &str,
        name: Option<String>,
        mac: Option<String>,
    ) -> Result<Attachment, BackendError> {
        if let Some(problem) = name
            .as_deref()
            .and_then(crate::model::validate::ifname_problem)
        {
            return Err(AttachError::BadName(problem).into());
        }
        let def = self.load_def(network)?;
        let mode = mode_of(&def).ok_or_else(|| AttachError::NotMacvtap(network.to_owned()))?;
        let mac = match mac {
            Some(m) => m
                .parse::<MacAddr>()
                .ok()
                .filter(|m| m.0[0] & 1 == 0)
                .ok_or(AttachError::BadMac(m))?,
            None => random_mac(),
        };
        let _lock = self.store.lock()?;
        let host = self.host().observe().await?;
        let parent = choose_device(&def, &host)?;
        let ifname = name.unwrap_or_else(|| free_name(&host));
        let ifindex = self
            .host()
            .create_macvtap(&ifname, &parent, mode, mac.0)
            .await?;
        if let Err(e) = self.host().set_up(&ifname).await {
            let _ = self.host().delete_link(ifindex, &ifname).await;
            return Err(e.into());
        }
        let att = Attachment {
            network: network.to_owned(),
            ifname: ifname.clone(),
            ifindex,
            parent,
            mode: def.mode_name().to_owned(),
            mac: mac.to_string(),
            tap_device: format!("/dev/tap{ifindex}"),
        };
        let path = attachments_dir(&self.paths().run).join(format!("{ifname}.json"));
        let json = serde_json::to_string_pretty(&att).expect("attachments serialize");
        if let Err(e) = write_atomic(&path, json.as_bytes()) {
            let _ = self.host().delete_link(ifindex, &ifname).await;
            return Err(e.into());
        }
        Ok(att)
    }

    /// Every recorded attachment.
    pub fn attachments(&self) -> Vec<Attachment> {
        crate::store::texts_in(&attachments_dir(&self.paths().run))
            .into_iter()
            .filter_map(|t| serde_json::from_str(&t).ok())
            .collect()
    }

    /// Removes an attachment made by `attach`.
    pub async fn detach(&self, ifname: &str) -> Result<Attachment, BackendError> {
        if let Some(problem) = crate::model::validate::ifname_problem(ifname) {
            return Err(AttachError::BadName(problem).into());
        }
        let _lock = self.store.lock()?;
        let Some(att) = self.attachments().into_iter().find(|a| a.ifname == ifname) else {
            let links = self.host().dump_links().await?;
            return Err(if links.iter().any(|l| l.name == ifname) {
                AttachError::NotOurs(ifname.to_owned())
            } else {
                AttachError::NoSuchInterface(ifname.to_owned())
            }
            .into());
        };
        // The link attach made, by its index: one that merely took the name is not touched.
        let link = self.host().link_by_index(att.ifindex).await?;
        if let Some(l) = link.filter(|l| l.name == att.ifname && l.kind == LinkKind::Macvtap) {
            match self.host().delete_link(l.ifindex, &l.name).await {
                Ok(()) | Err(crate::host::error::HostError::NoSuchDevice { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        remove_durable(&attachments_dir(&self.paths().run).join(format!("{ifname}.json")))?;
        Ok(att)
    }
}
