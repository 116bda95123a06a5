//! `forward test`: a forward probed the three ways a user reaches it — from outside the host,
//! from the host itself, and from the network's own bridge (hairpin) — each through a
//! throwaway namespace or socket that is removed afterwards.
//!
//! The types here are the contract the CLI and the TUI read; the probing lives in `host/`.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use ipnet::{IpNet, Ipv4Net};
use serde::Serialize;

use super::{Backend, BackendError};
use crate::host::probe::{Probe, ProbeFrom, ProbeSeen, Reply};
use crate::host::Host;
use crate::model::forward::{self, Forward, PortRange, Proto};
use crate::model::{self, NetworkDef, Problem};
use crate::plan::firewall::forward_counters;
use crate::plan::forward_probe::{
    droppers, free_address, host_address, probe_link, taken_prefixes, uplink, HookSpan,
};
use crate::state::{HostState, Neighbour};

/// Which way a probe reached the forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbePath {
    /// From a throwaway namespace connected to the host by a probe link, to a host address.
    Outside,
    /// From the host itself, to its own address.
    Host,
    /// From a throwaway port on the network's bridge, to the host's address.
    Hairpin,
}

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// The guest answered: `how` is "SYN-ACK", "RST" or "reply" (UDP).
    Answered { how: String },
    /// No answer. `counter_hit` says whether the forward's DNAT counter moved (the rule was
    /// reached); `stopped_by` names what stopped the packet when that is known (another
    /// table's chain, no route, the guest not answering).
    NoAnswer {
        counter_hit: bool,
        stopped_by: Option<String>,
    },
    /// The probe could not run this way (no host address to aim at, no free address on the
    /// network, …).
    Skipped { reason: String },
}

/// One of the three probes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathResult {
    pub path: ProbePath,
    /// Where the probe was sent from and to, in words ("probe link 198.18.0.2",
    /// "192.0.2.10:8080").
    pub from: String,
    pub to: String,
    pub outcome: ProbeOutcome,
    /// A caveat for this path (the outside probe arrives on a probe link, not the uplink).
    pub note: Option<String>,
}

/// The report of `forward test`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardTest {
    pub network: String,
    pub forward: Forward,
    /// The target address the forward resolves to now.
    pub to: Option<Ipv4Addr>,
    pub paths: Vec<PathResult>,
}

/// How long each probe waits for its answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

impl ForwardTest {
    /// Whether every path reached the guest (it answered, even with a RST).
    pub fn all_answered(&self) -> bool {
        self.paths
            .iter()
            .all(|p| matches!(p.outcome, ProbeOutcome::Answered { .. }))
    }
}

/// What one probe's path crosses, for naming another table that may have dropped it: before
/// our DNAT (its counter did not move), and after.
fn spans(path: ProbePath, counter_hit: bool) -> Vec<HookSpan> {
    match (path, counter_hit) {
        (ProbePath::Host, false) => vec![HookSpan::before_dnat("output")],
        (ProbePath::Host, true) => vec![
            HookSpan::after_dnat("output"),
            HookSpan::any("postrouting"),
            HookSpan::any("prerouting"),
            HookSpan::any("input"),
        ],
        (_, false) => vec![HookSpan::before_dnat("prerouting")],
        (_, true) => vec![
            HookSpan::after_dnat("prerouting"),
            HookSpan::any("forward"),
            HookSpan::any("postrouting"),
        ],
    }
}

