//! The fake host's links, addresses, routes, sysctls and neighbours: what rtnetlink and
//! /proc/sys would hold, with the kernel's answers (EEXIST, ENODEV, EADDRNOTAVAIL, ESRCH) to
//! requests that don't fit.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::traffic::Traffic;
use crate::host::error::HostError;
use crate::host::netlink::BridgeSpec;
use crate::plan::start::INOTIFY_INSTANCES;
use crate::state::{
    AddrInfo, BridgeAttrs, ForwardingSysctls, HostState, LinkInfo, LinkKind, Neighbour, RouteInfo,
};

/// One link and how much traffic it carries.
#[derive(Debug, Clone)]
pub struct FakeLink {
    pub info: LinkInfo,
    pub traffic: Traffic,
}

/// Links, addresses, routes, sysctls and neighbour tables of one namespace.
#[derive(Debug, Clone, Default)]
pub struct Links {
    pub links: BTreeMap<u32, FakeLink>,
    next_ifindex: u32,
    pub addrs: Vec<AddrInfo>,
    pub routes: Vec<RouteInfo>,
    pub sysctls: BTreeMap<String, String>,
    pub neighbours: Vec<Neighbour>,
    /// Bridges with `<bandwidth>` shaping applied.
    pub shaped: BTreeMap<String, crate::plan::bandwidth::Shaping>,
    /// Interface indexes of links deleted since the start (never reused, as the kernel
    /// doesn't reuse them soon).
    deleted: u32,
}

fn errno(op: String, e: i32) -> HostError {
    HostError::from_errno(op, e)
}

impl Links {
    pub fn new() -> Links {
        let mut sysctls = BTreeMap::new();
        sysctls.insert("net.ipv4.ip_forward".to_owned(), "0".to_owned());
        sysctls.insert("net.ipv6.conf.all.forwarding".to_owned(), "0".to_owned());
        // The kernel's default; the fake stands for a machine's own namespace.
        sysctls.insert(INOTIFY_INSTANCES.to_owned(), "128".to_owned());
        Links {
            next_ifindex: 1,
            sysctls,
            ..Links::default()
        }
    }

    /// Adds a link of `kind` and returns its index; `EEXIST` if the name is taken.
    pub fn add(
        &mut self,
        name: &str,
        kind: LinkKind,
        mac: [u8; 6],
        traffic: Traffic,
    ) -> Result<u32, HostError> {
        if self.by_name(name).is_some() {
            return Err(errno(format!("create link {name}"), libc::EEXIST));
        }
        let ifindex = self.next_ifindex;
        self.next_ifindex += 1;
        let info = LinkInfo {
            ifindex,
            name: name.to_owned(),
            kind,
            master: None,
            parent: None,
            mac: Some(mac),
            mtu: 1500,
            admin_up: false,
            oper_state: "down".into(),
            stats: None,
            macvtap_mode: None,
            bridge: None,
            peer_netnsid: None,
        };
        self.links.insert(ifindex, FakeLink { info, traffic });
        Ok(ifindex)
    }

    pub fn create_bridge(&mut self, spec: &BridgeSpec, mac: [u8; 6]) -> Result<u32, HostError> {
        let mac = spec.mac.map_or(mac, |m| m.0);
        let i = self
            .add(&spec.name, LinkKind::Bridge, mac, Traffic::Sum)
            .map_err(|_| errno(format!("create bridge {}", spec.name), libc::EEXIST))?;
        let link = &mut self.links.get_mut(&i).expect("just added").info;
        link.mtu = spec.mtu.unwrap_or(1500);
        link.bridge = Some(BridgeAttrs {
            stp: spec.stp,
            forward_delay_cs: spec.forward_delay_cs,
        });
        Ok(i)
    }

    pub fn by_name(&self, name: &str) -> Option<&FakeLink> {
        self.links.values().find(|l| l.info.name == name)
    }

