//! A forward's probe through the fake kernel: the packet goes only where the fake's state
//! lets it. It must be sent to an address of the host; other tables' base chains at the hooks
//! it crosses drop it when they have a drop policy or any `drop` rule (the fake does not
//! evaluate their matches); our table's dispatch map and the forward's DNAT rule (its address
//! and port matches) translate it and count it on the rule's named counter; and only a guest
//! on an up port of a bridge, whose address the host learned, answers: with what it serves
//! ([`FakeHost::serve`]), else a RST or an ICMP port unreachable. Nothing is canned.

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use serde_json::Value;

use super::FakeHost;
use crate::host::probe::{Probe, ProbeFrom, ProbeSeen, Reply};
use crate::model::forward::Proto;
use crate::plan::firewall::{FAMILY, TABLE_NAME};
use crate::state::Neighbour;

/// Where a packet of this path is, as the hooks see it.
fn hooks(from: &ProbeFrom, dnat: bool) -> &'static [&'static str] {
    match (from, dnat) {
        (ProbeFrom::Host, false) => &["output"],
        (ProbeFrom::Host, true) => &["postrouting", "prerouting", "input"],
        (_, false) => &["prerouting"],
        (_, true) => &["forward", "postrouting"],
    }
}

/// A foreign table's base chain at one of `at` that drops (by policy or by any rule).
fn dropped_at(ruleset: &Value, at: &[&str]) -> bool {
    let items = ruleset["nftables"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    items.iter().any(|i| {
        let c = &i["chain"];
        let (Some(family), Some(table), Some(hook)) = (
            c["family"].as_str(),
            c["table"].as_str(),
            c["hook"].as_str(),
        ) else {
            return false;
        };
        let foreign = !(family == FAMILY && table == TABLE_NAME) && matches!(family, "ip" | "inet");
        foreign
            && at.contains(&hook)
            && (c["policy"].as_str() == Some("drop")
                || items.iter().any(|r| {
                    let r = &r["rule"];
                    r["family"] == c["family"]
                        && r["table"] == c["table"]
                        && r["chain"] == c["name"]
                        && r["expr"].to_string().contains("\"drop\"")
                }))
    })
}

/// Whether port `port` lies in `v` (a number or `{"range": [a, b]}`).
fn port_in(v: &Value, port: u16) -> bool {
    match (v.as_u64(), v["range"].as_array()) {
        (Some(p), _) => p == u64::from(port),
        (None, Some(r)) => match (
            r.first().and_then(Value::as_u64),
            r.get(1).and_then(Value::as_u64),
        ) {
            (Some(a), Some(b)) => a <= u64::from(port) && u64::from(port) <= b,
            _ => false,
        },
        _ => false,
    }
}

/// Whether `ip` matches `right` (`"a.b.c.d"` or `{"prefix": {"addr", "len"}}`).
fn addr_in(right: &Value, ip: Ipv4Addr) -> bool {
    if let Some(a) = right.as_str() {
        return a.parse::<Ipv4Addr>().is_ok_and(|a| a == ip);
    }
    let p = &right["prefix"];
    match (
        p["addr"].as_str().and_then(|a| a.parse().ok()),
        p["len"].as_u64(),
    ) {
        (Some(a), Some(len)) => ipnet::Ipv4Net::new(a, len as u8).is_ok_and(|n| n.contains(&ip)),
        _ => false,
    }
}

/// Whether one rule's matches (the address and port ones; others pass) let `to` through.
fn rule_matches(expr: &[Value], proto: Proto, to: SocketAddrV4) -> bool {
    expr.iter().all(|e| {
        let m = &e["match"];
        if m.is_null() {
            return true;
        }
        let (left, op, right) = (&m["left"]["payload"], m["op"].as_str(), &m["right"]);
        let hit = match (left["protocol"].as_str(), left["field"].as_str()) {
            (Some("ip"), Some("daddr")) => addr_in(right, *to.ip()),
            (Some(p), Some("dport")) => p == proto.as_str() && port_in(right, to.port()),
            _ => return true,
        };
        if op == Some("!=") {
            !hit
        } else {
            hit
        }
    })
}

/// Our table's translation of `to`: the dispatch map's chain for its port, that chain's first
/// matching rule with a `dnat`; its counters and the new destination.
fn dnat(table: &Value, proto: Proto, to: SocketAddrV4) -> Option<(Vec<String>, SocketAddrV4)> {
    let items = table["nftables"].as_array()?;
    let map = format!("fwd_{proto}");
    let chain = items.iter().find_map(|i| {
        let m = &i["map"];
        (m["name"].as_str() == Some(map.as_str())).then_some(())?;
        m["elem"].as_array()?.iter().find_map(|e| {
            let pair = e.as_array()?;
            port_in(pair.first()?, to.port())
                .then(|| pair.get(1)?["jump"]["target"].as_str())
                .flatten()
        })
    })?;
    items.iter().find_map(|i| {
        let r = &i["rule"];
        (r["chain"].as_str() == Some(chain)).then_some(())?;
        let expr = r["expr"].as_array()?;
        if !rule_matches(expr, proto, to) {
            return None;
        }
        let d = expr.iter().find_map(|s| s.get("dnat"))?;
        let addr: Ipv4Addr = d["addr"].as_str()?.parse().ok()?;
        let port = match &d["port"] {
            Value::Null => to.port(),
            v if v.is_u64() => v.as_u64()? as u16,
            v => {
                let pairs = v["map"]["data"]["set"].as_array()?;
                pairs.iter().find_map(|p| {
                    (p[0].as_u64()? == u64::from(to.port())).then_some(p[1].as_u64()? as u16)
                })?
            }
        };
        let counters = expr
            .iter()
            .filter_map(|s| s["counter"].as_str().map(str::to_owned))
            .collect();
        Some((counters, SocketAddrV4::new(addr, port)))
    })
}

impl FakeHost {
    /// Makes the guest with MAC `mac` serve `proto` port `port` (it answers probes there).
    pub fn serve(&self, mac: &str, proto: Proto, port: u16) {
        self.inner()
            .services
            .push((mac.to_ascii_lowercase(), proto, port));
    }

    /// The probe through the fake kernel (see the module documentation).
    pub(super) fn probe_now(&self, probe: &Probe) -> ProbeSeen {
        let seen = |reply| ProbeSeen {
            reply,
            source: None,
            link: match &probe.from {
                ProbeFrom::Host => None,
                _ => Some("sypfake".to_owned()),
            },
            setup: Duration::ZERO,
        };
        let mut inner = self.inner();
        let to_host = inner
            .links
            .addrs
            .iter()
            .any(|a| a.net.addr() == IpAddr::V4(*probe.to.ip()));
        if !to_host {
            return seen(Reply::Nothing);
        }
        if let ProbeFrom::Bridge { bridge, .. } = &probe.from {
            if !inner.links.by_name(bridge).is_some_and(|b| b.info.admin_up) {
                return seen(Reply::Nothing);
            }
        }
        let ruleset = inner.nft.list_all();
        if dropped_at(&ruleset, hooks(&probe.from, false)) {
            return seen(Reply::Nothing);
        }
        let ours = inner.nft.list(FAMILY, TABLE_NAME).unwrap_or(Value::Null);
        let Some((counters, target)) = dnat(&ours, probe.proto, probe.to) else {
            // Nothing listens on the fake host itself.
            return seen(match probe.proto {
                Proto::Tcp => Reply::Rst,
                Proto::Udp => Reply::Icmp("port unreachable".into()),
            });
        };
        for c in &counters {
            inner.nft.count(c, 60);
        }
        if dropped_at(&ruleset, hooks(&probe.from, true)) {
            return seen(Reply::Nothing);
        }
        // The guest behind the target address: learned on a bridge, its port up.
        let links = &inner.links;
        let mac = links.neighbours.iter().find_map(|n| match n {
            Neighbour::Ip {
                ifindex,
                ip: IpAddr::V4(ip),
                mac: Some(mac),
            } if *ip == *target.ip()
                && links.links.get(ifindex).is_some_and(|l| l.info.admin_up) =>
            {
                Some(*mac)
            }
            _ => None,
        });
        let guest = mac.and_then(|mac| {
            inner.guests.iter().find(|g| {
                super::parse_mac(&g.mac) == Some(mac)
                    && links.links.get(&g.port).is_some_and(|l| l.info.admin_up)
            })
        });
        let Some(guest) = guest else {
            return seen(Reply::Nothing);
        };
        let serves = inner
            .services
            .iter()
            .any(|(m, p, port)| *m == guest.mac && *p == probe.proto && *port == target.port());
        seen(match (probe.proto, serves) {
            (Proto::Tcp, true) => Reply::SynAck,
            (Proto::Tcp, false) => Reply::Rst,
            (Proto::Udp, true) => Reply::Datagram,
            (Proto::Udp, false) => Reply::Icmp("port unreachable".into()),
        })
    }
}
