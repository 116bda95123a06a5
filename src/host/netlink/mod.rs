//! rtnetlink primitives: dumps of links, addresses and routes, and the mutations the planner's
//! steps need. A `Netlink` acts on the network namespace of the thread that connected it.

mod addrs;
pub mod decode;
pub mod dump;
mod links;
pub mod neigh;
pub mod nft_events;
pub mod nsid;
pub(crate) mod socket;
pub mod stats;
pub mod wire;

use futures::TryStreamExt;
use rtnetlink::packet_route::route::RouteMessage;
use rtnetlink::{Handle, RouteMessageBuilder};

use super::error::HostError;
use super::netns::{current_netns_id, NetnsId};
use super::sysctl;
use crate::state::{AddrInfo, ForwardingSysctls, HostState, LinkInfo, RouteInfo};

pub use decode::MAIN_TABLE;
pub use links::{delete_link_now, BridgeSpec, MacvtapMode};

/// A connection to the kernel's routing netlink, bound to one network namespace.
pub struct Netlink {
    handle: Handle,
    /// Namespace of the connecting thread; sysctls are only read when the caller is there too.
    netns: Option<NetnsId>,
}

impl Netlink {
    /// Opens a NETLINK_ROUTE socket in the calling thread's network namespace and spawns its
    /// connection task on the current tokio runtime.
    pub async fn connect() -> Result<Netlink, HostError> {
        let (connection, handle, _) = rtnetlink::new_connection()
            .map_err(|e| HostError::from_io("open rtnetlink socket", &e))?;
        tokio::spawn(connection);
        Ok(Netlink {
            handle,
            netns: current_netns_id().ok(),
        })
    }

    /// All links with kind, master, MAC, MTU, flags, operstate, 64-bit counters, macvtap mode
    /// and bridge STP/forward delay.
    pub async fn dump_links(&self) -> Result<Vec<LinkInfo>, HostError> {
        self.handle
            .link()
            .get()
            .execute()
            .map_ok(|msg| decode::link_info(&msg))
            .try_collect()
            .await
            .map_err(|e| HostError::from_netlink("dump links", e))
    }