/// What a probe's reply means, given whether the forward's DNAT counter moved. An answer the
/// rule did not see came from something else (the host itself, another table's rule), not
/// the guest. `suspects` are the other tables at the hooks the packet crossed that may drop
/// it; `target` says why the guest may be silent (no ARP answer), when known.
pub fn interpret(
    proto: Proto,
    reply: &Reply,
    counter_hit: bool,
    suspects: &[String],
    target: Option<String>,
) -> ProbeOutcome {
    let blame = |fallback: String| -> Option<String> {
        if suspects.is_empty() {
            Some(fallback)
        } else {
            Some(format!("may be dropped by {}", suspects.join("; ")))
        }
    };
    let answered = |how: &str| ProbeOutcome::Answered { how: how.into() };
    if !counter_hit {
        let said = match reply {
            Reply::SynAck => Some("a SYN-ACK"),
            Reply::Rst => Some("a RST"),
            Reply::Datagram => Some("a reply"),
            Reply::Icmp(_) => Some("an ICMP error"),
            Reply::NotSent(_) | Reply::Nothing => None,
        };
        let why = match (reply, said) {
            (Reply::NotSent(e), _) => format!("not sent: {e}"),
            (_, Some(said)) => format!(
                "the forward's rule was not reached (its counter did not move): {said} came \
                 from something else, the host itself or another table's rule"
            ),
            (_, None) => "the forward's rule was not reached (its counter did not move)".into(),
        };
        return ProbeOutcome::NoAnswer {
            counter_hit: false,
            stopped_by: match reply {
                // Dropped on the way (or refused on the way out): the tables at those hooks.
                Reply::Nothing | Reply::NotSent(_) if !suspects.is_empty() => {
                    Some(format!("{why}; may be dropped by {}", suspects.join("; ")))
                }
                _ => Some(why),
            },
        };
    }
    match (proto, reply) {
        (Proto::Tcp, Reply::SynAck) => answered("SYN-ACK"),
        (Proto::Tcp, Reply::Rst) => answered("RST"),
        (Proto::Udp, Reply::Datagram) => answered("reply"),
        (Proto::Udp, Reply::Icmp(what)) => answered(&format!("ICMP {what}")),
        (_, Reply::Icmp(what)) => ProbeOutcome::NoAnswer {
            counter_hit: true,
            stopped_by: Some(match target {
                Some(why) => format!("rejected on the way (ICMP {what}); {why}"),
                None => format!("rejected on the way (ICMP {what})"),
            }),
        },
        (_, Reply::NotSent(e)) => ProbeOutcome::NoAnswer {
            counter_hit: true,
            stopped_by: Some(format!("not sent: {e}")),
        },
        (_, _) => {
            let silent = match proto {
                Proto::Tcp => "the guest did not answer within the timeout".to_owned(),
                Proto::Udp => "no reply within the timeout (a UDP service answers only what \
                               it understands, so this may be fine)"
                    .to_owned(),
            };
            let silent = match target {
                Some(why) => format!("{silent}; {why}"),
                None => silent,
            };
            ProbeOutcome::NoAnswer {
                counter_hit: true,
                stopped_by: blame(silent),
            }
        }
    }
}

/// Why the target may be silent, from the host's neighbour table: it did not answer ARP.
fn arp_silence(neighbours: &[Neighbour], to: Ipv4Addr) -> Option<String> {
    let failed = neighbours
        .iter()
        .any(|n| matches!(n, Neighbour::Ip { ip: IpAddr::V4(ip), mac: None, .. } if *ip == to));
    failed.then(|| format!("{to} does not answer ARP (is the guest up, with that address?)"))
}

/// A network's first IPv4 subnet (with its gateway's address), its DHCP ranges and its
/// reserved addresses.
struct Ipv4Side {
    net: Ipv4Net,
    ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    pins: Vec<Ipv4Addr>,
}

fn ipv4_of(def: &NetworkDef) -> Option<Ipv4Side> {
    def.ips.iter().find_map(|ip| {
        let IpNet::V4(net) = ip.net()? else {
            return None;
        };
        let ranges = ip
            .ranges()
            .iter()
            .filter_map(|r| match (r.start, r.end) {
                (IpAddr::V4(a), IpAddr::V4(b)) => Some((a, b)),
                _ => None,
            })
            .collect();
        let pins = ip
            .hosts()
            .iter()
            .filter_map(|h| match h.ip {
                Some(IpAddr::V4(a)) => Some(a),
                _ => None,
            })
            .collect();
        Some(Ipv4Side { net, ranges, pins })
    })
}

/// The IPv4 gateways of every network (a probe never aims at one).
fn gateways(defs: &[NetworkDef]) -> Vec<Ipv4Addr> {
    defs.iter()
        .flat_map(|d| d.ips.iter())
        .filter_map(|ip| match ip.address {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        })
        .collect()
}

/// One path to probe, or why it cannot be.
struct Planned {
    path: ProbePath,
    from: String,
    probe: Result<Probe, String>,
}

