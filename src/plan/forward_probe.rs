//! `forward test`'s choices, pure: the /30 of the outside probe's link, the host address a
//! forward is probed at, the free address of the hairpin probe's port, and which other
//! tables at the hooks a probe crosses may have dropped it.

use std::collections::{BTreeSet, HashSet};
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};
use serde_json::Value;

use crate::plan::firewall::{FAMILY, TABLE_NAME};
use crate::state::HostState;

/// Where the outside probe's /30 comes from: 198.18.0.0/15, the block set aside for
/// benchmarking network devices (RFC 2544), which real networks rarely route.
pub fn probe_pool() -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::new(198, 18, 0, 0), 15).expect("a valid prefix")
}

/// A /30 of [`probe_pool`] that overlaps no route and no address of the host (`taken`;
/// default routes aside), searched from a place `seed` picks so that two tests at once
/// rarely try the same one. `None` when every /30 of the pool is taken.
pub fn probe_link(taken: &[IpNet], seed: u64) -> Option<Ipv4Net> {
    let pool = probe_pool();
    let taken: Vec<Ipv4Net> = taken
        .iter()
        .filter_map(|n| match n {
            IpNet::V4(n) if n.prefix_len() > 0 => Some(n.trunc()),
            _ => None,
        })
        .collect();
    let count = 1u64 << (30 - pool.prefix_len());
    let base = u32::from(pool.network());
    (0..count)
        .map(|i| (seed.wrapping_add(i) % count) as u32)
        .map(|i| Ipv4Net::new(Ipv4Addr::from(base + i * 4), 30).expect("a /30"))
        .find(|link| {
            !taken
                .iter()
                .any(|t| t.contains(&link.network()) || link.contains(&t.network()))
        })
}

/// What `probe_link` must not collide with: every route's destination and every address's
/// prefix of the host.
pub fn taken_prefixes(host: &HostState) -> Vec<IpNet> {
    let routes = host.routes.iter().map(|r| r.dest);
    routes
        .chain(host.addrs.iter().map(|a| a.net.trunc()))
        .collect()
}

/// The host address a forward is probed at: its own `wanted` address (which must be the
/// host's), else the host's IPv4 address on the interface of its default route, else its
/// first other IPv4 address; never loopback, link-local, or a `gateway` of our networks.
pub fn host_address(
    wanted: Option<Ipv4Addr>,
    host: &HostState,
    gateways: &[Ipv4Addr],
) -> Result<Ipv4Addr, String> {
    let ours: Vec<(u32, Ipv4Addr)> = host
        .addrs
        .iter()
        .filter_map(|a| match a.net.addr() {
            IpAddr::V4(ip) => Some((a.ifindex, ip)),
            IpAddr::V6(_) => None,
        })
        .collect();
    if let Some(w) = wanted {
        return if ours.iter().any(|(_, ip)| *ip == w) {
            Ok(w)
        } else {
            Err(format!(
                "the forward listens on {w}, which is not an address of this host"
            ))
        };
    }
    let usable: Vec<(u32, Ipv4Addr)> = ours
        .into_iter()
        .filter(|(_, ip)| !ip.is_loopback() && !ip.is_link_local() && !gateways.contains(ip))
        .collect();
    let uplinks: Vec<u32> = host
        .routes
        .iter()
        .filter(|r| r.dest.prefix_len() == 0 && r.dest.addr().is_ipv4())
        .filter_map(|r| r.oif)
        .collect();
    usable
        .iter()
        .find(|(i, _)| uplinks.contains(i))
        .or_else(|| usable.first())
        .map(|(_, ip)| *ip)
        .ok_or_else(|| {
            "the host has no IPv4 address to probe (other than loopback and our gateways)"
                .to_owned()
        })
}

/// The name of the interface that carries the host's IPv4 default route, if any.
pub fn uplink(host: &HostState) -> Option<&str> {
    let oif = host
        .routes
        .iter()
        .find(|r| r.dest.prefix_len() == 0 && r.dest.addr().is_ipv4())?
        .oif?;
    host.links
        .iter()
        .find(|l| l.ifindex == oif)
        .map(|l| l.name.as_str())
}

/// How many addresses [`free_address`] looks at in each pass, at most.
const SEARCH: u32 = 4096;