    /// All IPv4 and IPv6 addresses.
    pub async fn dump_addrs(&self) -> Result<Vec<AddrInfo>, HostError> {
        let msgs: Vec<_> = self
            .handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| HostError::from_netlink("dump addresses", e))?;
        Ok(msgs.iter().filter_map(decode::addr_info).collect())
    }

    /// Unicast routes of the main table, IPv4 then IPv6.
    pub async fn dump_routes(&self) -> Result<Vec<RouteInfo>, HostError> {
        let mut routes = self
            .dump_route_family(RouteMessageBuilder::<std::net::Ipv4Addr>::new().build())
            .await?;
        routes.extend(
            self.dump_route_family(RouteMessageBuilder::<std::net::Ipv6Addr>::new().build())
                .await?,
        );
        Ok(routes)
    }

    async fn dump_route_family(&self, query: RouteMessage) -> Result<Vec<RouteInfo>, HostError> {
        let msgs: Vec<_> = self
            .handle
            .route()
            .get(query)
            .execute()
            .try_collect()
            .await
            .map_err(|e| HostError::from_netlink("dump routes", e))?;
        Ok(msgs.iter().filter_map(decode::main_route_info).collect())
    }

    /// Links, addresses, routes and forwarding sysctls in one snapshot.
    ///
    /// The sysctls are read from the calling thread's namespace; when that is not the
    /// namespace this connection was opened in, they are reported as unknown (`None`).
    pub async fn observe(&self) -> Result<HostState, HostError> {
        let links = self.dump_links().await?;
        let addrs = self.dump_addrs().await?;
        let routes = self.dump_routes().await?;
        Ok(HostState {
            links,
            addrs,
            routes,
            sysctls: self.forwarding_sysctls(),
        })
    }

    /// The forwarding sysctls, when the caller is in this connection's namespace.
    pub fn forwarding_sysctls(&self) -> ForwardingSysctls {
        match (self.netns, current_netns_id().ok()) {
            (Some(mine), Some(here)) if mine == here => sysctl::read_forwarding(),
            _ => ForwardingSysctls::default(),
        }
    }

    /// Interface index of `name`; errors read "OP: look up NAME: …" ("look up NAME: …" when
    /// `op` is empty).
    async fn resolve(&self, op: &str, name: &str) -> Result<u32, HostError> {
        let lookup_op = if op.is_empty() {
            format!("look up {name}")
        } else {
            format!("{op}: look up {name}")
        };
        check_ifname(&lookup_op, name)?;
        let found = self
            .handle
            .link()
            .get()
            .match_name(name)
            .execute()
            .try_next()
            .await
            .map_err(|e| HostError::from_netlink(lookup_op.clone(), e))?;
        found
            .map(|msg| msg.header.index)
            .ok_or(HostError::NoSuchDevice { op: lookup_op })
    }

    /// The IP neighbours of every family and the MACs the bridges learned.
    pub async fn dump_neighbours(&self) -> Result<Vec<crate::state::Neighbour>, HostError> {
        let mut out = Vec::new();
        for family in [
            rtnetlink::packet_route::AddressFamily::Unspec,
            rtnetlink::packet_route::AddressFamily::Bridge,
        ] {
            let mut dump = self
                .handle
                .neighbours()
                .get()
                .set_address_family(family)
                .execute();
            while let Some(msg) = dump
                .try_next()
                .await
                .map_err(|e| HostError::from_netlink("dump neighbours", e))?
            {
                out.extend(neigh::neighbour(&msg));
            }
        }
        Ok(out)
    }

    /// Interface index of the link called `name`.
    pub async fn link_index(&self, name: &str) -> Result<u32, HostError> {
        self.resolve("", name).await
    }

    /// The link with interface index `ifindex`, if there is one (one request, not a dump).
    pub async fn link_by_index(&self, ifindex: u32) -> Result<Option<LinkInfo>, HostError> {
        let found = self
            .handle
            .link()
            .get()
            .match_index(ifindex)
            .execute()
            .try_next()
            .await;
        match found {
            Ok(msg) => Ok(msg.map(|m| decode::link_info(&m))),
            Err(e) => match HostError::from_netlink(format!("look up link {ifindex}"), e) {
                HostError::NoSuchDevice { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// The link called `name`, if there is one (one request, not a dump).
    pub async fn link_by_name(&self, name: &str) -> Result<Option<LinkInfo>, HostError> {
        let op = format!("look up {name}");
        check_ifname(&op, name)?;
        let found = self
            .handle
            .link()
            .get()
            .match_name(name.to_owned())
            .execute()
            .try_next()
            .await;
        match found {
            Ok(msg) => Ok(msg.map(|m| decode::link_info(&m))),
            Err(e) => match HostError::from_netlink(op, e) {
                HostError::NoSuchDevice { .. } => Ok(None),
                other => Err(other),
            },
        }
    }
}

/// The kernel's rule for interface names (dev_valid_name), checked before sending.
fn check_ifname(op: &str, name: &str) -> Result<(), HostError> {
    let bad_char = name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace());
    if name.is_empty() || name.len() > 15 || name == "." || name == ".." || bad_char {
        return Err(HostError::invalid(
            op,
            format!("{name:?} is not a valid interface name (1-15 bytes, no '/', ':' or spaces)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_ifname;

    #[test]
    fn interface_names_follow_kernel_rules() {
        for ok in ["sybr0", "a", "veth-guest-123", "x.y"] {
            assert!(check_ifname("t", ok).is_ok(), "{ok}");
        }
        for bad in ["", "sixteen-chars-xx", ".", "..", "a/b", "a:b", "a b"] {
            assert!(check_ifname("t", bad).is_err(), "{bad:?}");
        }
    }
}