impl<H: Host> Backend<H> {
    /// `forward test`: probes the forward of `proto` on host port(s) `port` of a running
    /// network three ways, and leaves nothing behind. A range is probed at its first port.
    pub async fn test_forward(
        &self,
        network: &str,
        proto: Proto,
        port: PortRange,
    ) -> Result<ForwardTest, BackendError> {
        let stored = self.load_def(network)?;
        let find = |def: &NetworkDef| -> Result<Forward, BackendError> {
            let list = forward::forwards(def).map_err(|p| BackendError::Invalid(vec![p]))?;
            list.into_iter()
                .find(|f| f.proto == proto && f.port == port)
                .ok_or_else(|| {
                    BackendError::Invalid(vec![Problem::new(
                        "port",
                        format!("network {network} has no forward {proto}/{port}"),
                    )])
                })
        };
        let Some(rec) = self.record(network)? else {
            find(&stored)?;
            return Err(BackendError::NotActive(network.to_owned()));
        };
        // The forward as the network runs it (its rules are what the probes cross).
        let def = model::parse_network_xml(&rec.def_xml)?;
        let f = find(&def)?;
        let to = forward::target_address(&def, &f);
        let mut report = ForwardTest {
            network: network.to_owned(),
            forward: f.clone(),
            to,
            paths: Vec::new(),
        };
        let Some(target) = to else {
            for path in [ProbePath::Outside, ProbePath::Host, ProbePath::Hairpin] {
                report.paths.push(PathResult {
                    path,
                    from: String::new(),
                    to: String::new(),
                    outcome: ProbeOutcome::Skipped {
                        reason: "the forward's guest has no reserved address".into(),
                    },
                    note: None,
                });
            }
            return Ok(report);
        };
        let host = self.host().observe().await?;
        let mut defs: Vec<NetworkDef> = self
            .definitions()?
            .into_iter()
            .filter_map(|(_, d)| d.ok())
            .collect();
        defs.push(def.clone());
        let aim = host_address(f.address, &host, &gateways(&defs));
        let planned = self
            .plan_probes(network, &def, &f, target, &host, aim)
            .await?;
        let (counter, _) = forward_counters(network, proto, port.first);
        let mut ruleset = None;
        for p in planned {
            let to_text = match &p.probe {
                Ok(probe) => probe.to.to_string(),
                Err(_) => String::new(),
            };
            let probe = match p.probe {
                Ok(probe) => probe,
                Err(reason) => {
                    report.paths.push(PathResult {
                        path: p.path,
                        from: p.from,
                        to: to_text,
                        outcome: ProbeOutcome::Skipped { reason },
                        note: None,
                    });
                    continue;
                }
            };
            let before = self.counter(&counter).await;
            let seen = self.host().probe(&probe).await;
            let after = self.counter(&counter).await;
            let seen = match seen {
                Ok(seen) => seen,
                Err(e) => {
                    report.paths.push(PathResult {
                        path: p.path,
                        from: p.from,
                        to: to_text,
                        outcome: ProbeOutcome::Skipped {
                            reason: format!("the probe could not be set up: {e}"),
                        },
                        note: None,
                    });
                    continue;
                }
            };
            let hit = matches!((before, after), (Some(b), Some(a)) if a > b);
            let silent = !matches!(
                (&seen.reply, hit),
                (
                    Reply::SynAck | Reply::Rst | Reply::Datagram | Reply::Icmp(_),
                    true
                )
            );
            let suspects = if silent {
                if ruleset.is_none() {
                    ruleset = Some(self.host().nft_ruleset().await.unwrap_or_default());
                }
                droppers(ruleset.as_ref().expect("just read"), &spans(p.path, hit))
            } else {
                Vec::new()
            };
            let unanswered = !matches!(seen.reply, Reply::SynAck | Reply::Rst | Reply::Datagram);
            let arp = if unanswered && hit {
                let neighbours = self.host().dump_neighbours().await.unwrap_or_default();
                arp_silence(&neighbours, target)
            } else {
                None
            };
            let outcome = interpret(proto, &seen.reply, hit, &suspects, arp);
            report.paths.push(PathResult {
                path: p.path,
                from: from_text(&p.from, &seen),
                to: to_text,
                outcome,
                note: note(p.path, &seen, uplink(&host)),
            });
        }
        Ok(report)
    }

    /// The forward's DNAT counter now (new connections), if it can be read.
    async fn counter(&self, name: &str) -> Option<u64> {
        let counters = self.host().firewall_counters().await.ok()?;
        counters.get(name).map(|(packets, _)| *packets)
    }