/// A free address of `subnet` for the hairpin probe's port: not its network or broadcast
/// address and none of `taken` (the gateway, leases, reservations, neighbours, the target),
/// searched from the top; outside the DHCP `ranges` when there is one, so dnsmasq does not
/// hand it out meanwhile.
pub fn free_address(
    subnet: Ipv4Net,
    taken: &BTreeSet<Ipv4Addr>,
    ranges: &[(Ipv4Addr, Ipv4Addr)],
) -> Option<Ipv4Addr> {
    let subnet = subnet.trunc();
    if subnet.prefix_len() > 30 {
        return None;
    }
    let first = u32::from(subnet.network()) + 1;
    let last = u32::from(subnet.broadcast()) - 1;
    let in_range = |ip: Ipv4Addr| ranges.iter().any(|(a, b)| *a <= ip && ip <= *b);
    let candidates = || {
        (first..=last)
            .rev()
            .take(SEARCH as usize)
            .map(Ipv4Addr::from)
            .filter(|ip| !taken.contains(ip))
    };
    candidates()
        .find(|ip| !in_range(*ip))
        .or_else(|| candidates().next())
}

/// A hook a probe crosses, and which of its chains count: those whose priority lies in
/// `prio` (before or after our DNAT at -100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookSpan {
    pub hook: &'static str,
    pub prio: (i64, i64),
}

impl HookSpan {
    pub const fn any(hook: &'static str) -> HookSpan {
        HookSpan {
            hook,
            prio: (i64::MIN, i64::MAX),
        }
    }

    /// Chains that see the packet before our DNAT (priority up to dstnat, -100).
    pub const fn before_dnat(hook: &'static str) -> HookSpan {
        HookSpan {
            hook,
            prio: (i64::MIN, -100),
        }
    }

    /// Chains that see the packet after our DNAT.
    pub const fn after_dnat(hook: &'static str) -> HookSpan {
        HookSpan {
            hook,
            prio: (-100, i64::MAX),
        }
    }
}

/// nft's named priorities, as numbers.
fn priority(v: &Value) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let s = v.as_str()?;
    let (name, offset) = match s.find(['+', '-']) {
        Some(at) => (
            s[..at].trim(),
            s[at..].replace(' ', "").parse::<i64>().ok()?,
        ),
        None => (s.trim(), 0),
    };
    let base = match name {
        "raw" => -300,
        "mangle" => -150,
        "dstnat" => -100,
        "filter" => 0,
        "security" => 50,
        "srcnat" => 100,
        _ => return None,
    };
    Some(base + offset)
}