    fn index_of(&self, name: &str, op: impl FnOnce() -> String) -> Result<u32, HostError> {
        self.by_name(name)
            .map(|l| l.info.ifindex)
            .ok_or_else(|| HostError::NoSuchDevice { op: op() })
    }

    /// Deletes a link; its ports lose their master, its addresses and routes go with it.
    pub fn delete(&mut self, ifindex: u32, name: &str) -> Result<(), HostError> {
        if self.links.remove(&ifindex).is_none() {
            return Err(HostError::NoSuchDevice {
                op: format!("delete link {name}"),
            });
        }
        self.deleted += 1;
        for l in self.links.values_mut() {
            if l.info.master == Some(ifindex) {
                l.info.master = None;
            }
        }
        self.addrs.retain(|a| a.ifindex != ifindex);
        self.routes.retain(|r| r.oif != Some(ifindex));
        self.neighbours.retain(|n| match n {
            Neighbour::Ip { ifindex: i, .. } => *i != ifindex,
            Neighbour::Learned { port, .. } => *port != ifindex,
        });
        self.refresh_oper();
        Ok(())
    }

    pub fn set_admin(&mut self, dev: &str, up: bool) -> Result<(), HostError> {
        let i = self.index_of(dev, || {
            format!("set {dev} {}", if up { "up" } else { "down" })
        })?;
        self.links.get_mut(&i).expect("found").info.admin_up = up;
        self.refresh_oper();
        Ok(())
    }

    pub fn set_mtu(&mut self, dev: &str, mtu: u32) -> Result<(), HostError> {
        let i = self.index_of(dev, || format!("set mtu of {dev}"))?;
        self.links.get_mut(&i).expect("found").info.mtu = mtu;
        Ok(())
    }

    pub fn set_master(&mut self, port: &str, bridge: &str) -> Result<(), HostError> {
        let b = self.index_of(bridge, || format!("put {port} on {bridge}"))?;
        let p = self.index_of(port, || format!("put {port} on {bridge}"))?;
        self.links.get_mut(&p).expect("found").info.master = Some(b);
        self.refresh_oper();
        Ok(())
    }

    /// Enslaves link `ifindex` to link `master`, by index (as `RTM_NEWLINK` with an index):
    /// either missing is `ENODEV`, as the kernel answers.
    pub fn set_master_index(
        &mut self,
        ifindex: u32,
        name: &str,
        master: u32,
    ) -> Result<(), HostError> {
        let gone = || HostError::NoSuchDevice {
            op: format!("set master of {name} (index {ifindex}) to index {master}"),
        };
        if !self.links.contains_key(&master) {
            return Err(gone());
        }
        self.links.get_mut(&ifindex).ok_or_else(gone)?.info.master = Some(master);
        self.refresh_oper();
        Ok(())
    }

    /// Operational states as the kernel derives them: a bridge is up when it is and one of
    /// its ports is; any other link when it is administratively up.
    pub fn refresh_oper(&mut self) {
        let ports_up: Vec<u32> = self
            .links
            .values()
            .filter(|l| l.info.admin_up)
            .filter_map(|l| l.info.master)
            .collect();
        for l in self.links.values_mut() {
            let up = l.info.admin_up
                && (l.info.kind != LinkKind::Bridge || ports_up.contains(&l.info.ifindex));
            l.info.oper_state = if up { "up" } else { "down" }.into();
            if l.info.kind == LinkKind::Loopback && l.info.admin_up {
                l.info.oper_state = "unknown".into();
            }
        }
    }

    pub fn add_addr(&mut self, dev: &str, net: IpNet) -> Result<(), HostError> {
        let op = || format!("add address {net} to {dev}");
        let ifindex = self.index_of(dev, op)?;
        if self
            .addrs
            .iter()
            .any(|a| a.ifindex == ifindex && a.net == net)
        {
            return Err(errno(op(), libc::EEXIST));
        }
        self.addrs.push(AddrInfo { ifindex, net });
        // The kernel adds the prefix route of the address.
        let dest = net.trunc();
        if dest.prefix_len() < dest.max_prefix_len() {
            self.routes.push(RouteInfo {
                dest,
                gateway: None,
                oif: Some(ifindex),
                table: 254,
                protocol: 2,
            });
        }
        Ok(())
    }

