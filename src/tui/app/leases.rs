//! The leases view's state: the shared sortable, filterable table (`table`) over the
//! snapshot's leases, which of them are pinned, and the selected lease.

use std::net::IpAddr;

use super::table::{any_contains, SortColumn, SortKey, TableState};
use super::{App, View};
use crate::model::NetworkDef;
use crate::tui::data::LeaseRow;

/// Column the leases are sorted by; missing values (no host name, no MAC) always go last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LeaseSort {
    /// Network, then address.
    #[default]
    Network,
    /// Soonest expiry first.
    Expiry,
    /// Host name A→Z.
    Hostname,
    /// MAC address.
    Mac,
}

impl SortColumn for LeaseSort {
    const ALL: &'static [LeaseSort] = &[
        LeaseSort::Network,
        LeaseSort::Expiry,
        LeaseSort::Hostname,
        LeaseSort::Mac,
    ];
}

/// State of the leases view.
pub type LeasesState = TableState<LeaseSort>;

/// What identifies a lease across snapshots: its network and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseKey {
    /// Network.
    pub network: String,
    /// Leased address.
    pub ip: IpAddr,
}

impl LeaseKey {
    /// The key of `lease`.
    pub fn of(lease: &LeaseRow) -> Self {
        Self {
            network: lease.network.clone(),
            ip: lease.ip,
        }
    }

    fn is(&self, lease: &LeaseRow) -> bool {
        lease.ip == self.ip && lease.network == self.network
    }
}

/// Whether `lease` is pinned by a `<host>` entry of its network's definition `def`: an entry
/// fixes this lease's address for this lease's client (its MAC; an entry without a MAC, as a
/// DHCPv6 one by client id, by the address alone).
pub fn is_pinned(lease: &LeaseRow, def: &NetworkDef) -> bool {
    def.ips
        .iter()
        .flat_map(|i| i.hosts())
        .any(|h| h.ip == Some(lease.ip) && (h.mac.is_none() || h.mac == lease.mac))
}

fn matches(lease: &LeaseRow, needle: &str) -> bool {
    let typed = [Some(lease.ip.to_string()), lease.mac.map(|m| m.to_string())];
    let fields = [Some(lease.network.as_str()), lease.hostname.as_deref()];
    let typed = typed.iter().flatten().map(String::as_str);
    any_contains(fields.into_iter().flatten().chain(typed), needle)
}

fn sort_key(sort: LeaseSort, lease: &LeaseRow) -> SortKey {
    match sort {
        LeaseSort::Network => SortKey::Scoped(Some((lease.network.clone(), lease.ip))),
        // An infinite lease expires last (and first when reversed): it is not a missing value.
        // A reservation nobody holds has no expiry at all: it sorts with missing values.
        LeaseSort::Expiry if lease.reserved => SortKey::Time(None),
        LeaseSort::Expiry => SortKey::Time(Some(lease.expiry.unwrap_or(u64::MAX))),
        LeaseSort::Hostname => SortKey::Text(lease.hostname.clone()),
        LeaseSort::Mac => SortKey::Text(lease.mac.map(|m| m.to_string())),
    }
}

impl App {
    /// The leases view state (sort, filter, visible order).
    pub fn leases_state(&self) -> &LeasesState {
        &self.leases
    }

    /// The selected lease (in the sorted, filtered order), if any.
    pub fn selected_lease(&self) -> Option<&LeaseRow> {
        let i = *self.leases.order.get(self.leases.list.selected)?;
        self.snap.leases.get(i)
    }

    pub(crate) fn selected_lease_key(&self) -> Option<LeaseKey> {
        self.selected_lease().map(LeaseKey::of)
    }

    /// Whether `lease` is pinned in its network's definition (see [`is_pinned`]).
    pub fn lease_pinned(&self, lease: &LeaseRow) -> bool {
        self.snap
            .networks
            .iter()
            .find(|n| n.name == lease.network)
            .and_then(|n| n.def.as_deref())
            .is_some_and(|def| is_pinned(lease, def))
    }

    /// Recompute the visible order; keep `keep` selected if it is still visible.
    pub(crate) fn refresh_lease_order(&mut self, keep: Option<LeaseKey>) {
        let needle = self.leases.needle();
        let sort = self.leases.sort;
        let keep = keep.as_ref().map(|k| move |l: &LeaseRow| k.is(l));
        self.leases.reorder(
            &self.snap.leases,
            |l| needle.is_empty() || matches(l, &needle),
            |l| sort_key(sort, l),
            |a, b| (&a.network, a.ip).cmp(&(&b.network, b.ip)),
            keep.as_ref().map(|k| k as &dyn Fn(&LeaseRow) -> bool),
        );
        self.scroll_table(View::Leases);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(mac: Option<&str>, ip: &str) -> LeaseRow {
        LeaseRow {
            network: "lab".into(),
            mac: mac.map(|m| m.parse().expect("a MAC")),
            ip: ip.parse().expect("an address"),
            hostname: None,
            expiry: None,
            reserved: false,
        }
    }

    #[test]
    fn pinned_means_this_address_for_this_client() {
        let xml = "<network><name>lab</name><ip address='10.0.0.1' prefix='24'><dhcp>\
                   <range start='10.0.0.100' end='10.0.0.200'/>\
                   <host mac='52:54:00:00:00:01' ip='10.0.0.5'/>\
                   <host mac='52:54:00:00:00:02' name='named-only'/>\
                   </dhcp></ip><ip family='ipv6' address='fd00::1' prefix='64'><dhcp>\
                   <host id='0:3:0:1:0:16:3e:11:22:33' ip='fd00::5'/></dhcp></ip></network>";
        let def = crate::model::parse_network_xml(xml).expect("parses");
        let cases = [
            (lease(Some("52:54:00:00:00:01"), "10.0.0.5"), true),
            (lease(Some("52:54:00:00:00:01"), "10.0.0.150"), false),
            (lease(Some("52:54:00:00:00:09"), "10.0.0.5"), false),
            (lease(Some("52:54:00:00:00:02"), "10.0.0.120"), false),
            (lease(None, "fd00::5"), true),
            (lease(None, "fd00::6"), false),
        ];
        for (l, want) in cases {
            assert_eq!(is_pinned(&l, &def), want, "{l:?}");
        }
    }
}