    /// The three probes, each with where it comes from, or why it cannot run.
    async fn plan_probes(
        &self,
        network: &str,
        def: &NetworkDef,
        f: &Forward,
        target: Ipv4Addr,
        host: &HostState,
        aim: Result<Ipv4Addr, String>,
    ) -> Result<Vec<Planned>, BackendError> {
        let port = f.port.first;
        let probe = |from: ProbeFrom, to: Ipv4Addr| Probe {
            from,
            proto: f.proto,
            to: SocketAddrV4::new(to, port),
            timeout: PROBE_TIMEOUT,
        };
        // Where the search for a free /30 starts: two tests at once rarely pick the same.
        let wall = self.host().now().duration_since(std::time::UNIX_EPOCH);
        let seed = wall.map_or(0, |d| d.as_nanos() as u64 / 1000)
            ^ self.host().monotonic().as_nanos() as u64;
        let outside = aim.clone().and_then(|to| {
            let link = probe_link(&taken_prefixes(host), seed)
                .ok_or("every /30 of 198.18.0.0/15 is routed on this host")?;
            Ok(probe(ProbeFrom::Outside { link }, to))
        });
        let outside_from = match &outside {
            Ok(Probe {
                from: ProbeFrom::Outside { link },
                ..
            }) => format!("probe link {}", link.hosts().nth(1).unwrap_or(link.addr())),
            _ => "probe link".to_owned(),
        };
        let host_probe = aim.clone().map(|to| probe(ProbeFrom::Host, to));
        let hairpin = match (aim, def.bridge_name(), ipv4_of(def)) {
            (Err(e), _, _) => Err(e),
            (_, None, _) => Err("the network has no bridge".to_owned()),
            (_, _, None) => Err("the network has no IPv4 subnet".to_owned()),
            (Ok(to), Some(bridge), Some(Ipv4Side { net, ranges, pins })) => {
                let taken = self.taken_addresses(network, net, target, pins, host).await;
                match free_address(net, &taken, &ranges) {
                    None => Err(format!("no free address in {}", net.trunc())),
                    Some(addr) => Ok(probe(
                        ProbeFrom::Bridge {
                            bridge: bridge.to_owned(),
                            addr: Ipv4Net::new(addr, net.prefix_len()).unwrap_or(net),
                            gateway: net.addr(),
                        },
                        to,
                    )),
                }
            }
        };
        let hairpin_from = match &hairpin {
            Ok(Probe {
                from: ProbeFrom::Bridge { bridge, addr, .. },
                ..
            }) => format!("probe port {} on {bridge}", addr.addr()),
            _ => "probe port".to_owned(),
        };
        Ok(vec![
            Planned {
                path: ProbePath::Outside,
                from: outside_from,
                probe: outside,
            },
            Planned {
                path: ProbePath::Host,
                from: "the host".to_owned(),
                probe: host_probe,
            },
            Planned {
                path: ProbePath::Hairpin,
                from: hairpin_from,
                probe: hairpin,
            },
        ])
    }

    /// Addresses of the network a hairpin probe must not take: its gateway, the target,
    /// reservations, leases, the host's own, and every neighbour the host knows there.
    async fn taken_addresses(
        &self,
        network: &str,
        net: Ipv4Net,
        target: Ipv4Addr,
        pins: Vec<Ipv4Addr>,
        host: &HostState,
    ) -> BTreeSet<Ipv4Addr> {
        let mut taken: BTreeSet<Ipv4Addr> = pins.into_iter().collect();
        taken.insert(net.addr());
        taken.insert(target);
        let v4 = |ip: IpAddr| match ip {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        };
        taken.extend(host.addrs.iter().filter_map(|a| v4(a.net.addr())));
        let path = self.live_dnsmasq_paths(network).lease_file;
        if let Ok(Some(text)) = self.host().read_text(&path) {
            let leases = crate::telemetry::leases::parse_leases(&text).leases;
            taken.extend(leases.iter().filter_map(|l| v4(l.ip)));
        }
        for n in self.host().dump_neighbours().await.unwrap_or_default() {
            if let Neighbour::Ip { ip, .. } = n {
                taken.extend(v4(ip));
            }
        }
        taken
    }
}

/// Where a probe came from, in words, with the source the kernel chose when known.
fn from_text(planned: &str, seen: &ProbeSeen) -> String {
    match (planned, seen.source) {
        ("the host", Some(s)) => format!("the host ({})", s.ip()),
        _ => planned.to_owned(),
    }
}

