//! Address and route mutations.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use rtnetlink::packet_route::address::AddressMessage;
use rtnetlink::packet_route::route::{RouteMessage, RouteProtocol, RouteScope, RouteType};
use rtnetlink::{AddressMessageBuilder, RouteMessageBuilder};

use super::Netlink;
use crate::host::error::HostError;

impl Netlink {
    /// Adds `net` (address with prefix length) to `name`; IPv4 gets the broadcast address of
    /// its prefix, like `ip addr add … broadcast +`.
    pub async fn add_addr(&self, name: &str, net: IpNet) -> Result<(), HostError> {
        let op = format!("add address {net} to {name}");
        let index = self.resolve(&op, name).await?;
        self.handle
            .address()
            .add(index, net.addr(), net.prefix_len())
            .execute()
            .await
            .map_err(|e| HostError::from_netlink(op, e))
    }

    /// Removes `net` from `name`.
    pub async fn del_addr(&self, name: &str, net: IpNet) -> Result<(), HostError> {
        let op = format!("delete address {net} from {name}");
        let index = self.resolve(&op, name).await?;
        self.handle
            .address()
            .del(address_message(index, net))
            .execute()
            .await
            .map_err(|e| HostError::from_netlink(op, e))
    }

    /// Adds a main-table route to `dest` via `gateway` and/or out of `dev`. Routes without a
    /// gateway get link scope, like `ip route add DEST dev DEV`.
    pub async fn add_route(
        &self,
        dest: IpNet,
        gateway: Option<IpAddr>,
        dev: Option<&str>,
    ) -> Result<(), HostError> {
        let op = route_op("add", dest, gateway, dev);
        let msg = self.route_message(&op, dest, gateway, dev).await?;
        self.handle
            .route()
            .add(msg)
            .execute()
            .await
            .map_err(|e| HostError::from_netlink(op, e))
    }

    /// Deletes the main-table route matching `dest`, `gateway` and `dev`, whatever its
    /// protocol and scope (like `ip route del`).
    pub async fn del_route(
        &self,
        dest: IpNet,
        gateway: Option<IpAddr>,
        dev: Option<&str>,
    ) -> Result<(), HostError> {
        let op = route_op("delete", dest, gateway, dev);
        let mut msg = self.route_message(&op, dest, gateway, dev).await?;
        msg.header.protocol = RouteProtocol::Unspec;
        msg.header.scope = RouteScope::NoWhere;
        msg.header.kind = RouteType::Unspec;
        self.handle
            .route()
            .del(msg)
            .execute()
            .await
            .map_err(|e| HostError::from_netlink(op, e))
    }

    async fn route_message(
        &self,
        op: &str,
        dest: IpNet,
        gateway: Option<IpAddr>,
        dev: Option<&str>,
    ) -> Result<RouteMessage, HostError> {
        let oif = match dev {
            Some(dev) => Some(self.resolve(op, dev).await?),
            None => None,
        };
        route_message(dest, gateway, oif).map_err(|reason| HostError::invalid(op, reason))
    }
}

fn route_op(verb: &str, dest: IpNet, gateway: Option<IpAddr>, dev: Option<&str>) -> String {
    let mut op = format!("{verb} route {dest}");
    if let Some(gw) = gateway {
        op.push_str(&format!(" via {gw}"));
    }
    if let Some(dev) = dev {
        op.push_str(&format!(" dev {dev}"));
    }
    op
}

fn address_message(index: u32, net: IpNet) -> AddressMessage {
    match net.addr() {
        IpAddr::V4(ip) => AddressMessageBuilder::<Ipv4Addr>::new()
            .index(index)
            .address(ip, net.prefix_len())
            .build(),
        IpAddr::V6(ip) => AddressMessageBuilder::<Ipv6Addr>::new()
            .index(index)
            .address(ip, net.prefix_len())
            .build(),
    }
}

/// A main-table unicast route message; refuses host bits in `dest`, a route with neither
/// gateway nor device, and an IPv4 gateway for an IPv6 destination.
fn route_message(
    dest: IpNet,
    gateway: Option<IpAddr>,
    oif: Option<u32>,
) -> Result<RouteMessage, String> {
    if dest != dest.trunc() {
        return Err(format!(
            "destination has host bits set (use {})",
            dest.trunc()
        ));
    }
    if gateway.is_none() && oif.is_none() {
        return Err("a route needs a gateway or a device".to_string());
    }
    let mut builder = RouteMessageBuilder::<IpAddr>::new()
        .destination_prefix(dest.addr(), dest.prefix_len())
        .map_err(|e| e.to_string())?;
    builder = match gateway {
        Some(gw) => builder.gateway(gw).map_err(|e| e.to_string())?,
        None => builder.scope(RouteScope::Link),
    };
    if let Some(oif) = oif {
        builder = builder.output_interface(oif);
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute};

    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().expect("test literal")
    }

    #[test]
    fn gateway_route_has_universe_scope_and_gateway() {
        let gw: IpAddr = "10.1.0.1".parse().expect("literal");
        let msg = route_message(net("10.9.0.0/16"), Some(gw), None).expect("valid");
        assert_eq!(msg.header.scope, RouteScope::Universe);
        assert_eq!(msg.header.destination_prefix_length, 16);
        assert!(msg
            .attributes
            .contains(&RouteAttribute::Gateway(RouteAddress::Inet(
                "10.1.0.1".parse().expect("literal")
            ))));
    }

    #[test]
    fn device_route_has_link_scope_and_oif() {
        let msg = route_message(net("fd01::/64"), None, Some(7)).expect("valid");
        assert_eq!(msg.header.scope, RouteScope::Link);
        assert!(msg.attributes.contains(&RouteAttribute::Oif(7)));
    }

    #[test]
    fn bad_routes_are_refused_before_sending() {
        assert!(route_message(net("10.9.0.1/16"), None, Some(1))
            .expect_err("host bits")
            .contains("10.9.0.0/16"));
        assert!(route_message(net("10.9.0.0/16"), None, None).is_err());
        let v4gw: IpAddr = "10.0.0.1".parse().expect("literal");
        assert!(route_message(net("fd01::/64"), Some(v4gw), None).is_err());
    }

    #[test]
    fn route_op_names_every_part() {
        let gw: IpAddr = "10.0.0.1".parse().expect("literal");
        assert_eq!(
            route_op("add", net("10.9.0.0/16"), Some(gw), Some("br0")),
            "add route 10.9.0.0/16 via 10.0.0.1 dev br0"
        );
    }
}