    pub fn del_addr(&mut self, dev: &str, net: IpNet) -> Result<(), HostError> {
        let op = || format!("delete address {net} from {dev}");
        let ifindex = self.index_of(dev, op)?;
        let before = self.addrs.len();
        self.addrs
            .retain(|a| !(a.ifindex == ifindex && a.net == net));
        if self.addrs.len() == before {
            return Err(errno(op(), libc::EADDRNOTAVAIL));
        }
        let dest = net.trunc();
        self.routes
            .retain(|r| !(r.oif == Some(ifindex) && r.dest == dest && r.protocol == 2));
        Ok(())
    }

    pub fn add_route(
        &mut self,
        dest: IpNet,
        gateway: Option<IpAddr>,
        dev: &str,
    ) -> Result<(), HostError> {
        let op = || format!("add route {dest} via {dev}");
        let oif = self.index_of(dev, op)?;
        if self.routes.iter().any(|r| r.dest == dest && r.table == 254) {
            return Err(errno(op(), libc::EEXIST));
        }
        self.routes.push(RouteInfo {
            dest,
            gateway,
            oif: Some(oif),
            table: 254,
            protocol: 4,
        });
        Ok(())
    }

    pub fn del_route(&mut self, dest: IpNet, dev: &str) -> Result<(), HostError> {
        let op = || format!("delete route {dest} via {dev}");
        let oif = self.index_of(dev, op)?;
        let before = self.routes.len();
        self.routes
            .retain(|r| !(r.dest == dest && r.oif == Some(oif) && r.protocol != 2));
        if self.routes.len() == before {
            return Err(errno(op(), libc::ESRCH));
        }
        Ok(())
    }

    pub fn write_sysctl(&mut self, key: &str, value: &str) -> Result<(), HostError> {
        // Only the keys the real host would write (the same check).
        crate::host::sysctl::sysctl_path(key)?;
        self.sysctls.insert(key.to_owned(), value.trim().to_owned());
        Ok(())
    }

    pub fn forwarding(&self) -> ForwardingSysctls {
        let flag = |k: &str| self.sysctls.get(k).map(|v| v == "1");
        ForwardingSysctls {
            ipv4_forward: flag("net.ipv4.ip_forward"),
            ipv6_forward: flag("net.ipv6.conf.all.forwarding"),
            inotify_max_user_instances: self
                .sysctls
                .get(INOTIFY_INSTANCES)
                .and_then(|v| v.parse().ok()),
        }
    }

    pub fn state(&self) -> HostState {
        HostState {
            links: self.links.values().map(|l| l.info.clone()).collect(),
            addrs: self.addrs.clone(),
            routes: self.routes.clone(),
            sysctls: self.forwarding(),
        }
    }

    /// Records a neighbour entry; whether it is new or changed.
    pub fn learn(&mut self, n: Neighbour) -> bool {
        let same_slot = |a: &Neighbour, b: &Neighbour| match (a, b) {
            (
                Neighbour::Ip { ifindex, ip, .. },
                Neighbour::Ip {
                    ifindex: i2,
                    ip: ip2,
                    ..
                },
            ) => ifindex == i2 && ip == ip2,
            (Neighbour::Learned { port, mac }, Neighbour::Learned { port: p2, mac: m2 }) => {
                port == p2 && mac == m2
            }
            _ => false,
        };
        match self.neighbours.iter_mut().find(|e| same_slot(e, &n)) {
            Some(e) if *e == n => false,
            Some(e) => {
                *e = n;
                true
            }
            None => {
                self.neighbours.push(n);
                true
            }
        }
    }
}