/// The caveat of a path: the outside probe's link is not the uplink; a bridge under STP made
/// the hairpin probe wait.
fn note(path: ProbePath, seen: &ProbeSeen, uplink: Option<&str>) -> Option<String> {
    match path {
        ProbePath::Outside => {
            let link = seen.link.as_deref().unwrap_or("a probe link");
            let up = uplink.map_or("the uplink".to_owned(), |u| format!("the uplink {u}"));
            Some(format!(
                "arrived on {link}, not on {up}: rules tied to the uplink (a firewalld zone, \
                 `ufw … in on {}`) may treat real traffic differently",
                uplink.unwrap_or("eth0")
            ))
        }
        ProbePath::Hairpin if seen.setup >= Duration::from_secs(1) => Some(format!(
            "the bridge runs STP: the probe port took {:.1} s to forward",
            seen.setup.as_secs_f64()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_answer(hit: bool, by: &str) -> ProbeOutcome {
        ProbeOutcome::NoAnswer {
            counter_hit: hit,
            stopped_by: Some(by.to_owned()),
        }
    }

    #[test]
    fn replies_count_only_when_the_forwards_rule_saw_the_probe() {
        let tcp = Proto::Tcp;
        let udp = Proto::Udp;
        let icmp = Reply::Icmp("port unreachable".into());
        let answered = |how: &str| ProbeOutcome::Answered { how: how.into() };
        assert_eq!(
            interpret(tcp, &Reply::SynAck, true, &[], None),
            answered("SYN-ACK")
        );
        assert_eq!(
            interpret(tcp, &Reply::Rst, true, &[], None),
            answered("RST")
        );
        assert_eq!(
            interpret(udp, &Reply::Datagram, true, &[], None),
            answered("reply")
        );
        assert_eq!(
            interpret(udp, &icmp, true, &[], None),
            answered("ICMP port unreachable")
        );
        assert_eq!(
            interpret(tcp, &icmp, true, &[], None),
            no_answer(true, "rejected on the way (ICMP port unreachable)")
        );
        // The host's own RST, the rule not reached: not the guest.
        let ProbeOutcome::NoAnswer {
            counter_hit: false,
            stopped_by: Some(why),
        } = interpret(tcp, &Reply::Rst, false, &[], None)
        else {
            panic!("a RST without the rule is no answer");
        };
        assert!(why.contains("a RST came from something else"), "{why}");
        let suspects = vec!["table inet blocker (chain fwd at forward: a rule drops)".to_owned()];
        assert_eq!(
            interpret(tcp, &Reply::Nothing, true, &suspects, None),
            no_answer(
                true,
                "may be dropped by table inet blocker (chain fwd at forward: a rule drops)"
            )
        );
        assert_eq!(
            interpret(tcp, &Reply::Nothing, false, &[], None),
            no_answer(
                false,
                "the forward's rule was not reached (its counter did not move)"
            )
        );
        let raw = vec!["table ip raw (chain pre at prerouting: policy drop)".to_owned()];
        assert_eq!(
            interpret(tcp, &Reply::Nothing, false, &raw, None),
            no_answer(
                false,
                "the forward's rule was not reached (its counter did not move); may be \
                 dropped by table ip raw (chain pre at prerouting: policy drop)"
            )
        );
        let ProbeOutcome::NoAnswer {
            stopped_by: Some(why),
            ..
        } = interpret(
            tcp,
            &Reply::Nothing,
            true,
            &[],
            Some("x does not answer ARP".into()),
        )
        else {
            panic!("silence is no answer");
        };
        assert!(why.ends_with("; x does not answer ARP"), "{why}");
    }

    #[test]
    fn the_outside_note_names_the_uplink() {
        let seen = ProbeSeen {
            reply: Reply::SynAck,
            source: None,
            link: Some("syp0000000001h".into()),
            setup: Duration::ZERO,
        };
        let n = note(ProbePath::Outside, &seen, Some("enp1s0")).expect("a note");
        assert!(
            n.starts_with("arrived on syp0000000001h, not on the uplink enp1s0"),
            "{n}"
        );
        assert!(n.contains("`ufw … in on enp1s0`"), "{n}");
        assert_eq!(note(ProbePath::Host, &seen, Some("enp1s0")), None);
        assert_eq!(note(ProbePath::Hairpin, &seen, None), None);
    }
}
