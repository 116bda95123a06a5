//! `NetIndex`: subnets ordered by network address, so the subnets overlapping one subnet are
//! found without comparing every pair (validation stays near-linear in the number of `<ip>`
//! blocks, routes and other networks).

use std::collections::BTreeMap;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Subnets (truncated to their network address), each with the tags of whoever holds it,
/// in insertion order.
pub(super) struct NetIndex<T> {
    nets: BTreeMap<IpNet, Vec<T>>,
}

impl<T: Copy> NetIndex<T> {
    pub fn new() -> Self {
        NetIndex {
            nets: BTreeMap::new(),
        }
    }

    /// Record that `tag` holds `net`.
    pub fn insert(&mut self, net: IpNet, tag: T) {
        self.nets.entry(net.trunc()).or_default().push(tag);
    }

    /// Every distinct indexed subnet that overlaps `net`, with its holders. Two prefixes
    /// overlap only when one contains the other, so these are the subnets containing `net`
    /// (at most one per prefix length) and those whose network address lies inside it.
    pub fn overlapping(&self, net: IpNet) -> Vec<(IpNet, &[T])> {
        let net = net.trunc();
        let mut found: Vec<(IpNet, &[T])> = (0..=net.prefix_len())
            .filter_map(|p| net_with_prefix(net, p))
            .filter_map(|n| self.nets.get_key_value(&n))
            .map(|(n, tags)| (*n, tags.as_slice()))
            .collect();
        let (first, last) = span(net);
        let inside = self.nets.range(first..=last);
        found.extend(
            inside
                .filter(|(n, _)| n.prefix_len() > net.prefix_len())
                .map(|(n, tags)| (*n, tags.as_slice())),
        );
        found
    }
}

/// `net` shortened to prefix length `p` (≤ its own), truncated.
fn net_with_prefix(net: IpNet, p: u8) -> Option<IpNet> {
    IpNet::new(net.network(), p).ok().map(|n| n.trunc())
}

/// The smallest and largest keys a subnet whose network address lies in `net` can have.
fn span(net: IpNet) -> (IpNet, IpNet) {
    match net {
        IpNet::V4(n) => (
            IpNet::V4(Ipv4Net::new_assert(n.network(), 0)),
            IpNet::V4(Ipv4Net::new_assert(n.broadcast(), 32)),
        ),
        IpNet::V6(n) => (
            IpNet::V6(Ipv6Net::new_assert(n.network(), 0)),
            IpNet::V6(Ipv6Net::new_assert(n.broadcast(), 128)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().expect("test subnet")
    }

    fn hits(index: &NetIndex<usize>, s: &str) -> Vec<usize> {
        let mut tags: Vec<usize> = index
            .overlapping(net(s))
            .into_iter()
            .flat_map(|(_, t)| t.iter().copied())
            .collect();
        tags.sort_unstable();
        tags
    }

    #[test]
    fn finds_containing_contained_and_equal() {
        let mut index = NetIndex::new();
        for (i, s) in [
            "10.0.0.0/8",
            "10.1.2.0/24",
            "10.1.2.1/24",
            "10.1.3.128/25",
            "192.168.0.0/16",
            "fd00::1/64",
            "0.0.0.0/0",
        ]
        .iter()
        .enumerate()
        {
            index.insert(net(s), i);
        }
        assert_eq!(hits(&index, "10.1.0.0/16"), vec![0, 1, 2, 3, 6]);
        assert_eq!(hits(&index, "10.1.2.77/32"), vec![0, 1, 2, 6]);
        assert_eq!(hits(&index, "10.1.3.0/25"), vec![0, 6]);
        assert_eq!(hits(&index, "172.16.0.0/12"), vec![6]);
        assert_eq!(hits(&index, "fd00::/8"), vec![5]);
        assert_eq!(hits(&index, "fd01::/64"), Vec::<usize>::new());
        assert_eq!(hits(&index, "0.0.0.0/0"), vec![0, 1, 2, 3, 4, 6]);
    }
}
