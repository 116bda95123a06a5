//! Pure conversions from what the backend and the collector observed into the TUI's rows.

use ipnet::IpNet;
use std::sync::Arc;

use crate::backend::NetworkStatus;
use crate::model::{self, MacAddr};
use crate::state::{AddrInfo, HostState, LinkKind};
use crate::telemetry::leases::Lease;
use crate::telemetry::ports::PortInfo;
use crate::telemetry::PortsSnapshot;
use crate::tui::data::{DhcpSpan, IfaceRow, LeaseRow, NetMode, NetworkRow, OperState, PortRow};

/// One network row; `rules` is the number of firewall rules carrying its name.
pub fn network_row(s: &NetworkStatus, rules: usize) -> NetworkRow {
    let def = s.def.as_ref().ok();
    let dhcp = def.and_then(|d| {
        d.dhcp_ranges().first().map(|(_, r)| DhcpSpan {
            start: r.start,
            end: r.end,
        })
    });
    NetworkRow {
        name: s.name.clone(),
        active: s.active,
        autostart: s.autostart,
        mode: def.map_or(NetMode::Unknown, NetMode::of),
        bridge: def.and_then(|d| d.bridge_name()).map(str::to_owned),
        ipv4: def.and_then(|d| d.ipv4()),
        ipv6: def.and_then(|d| d.ipv6()),
        dhcp,
        drift: s.drift.clone(),
        dnsmasq_pid: s.dnsmasq_pid,
        firewall_rules: rules,
        attachments: 0,
        def: def.map(|d| Arc::new(d.clone())),
        error: s.def.as_ref().err().or(s.record_error.as_ref()).cloned(),
        taints: def
            .map(|d| d.taints().into_iter().map(str::to_owned).collect())
            .unwrap_or_default(),
        warnings: def
            .map(|d| model::dubious(d).iter().map(|p| p.to_string()).collect())
            .unwrap_or_default(),
    }
}

/// A port's row without counters or rate (what stays while the port list does). The
/// collector words its values; they are read back here, once, so the screens get types.
fn port_row_without_counters(p: &PortInfo, netns: u64) -> PortRow {
    let mac = |m: &Option<String>| m.as_deref().and_then(|m| m.parse::<MacAddr>().ok());
    PortRow {
        netns,
        ifindex: p.ifindex,
        ifname: p.ifname.clone(),
        kind: LinkKind::from_name(&p.kind),
        bridge: p.bridge.clone().or_else(|| p.parent.clone()),
        network: p.network.clone(),
        mac: mac(&p.guest_mac).or_else(|| mac(&p.mac)),
        mtu: p.mtu,
        up: p.up,
        guest: p.guest.clone(),
        ip: p.ip.as_deref().and_then(|ip| ip.parse().ok()),
        counters: None,
        rate: None,
    }
}

/// The port and interface rows of the last snapshots without their counters, kept while what
/// they were built from stays the same: the collector shares its port list and its link dump
/// between snapshots until something changes, so most ticks only copy the rows and set their
/// counters and rates, instead of reading a thousand names, kinds and MACs back again.
#[derive(Default)]
pub struct RowCache {
    /// The port list the rows were built from (held, so its address cannot be reused).
    ports_of: Option<(Arc<Vec<PortInfo>>, u64)>,
    ports: Vec<PortRow>,
    /// The link dump and the generation of the addresses the interface rows were built from.
    ifaces_of: Option<(Arc<HostState>, u64, u64)>,
    ifaces: Vec<IfaceRow>,
}

impl RowCache {
    /// The port rows of `snap`, with its counters and rates.
    pub fn port_rows(&mut self, snap: &PortsSnapshot) -> Vec<PortRow> {
        let same = self
            .ports_of
            .as_ref()
            .is_some_and(|(of, netns)| Arc::ptr_eq(of, &snap.ports) && *netns == snap.netns);
        if !same {
            self.ports = snap
                .ports
                .iter()
                .map(|p| port_row_without_counters(p, snap.netns))
                .collect();
            self.ports_of = Some((snap.ports.clone(), snap.netns));
        }
        self.ports
            .iter()
            .map(|r| PortRow {
                counters: snap.counters_of(r.ifindex),
                rate: snap.rate_of(r.ifindex),
                ..r.clone()
            })
            .collect()
    }