/// Other tables' base chains, at the hooks in `spans`, that may drop an IPv4 packet: a drop
/// policy, or a `drop` or `reject` among their rules (or the rules of chains they jump to).
/// Rules are not evaluated: these are the candidates, each named as
/// `table FAMILY NAME (chain C at HOOK: policy drop)`.
pub fn droppers(ruleset: &Value, spans: &[HookSpan]) -> Vec<String> {
    let items = ruleset["nftables"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let ours = |family: &str, table: &str| family == FAMILY && table == TABLE_NAME;
    let mut out = Vec::new();
    for item in items {
        let c = &item["chain"];
        let (Some(family), Some(table), Some(name), Some(hook)) = (
            c["family"].as_str(),
            c["table"].as_str(),
            c["name"].as_str(),
            c["hook"].as_str(),
        ) else {
            continue;
        };
        if ours(family, table) || !matches!(family, "ip" | "inet") {
            continue;
        }
        let prio = priority(&c["prio"]).unwrap_or(0);
        let crossed = spans
            .iter()
            .any(|s| s.hook == hook && s.prio.0 <= prio && prio <= s.prio.1);
        if !crossed {
            continue;
        }
        let why = if c["policy"].as_str() == Some("drop") {
            Some("policy drop")
        } else if drops_in(items, family, table, name, &mut HashSet::new()) {
            Some("a rule drops")
        } else {
            None
        };
        if let Some(why) = why {
            out.push(format!(
                "table {family} {table} (chain {name} at {hook}: {why})"
            ));
        }
    }
    out
}

/// Whether a rule of chain `chain` (or of a chain it jumps or goes to) drops or rejects.
fn drops_in(
    items: &[Value],
    family: &str,
    table: &str,
    chain: &str,
    seen: &mut HashSet<String>,
) -> bool {
    if !seen.insert(chain.to_owned()) {
        return false;
    }
    let rules = items.iter().map(|i| &i["rule"]).filter(|r| {
        r["family"].as_str() == Some(family)
            && r["table"].as_str() == Some(table)
            && r["chain"].as_str() == Some(chain)
    });
    for rule in rules {
        let mut targets = Vec::new();
        if verdicts(&rule["expr"], &mut targets) {
            return true;
        }
        if targets
            .iter()
            .any(|t| drops_in(items, family, table, t, seen))
        {
            return true;
        }
    }
    false
}

/// Whether `v` holds a `drop` or `reject` statement; collects jump and goto targets.
fn verdicts(v: &Value, targets: &mut Vec<String>) -> bool {
    match v {
        Value::Array(list) => list.iter().any(|x| verdicts(x, targets)),
        Value::Object(map) => {
            let mut found = false;
            for (k, x) in map {
                match k.as_str() {
                    "drop" | "reject" => found = true,
                    "jump" | "goto" => {
                        if let Some(t) = x["target"].as_str() {
                            targets.push(t.to_owned());
                        }
                    }
                    _ => found |= verdicts(x, targets),
                }
            }
            found
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{AddrInfo, LinkInfo, LinkKind, RouteInfo};
    use serde_json::json;

    fn net(s: &str) -> IpNet {
        s.parse().expect("literal")
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().expect("literal")
    }

    fn host(addrs: &[(u32, &str)], default_via: Option<u32>) -> HostState {
        let mut h = HostState {
            addrs: addrs
                .iter()
                .map(|(i, a)| AddrInfo {
                    ifindex: *i,
                    net: net(a),
                })
                .collect(),
            ..HostState::default()
        };
        for (i, a) in addrs {
            h.routes.push(RouteInfo {
                dest: net(a).trunc(),
                gateway: None,
                oif: Some(*i),
                table: 254,
                protocol: 2,
            });
        }
        if let Some(i) = default_via {
            h.routes.push(RouteInfo {
                dest: net("0.0.0.0/0"),
                gateway: Some("203.0.113.1".parse().expect("literal")),
                oif: Some(i),
                table: 254,
                protocol: 4,
            });
            h.links.push(LinkInfo {
                ifindex: i,
                name: "eth0".into(),
                kind: LinkKind::Physical,
                master: None,
                parent: None,
                mac: None,
                mtu: 1500,
                admin_up: true,
                oper_state: "up".into(),
                stats: None,
                macvtap_mode: None,
                bridge: None,
                peer_netnsid: None,
            });
        }
        h
    }

    #[test]
    fn the_probe_link_avoids_every_route_and_address_but_the_default() {
        let taken = vec![net("0.0.0.0/0"), net("10.0.0.0/8")];
        let link = probe_link(&taken, 0).expect("free");
        assert_eq!(link, "198.18.0.0/30".parse::<Ipv4Net>().expect("literal"));
        // A route into the pool moves it on; a covering route takes the whole pool.
        let taken = vec![net("198.18.0.0/29"), net("198.18.0.9/32")];
        assert_eq!(
            probe_link(&taken, 0),
            Some("198.18.0.12/30".parse().expect("literal"))
        );
        assert_eq!(probe_link(&[net("198.16.0.0/12")], 7), None);
        // The seed picks where the search starts, and wraps around the pool's end.
        let last = (1u64 << 15) - 1;
        assert_eq!(
            probe_link(&[], last),
            Some("198.19.255.252/30".parse().expect("literal"))
        );
        assert_eq!(
            probe_link(&[net("198.19.255.252/30")], last),
            Some("198.18.0.0/30".parse().expect("literal"))
        );
    }

    #[test]
    fn the_host_address_is_the_forwards_own_else_the_uplinks() {
        let h = host(
            &[
                (1, "127.0.0.1/8"),
                (5, "192.168.150.1/24"),
                (2, "10.1.1.5/24"),
                (3, "203.0.113.2/24"),
                (4, "169.254.3.3/16"),
            ],
            Some(3),
        );
        let gw = [ip("192.168.150.1")];
        assert_eq!(host_address(None, &h, &gw), Ok(ip("203.0.113.2")));
        assert_eq!(
            host_address(Some(ip("10.1.1.5")), &h, &gw),
            Ok(ip("10.1.1.5"))
        );
        assert!(host_address(Some(ip("198.51.100.1")), &h, &gw)
            .expect_err("not the host's")
            .contains("not an address of this host"));
        // No default route: the first usable address; never a gateway, link-local or lo.
        let h = host(
            &[
                (1, "127.0.0.1/8"),
                (5, "192.168.150.1/24"),
                (2, "10.1.1.5/24"),
            ],
            None,
        );
        assert_eq!(host_address(None, &h, &gw), Ok(ip("10.1.1.5")));
        let h = host(&[(1, "127.0.0.1/8"), (5, "192.168.150.1/24")], None);
        assert!(host_address(None, &h, &gw).is_err());
        assert_eq!(
            uplink(&host(&[(3, "203.0.113.2/24")], Some(3))),
            Some("eth0")
        );
    }

    #[test]
    fn the_hairpin_address_is_free_and_outside_the_dhcp_range_when_it_can_be() {
        let subnet: Ipv4Net = "192.168.150.1/24".parse().expect("literal");
        let range = [(ip("192.168.150.100"), ip("192.168.150.200"))];
        let taken: BTreeSet<Ipv4Addr> = [ip("192.168.150.1"), ip("192.168.150.254")].into();
        assert_eq!(
            free_address(subnet, &taken, &range),
            Some(ip("192.168.150.253"))
        );
        // libvirt's default range covers the whole subnet: a free one inside it then.
        let whole = [(ip("192.168.150.2"), ip("192.168.150.254"))];
        assert_eq!(
            free_address(subnet, &taken, &whole),
            Some(ip("192.168.150.253"))
        );
        let all: BTreeSet<Ipv4Addr> = (1..=254).map(|i| Ipv4Addr::new(192, 168, 150, i)).collect();
        assert_eq!(free_address(subnet, &all, &range), None);
        let tiny: Ipv4Net = "10.0.0.1/30".parse().expect("literal");
        assert_eq!(
            free_address(tiny, &[ip("10.0.0.1")].into(), &[]),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            free_address("10.0.0.1/31".parse().expect("literal"), &taken, &[]),
            None
        );
    }

    #[test]
    fn droppers_name_other_tables_at_the_hooks_crossed() {
        let ruleset = json!({ "nftables": [
            { "metainfo": { "json_schema_version": 1 } },
            { "table": { "family": "inet", "name": "blocker" } },
            { "chain": { "family": "inet", "table": "blocker", "name": "fwd", "type": "filter",
                         "hook": "forward", "prio": 0, "policy": "accept" } },
            { "chain": { "family": "inet", "table": "blocker", "name": "deny", } },
            { "rule": { "family": "inet", "table": "blocker", "chain": "fwd",
                        "expr": [ { "jump": { "target": "deny" } } ] } },
            { "rule": { "family": "inet", "table": "blocker", "chain": "deny",
                        "expr": [ { "drop": null } ] } },
            { "chain": { "family": "ip", "table": "raw", "name": "pre", "type": "filter",
                         "hook": "prerouting", "prio": "raw", "policy": "drop" } },
            { "chain": { "family": "ip", "table": "late", "name": "pre", "type": "filter",
                         "hook": "prerouting", "prio": "filter + 10", "policy": "drop" } },
            { "chain": { "family": "inet", "table": "open", "name": "in", "type": "filter",
                         "hook": "input", "prio": 0, "policy": "accept" } },
            { "chain": { "family": "ip6", "table": "six", "name": "fwd", "type": "filter",
                         "hook": "forward", "prio": 0, "policy": "drop" } },
            { "chain": { "family": "inet", "table": "switchyard", "name": "base_forward",
                         "type": "filter", "hook": "forward", "prio": 0, "policy": "drop" } },
        ]});
        let before = droppers(&ruleset, &[HookSpan::before_dnat("prerouting")]);
        assert_eq!(
            before,
            vec!["table ip raw (chain pre at prerouting: policy drop)"]
        );
        let after = droppers(
            &ruleset,
            &[
                HookSpan::after_dnat("prerouting"),
                HookSpan::any("forward"),
                HookSpan::any("input"),
            ],
        );
        assert_eq!(
            after,
            vec![
                "table inet blocker (chain fwd at forward: a rule drops)",
                "table ip late (chain pre at prerouting: policy drop)",
            ]
        );
        assert_eq!(priority(&json!("dstnat - 5")), Some(-105));
        assert!(droppers(&json!({}), &[HookSpan::any("forward")]).is_empty());
    }
}
