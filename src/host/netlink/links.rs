//! Link mutations: create bridge/veth/macvtap, delete, up/down, enslave.

use rtnetlink::packet_route::link::{BridgeStpState, LinkMessage, MacVtapMode as NlMacVtapMode};
use rtnetlink::{LinkBridge, LinkMacVtap, LinkMessageBuilder, LinkUnspec, LinkVeth};

use super::{check_ifname, Netlink};
use crate::host::error::HostError;
pub use crate::plan::BridgeSpec;

/// How a macvtap forwards between its siblings on the same parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacvtapMode {
    Bridge,
    Vepa,
    Private,
    /// Takes over the parent entirely: one per parent.
    Passthru,
}

impl MacvtapMode {
    fn to_netlink(self) -> NlMacVtapMode {
        match self {
            Self::Bridge => NlMacVtapMode::Bridge,
            Self::Vepa => NlMacVtapMode::Vepa,
            Self::Private => NlMacVtapMode::Private,
            Self::Passthru => NlMacVtapMode::Passthrough,
        }
    }
}

impl Netlink {
    /// Creates a bridge (administratively down) with its MAC, STP and forward delay set in the
    /// creating request, and its MTU set right after.
    pub async fn create_bridge(&self, spec: &BridgeSpec) -> Result<(), HostError> {
        let op = format!("create bridge {}", spec.name);
        check_ifname(&op, &spec.name)?;
        let stp = if spec.stp {
            BridgeStpState::KernelStp
        } else {
            BridgeStpState::Disabled
        };
        let mut builder = LinkMessageBuilder::<LinkBridge>::new(&spec.name)
            .forward_delay(spec.forward_delay_cs)
            .stp_state(stp);
        if let Some(mac) = spec.mac {
            builder = builder.address(mac.0.to_vec());
        }
        self.add_link(op, builder.build()).await?;
        // Not in the creating request: the kernel takes an MTU given there as the bridge's
        // default, which then follows its smallest port; set afterwards (as libvirt does) it is
        // the bridge's own and stays when a port with a larger MTU joins.
        if let Some(mtu) = spec.mtu {
            if let Err(e) = self.set_mtu(&spec.name, mtu).await {
                let _ = self.delete_link(&spec.name).await;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Creates a veth pair `name` <-> `peer` in this namespace, both down.
    pub async fn create_veth(&self, name: &str, peer: &str) -> Result<(), HostError> {
        let op = format!("create veth {name} (peer {peer})");
        check_ifname(&op, name)?;
        check_ifname(&op, peer)?;
        self.add_link(op, LinkVeth::new(name, peer).build()).await
    }

    /// Creates a macvtap on `parent` and returns its interface index.
    pub async fn create_macvtap(
        &self,
        name: &str,
        parent: &str,
        mode: MacvtapMode,
        mac: Option<[u8; 6]>,
    ) -> Result<u32, HostError> {
        let op = format!("create macvtap {name} on {parent}");
        check_ifname(&op, name)?;
        let parent_index = self.resolve(&op, parent).await?;
        let mut builder = LinkMacVtap::new(name, parent_index, mode.to_netlink());
        if let Some(mac) = mac {
            builder = builder.address(mac.to_vec());
        }
        self.add_link(op.clone(), builder.build()).await?;
        self.resolve(&op, name).await
    }

    async fn add_link(&self, op: String, msg: LinkMessage) -> Result<(), HostError> {
        self.handle
            .link()
            .add(msg)
            .execute()
            .await
            .map_err(|e| HostError::from_netlink(op, e))
    }

    /// Deletes a link by name (a veth takes its peer with it).
    pub async fn delete_link(&self, name: &str) -> Result<(), HostError> {
        let op = format!("delete link {name}");
        check_ifname(&op, name)?;
        let msg = LinkUnspec::new_with_name(name).build();
        self.handle
            .link()
            .del_with_message(msg)
            .execute()
            .await
            .map_err(|e| HostError::from_netlink(op, e))
    }

    /// Deletes the link with interface index `ifindex` (`name` is for messages).
    pub async fn delete_link_index(&self, ifindex: u32, name: &str) -> Result<(), HostError> {
        let op = format!("delete link {name} (index {ifindex})");
        let msg = LinkUnspec::new_with_index(ifindex).build();
        self.handle
            .link()
            .del_with_message(msg)
            .execute()
            .await
            .map_err(|e| HostError::from_netlink(op, e))
    }

    /// Sets the MTU of `name` (`ip link set NAME mtu N`). On a bridge, an MTU set this way
    /// sticks when ports join; one given at creation follows the smallest port.
    pub async fn set_mtu(&self, name: &str, mtu: u32) -> Result<(), HostError> {
        let op = format!("set the MTU of {name} to {mtu}");
        self.change_link(op, name, |b| b.mtu(mtu)).await
    }

    /// Sets IFF_UP (`ip link set NAME up`).
    pub async fn set_up(&self, name: &str) -> Result<(), HostError> {
        let op = format!("set {name} up");
        self.change_link(op, name, |b| b.up()).await
    }

    /// Clears IFF_UP (`ip link set NAME down`).
    pub async fn set_down(&self, name: &str) -> Result<(), HostError> {
        let op = format!("set {name} down");
        self.change_link(op, name, |b| b.down()).await
    }

    /// Enslaves `name` to `bridge` (`ip link set NAME master BRIDGE`).
    pub async fn set_master(&self, name: &str, bridge: &str) -> Result<(), HostError> {
        let op = format!("set master of {name} to {bridge}");
        let bridge_index = self.resolve(&op, bridge).await?;
        self.change_link(op, name, |b| b.controller(bridge_index))
            .await
    }

    /// Enslaves the link with index `ifindex` to the link with index `master` (`name` is for
    /// messages): `ip link set dev IFINDEX master MASTER`, by index only.
    pub async fn set_master_index(
        &self,
        ifindex: u32,
        name: &str,
        master: u32,
    ) -> Result<(), HostError> {
        let op = format!("set master of {name} (index {ifindex}) to index {master}");
        let msg = LinkUnspec::new_with_index(ifindex)
            .controller(master)
            .build();
        self.send_change(op, msg).await
    }

    /// Moves `name` into the network namespace open as `netns` (`ip link set NAME netns NS`).
    pub async fn move_to_netns(&self, name: &str, netns: &std::fs::File) -> Result<(), HostError> {
        use std::os::fd::AsRawFd;
        let op = format!("move {name} to another namespace");
        let fd = netns.as_raw_fd();
        self.change_link(op, name, |b| b.setns_by_fd(fd)).await
    }

    /// Sets the MAC address of `name` (`ip link set NAME address MAC`).
    pub async fn set_address(&self, name: &str, mac: [u8; 6]) -> Result<(), HostError> {
        let op = format!("set address of {name}");
        self.change_link(op, name, |b| b.address(mac.to_vec()))
            .await
    }

    /// Releases `name` from its master (`ip link set NAME nomaster`).
    pub async fn set_nomaster(&self, name: &str) -> Result<(), HostError> {
        let op = format!("release {name} from its master");
        self.change_link(op, name, |b| b.nocontroller()).await
    }

    async fn change_link(
        &self,
        op: String,
        name: &str,
        edit: impl FnOnce(LinkMessageBuilder<LinkUnspec>) -> LinkMessageBuilder<LinkUnspec>,
    ) -> Result<(), HostError> {
        check_ifname(&op, name)?;
        let msg = edit(LinkUnspec::new_with_name(name)).build();
        self.send_change(op, msg).await
    }

    /// Sends one RTM_NEWLINK change; a failure names `op`.
    async fn send_change(&self, op: String, msg: LinkMessage) -> Result<(), HostError> {
        self.handle
            .link()
            .change(msg)
            .execute()
            .await
            .map_err(|e| HostError::from_netlink(op, e))
    }
}

/// Deletes link `ifindex` at once over a blocking socket of the calling thread's namespace
/// (a veth takes its peer with it): for guards that clean up in `Drop`, where nothing can be
/// awaited. `ENODEV` (already gone) is success.
pub fn delete_link_now(ifindex: u32) -> std::io::Result<()> {
    use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};
    use netlink_packet_route::RouteNetlinkMessage;
    let mut sock = super::socket::RouteSocket::open()?;
    let mut msg = LinkMessage::default();
    msg.header.index = ifindex;
    let seq = sock.send(RouteNetlinkMessage::DelLink(msg), NLM_F_REQUEST | NLM_F_ACK)?;
    match sock.recv_replies(seq, |_, _| Ok(())) {
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
        other => other,
    }
}