    /// The host's interface rows (see [`iface_rows_without_counters`]): `addrs` and
    /// `default_via` come from the network view, and `addrs_generation` changes whenever they
    /// may have.
    pub fn iface_rows(
        &mut self,
        snap: &PortsSnapshot,
        addrs: &[AddrInfo],
        default_via: &[u32],
        addrs_generation: u64,
    ) -> Vec<IfaceRow> {
        let same = self.ifaces_of.as_ref().is_some_and(|(of, netns, g)| {
            Arc::ptr_eq(of, &snap.host) && *netns == snap.netns && *g == addrs_generation
        });
        if !same {
            self.ifaces = iface_rows_without_counters(&snap.host, addrs, default_via, snap.netns);
            self.ifaces_of = Some((snap.host.clone(), snap.netns, addrs_generation));
        }
        self.ifaces
            .iter()
            .map(|r| IfaceRow {
                counters: snap.counters_of(r.ifindex),
                rate: snap.rate_of(r.ifindex),
                ..r.clone()
            })
            .collect()
    }
}

/// One lease row.
pub fn lease_row(network: &str, l: &Lease) -> LeaseRow {
    LeaseRow {
        network: network.to_owned(),
        mac: l.mac.as_deref().and_then(|m| m.parse().ok()),
        ip: l.ip,
        hostname: l.hostname.clone(),
        expiry: l.expiry,
        reserved: false,
    }
}

/// The DHCP reservations (`<host>` entries with an address) of active `networks` that none
/// of `leases` holds, as rows of their own: their MAC, address and host name, no expiry.
pub fn reservation_rows(networks: &[NetworkRow], leases: &[LeaseRow]) -> Vec<LeaseRow> {
    let mut out = Vec::new();
    for net in networks.iter().filter(|n| n.active) {
        let Some(def) = net.def.as_deref() else {
            continue;
        };
        for host in def.ips.iter().flat_map(|i| i.hosts()) {
            let Some(ip) = host.ip else { continue };
            let leased = leases.iter().any(|l| l.network == net.name && l.ip == ip);
            let listed = out
                .iter()
                .any(|r: &LeaseRow| r.network == net.name && r.ip == ip);
            if !leased && !listed {
                out.push(LeaseRow {
                    network: net.name.clone(),
                    mac: host.mac,
                    ip,
                    hostname: host.name.clone(),
                    expiry: None,
                    reserved: true,
                });
            }
        }
    }
    out
}

/// Every interface of the host itself: NICs, bridges, bonds, VLANs, an uplink veth, dummies,
/// tunnels — not loopback, and not the guests' devices (taps, macvtaps, veths plugged into a
/// bridge), which the Ports view lists. `addrs` and `default_via` (ifindexes a default route
/// leaves through) come from a fuller, less frequent look than the collector's link dump.
fn iface_rows_without_counters(
    host: &HostState,
    addrs: &[AddrInfo],
    default_via: &[u32],
    netns: u64,
) -> Vec<IfaceRow> {
    let wanted = |l: &crate::state::LinkInfo| match l.kind {
        LinkKind::Loopback | LinkKind::Macvtap => false,
        LinkKind::Veth | LinkKind::Tun => l.master.is_none(),
        _ => true,
    };
    // Each interface's addresses, gathered in one pass (not a pass over every address for
    // each of a thousand interfaces).
    let mut addrs_of: std::collections::HashMap<u32, Vec<IpNet>> = Default::default();
    for a in addrs {
        addrs_of.entry(a.ifindex).or_default().push(a.net);
    }
    host.links
        .iter()
        .filter(|l| wanted(l))
        .map(|l| IfaceRow {
            netns,
            ifindex: l.ifindex,
            ifname: l.name.clone(),
            kind: l.kind.clone(),
            mac: l.mac.map(MacAddr),
            mtu: l.mtu,
            up: l.admin_up,
            oper: OperState::from_kernel(&l.oper_state),
            default_route: default_via.contains(&l.ifindex),
            addrs: addrs_of.remove(&l.ifindex).unwrap_or_default(),
            master: l
                .master
                .and_then(|m| host.link_by_index(m))
                .map(|m| m.name.clone()),
            counters: None,
            rate: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::LinkInfo;

    fn link(ifindex: u32, name: &str, kind: LinkKind, master: Option<u32>) -> LinkInfo {
        LinkInfo {
            ifindex,
            name: name.into(),
            kind,
            master,
            parent: None,
            mac: Some([0x52, 0x54, 0, 0, 0, ifindex as u8]),
            mtu: 1500,
            admin_up: true,
            oper_state: "up".into(),
            stats: None,
            macvtap_mode: None,
            bridge: None,
            peer_netnsid: None,
        }
    }

    #[test]
    fn host_view_lists_nics_bridges_and_their_addresses() {
        let host = HostState {
            links: vec![
                link(1, "lo", LinkKind::Loopback, None),
                link(2, "eth0", LinkKind::Physical, Some(4)),
                link(3, "vnet0", LinkKind::Tun, Some(4)),
                link(4, "br0", LinkKind::Bridge, None),
                link(5, "uplink", LinkKind::Veth, None),
                link(6, "vethguest", LinkKind::Veth, Some(4)),
                link(7, "macvtap0", LinkKind::Macvtap, None),
                LinkInfo {
                    oper_state: "DOWN".into(),
                    ..link(8, "br9", LinkKind::Bridge, None)
                },
                link(9, "wg0", LinkKind::Other("wireguard".into()), None),
            ],
            ..HostState::default()
        };
        let addrs = vec![AddrInfo {
            ifindex: 4,
            net: "192.0.2.5/24".parse().expect("net"),
        }];
        let snap = PortsSnapshot {
            at: std::time::Duration::from_secs(2),
            netns: 7,
            ports: Default::default(),
            host: Arc::new(host),
            counters: vec![(
                4,
                crate::telemetry::LinkCounters {
                    rx_bytes: 7,
                    ..Default::default()
                },
            )],
            rates: vec![(4, crate::telemetry::Rates::from_array([16.0; 8]))],
            firewall: 0,
            leases: Default::default(),
            topology: 1,
            cause: crate::telemetry::SnapshotCause::Tick,
            errors: Vec::new(),
        };
        let rows = RowCache::default().iface_rows(&snap, &addrs, &[5], 0);
        let names: Vec<&str> = rows.iter().map(|r| r.ifname.as_str()).collect();
        assert_eq!(
            names,
            ["eth0", "br0", "uplink", "br9", "wg0"],
            "the host's own interfaces; not lo, not the guests' tap, veth or macvtap"
        );
        let row = |name: &str| rows.iter().find(|r| r.ifname == name).expect("listed");
        assert!(row("uplink").default_route && !row("eth0").default_route);
        assert_eq!(row("br9").link_text(), "no link", "up without carrier");
        assert_eq!(row("br0").link_text(), "up");
        assert_eq!(rows[0].master.as_deref(), Some("br0"));
        assert_eq!(
            rows[0].mac.map(|m| m.to_string()).as_deref(),
            Some("52:54:00:00:00:02")
        );
        assert_eq!(
            rows[1].addrs,
            ["192.0.2.5/24".parse::<ipnet::IpNet>().expect("net")]
        );
        assert_eq!(rows[1].counters.map(|c| c.rx_bytes), Some(7));
        assert_eq!(rows[0].counters, None, "unknown, not zero");
        assert_eq!(
            rows[1].rate.map(|r| r.rx_bps),
            Some(16.0),
            "the collector's rate"
        );
        assert_eq!(rows[0].rate, None);
        assert_eq!(rows[1].kind, LinkKind::Bridge);
    }

    fn counted(snap: &PortsSnapshot, ifindex: u32, rx_bytes: u64) -> PortsSnapshot {
        PortsSnapshot {
            counters: vec![(
                ifindex,
                crate::telemetry::LinkCounters {
                    rx_bytes,
                    ..Default::default()
                },
            )],
            ..snap.clone()
        }
    }

    #[test]
    fn row_cache_reads_a_port_list_again_only_when_it_changed() {
        let port = |name: &str, mac: &str| PortInfo {
            mac: Some(mac.to_owned()),
            ..PortInfo::test_tap(3, name)
        };
        let host = Arc::new(HostState {
            links: vec![link(4, "br0", LinkKind::Bridge, None)],
            ..HostState::default()
        });
        let first = PortsSnapshot {
            at: std::time::Duration::from_secs(1),
            netns: 7,
            ports: Arc::new(vec![port("vnet0", "52:54:00:00:00:01")]),
            host: host.clone(),
            counters: Vec::new(),
            rates: Vec::new(),
            firewall: 0,
            leases: Default::default(),
            topology: 1,
            cause: crate::telemetry::SnapshotCause::Tick,
            errors: Vec::new(),
        };
        let mut cache = RowCache::default();
        let rows = cache.port_rows(&counted(&first, 3, 10));
        assert_eq!(
            rows,
            RowCache::default().port_rows(&counted(&first, 3, 10)),
            "the same rows as built afresh"
        );
        assert_eq!(rows[0].counters.map(|c| c.rx_bytes), Some(10));

        // The same list: the rows are kept, with the new counters.
        let rows = cache.port_rows(&counted(&first, 3, 25));
        assert_eq!(rows[0].counters.map(|c| c.rx_bytes), Some(25));
        assert_eq!(rows[0].ifname, "vnet0");

        // A new list (a rename, a new MAC): read again.
        let second = PortsSnapshot {
            ports: Arc::new(vec![port("guest-a", "52:54:00:00:00:02")]),
            ..first.clone()
        };
        let rows = cache.port_rows(&second);
        assert_eq!(rows[0].ifname, "guest-a");
        assert_eq!(
            rows[0].mac.map(|m| m.to_string()).as_deref(),
            Some("52:54:00:00:00:02")
        );
        assert_eq!(rows[0].counters, None, "no counters: unknown, not zero");

        // Interfaces: kept for the same dump and address generation, read again for a new
        // generation (new addresses).
        let addr = |net: &str| AddrInfo {
            ifindex: 4,
            net: net.parse().expect("net"),
        };
        let rows = cache.iface_rows(&counted(&first, 4, 1), &[addr("192.0.2.1/24")], &[], 1);
        assert_eq!(rows[0].addrs, [addr("192.0.2.1/24").net]);
        let rows = cache.iface_rows(&counted(&first, 4, 2), &[addr("192.0.2.1/24")], &[], 1);
        assert_eq!(rows[0].counters.map(|c| c.rx_bytes), Some(2));
        let rows = cache.iface_rows(&first, &[addr("198.51.100.1/24")], &[4], 2);
        assert_eq!(rows[0].addrs, [addr("198.51.100.1/24").net]);
        assert!(rows[0].default_route);
        assert_eq!(
            rows,
            RowCache::default().iface_rows(&first, &[addr("198.51.100.1/24")], &[4], 0),
            "the same rows as built afresh"
        );
    }

    #[test]
    fn network_row_from_a_status() {
        let def = model::parse_network_xml(
            "<network><name>lab</name><forward mode='nat'/><bridge name='sybr0'/>\
             <ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip></network>",
        )
        .expect("parses");
        let status = NetworkStatus {
            name: "lab".into(),
            def: Ok(def),
            active: true,
            autostart: false,
            drift: vec![crate::plan::Drift::DnsmasqDown],
            dnsmasq_pid: None,
            record_error: None,
        };
        let row = network_row(&status, 12);
        assert_eq!(row.mode.to_string(), "nat");
        assert_eq!(row.bridge.as_deref(), Some("sybr0"));
        assert_eq!(
            row.ipv4.map(|n| n.to_string()).as_deref(),
            Some("10.0.0.1/24")
        );
        assert_eq!(
            row.dhcp.map(|d| d.to_string()).as_deref(),
            Some("10.0.0.2–10.0.0.9")
        );
        assert_eq!(row.firewall_rules, 12);
        assert!(row.xml().contains("<name>lab</name>"));
        assert!(row
            .drift
            .iter()
            .any(|d| matches!(d, crate::plan::Drift::DnsmasqDown)));
        let broken = NetworkStatus {
            def: Err("line 3: bad".into()),
            ..status
        };
        assert_eq!(
            network_row(&broken, 0).error.as_deref(),
            Some("line 3: bad")
        );
    }
}
