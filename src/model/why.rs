//! `why` (pure): the trace of one probe packet, as `nft monitor trace` printed it, turned into
//! the path it took through every table and chain, the verdict, the chain that decided it, and
//! the command that opens the path for this bridge only.
//!
//! The host side ([`crate::host::trace`]) sends the probe and collects the lines; nothing here
//! touches the system. Table and chain names are foreign, hostile text: trace lines are matched
//! against the names the ruleset listing holds (nft prints them unquoted, spaces and all). A
//! fix is a list of argument vectors ([`Fix`]) that carry names verbatim, one word each, and
//! are run (by the TUI, when confirmed) without a shell; its printed text is rendered from
//! them, each word shell-quoted. Names nft's command line or iptables cannot take as a word
//! get no command at all.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Serialize;
use serde_json::Value;

/// Our table, and the chains the tracer adds to it for the probe's life.
pub const OUR_FAMILY: &str = "inet";
pub const OUR_TABLE: &str = "switchyard";
/// Prerouting, first of all: marks the probe flow (`meta nftrace set 1`).
pub const MARK_CHAIN: &str = "why_mark";
/// Forward, first: the routing decision forwarded the probe.
pub const FWD_CHAIN: &str = "why_fwd";
/// Input, first: the routing decision delivered it to the host.
pub const IN_CHAIN: &str = "why_in";
/// Postrouting, last: it left the host.
pub const POST_CHAIN: &str = "why_post";
/// Input, last: every input chain let it through.
pub const DONE_CHAIN: &str = "why_done";
/// Every chain the tracer adds.
pub const TRACE_CHAINS: [&str; 5] = [MARK_CHAIN, FWD_CHAIN, IN_CHAIN, POST_CHAIN, DONE_CHAIN];
/// Priorities of the tracer's chains: before and after anything a firewall uses.
pub const FIRST_PRIORITY: i32 = -2_147_483_000;
pub const LAST_PRIORITY: i32 = 2_147_483_000;

/// The probe's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WhyProto {
    Tcp,
    Udp,
    Icmp,
}

impl WhyProto {
    pub fn as_str(self) -> &'static str {
        match self {
            WhyProto::Tcp => "tcp",
            WhyProto::Udp => "udp",
            WhyProto::Icmp => "icmp",
        }
    }
}

impl std::str::FromStr for WhyProto {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tcp" => Ok(WhyProto::Tcp),
            "udp" => Ok(WhyProto::Udp),
            "icmp" => Ok(WhyProto::Icmp),
            other => Err(format!(
                "'{}' is not tcp, udp or icmp",
                other.escape_debug()
            )),
        }
    }
}

/// `ADDR[:PORT]`: an IPv4 address and an optional port.
pub fn parse_target(text: &str) -> Result<(Ipv4Addr, Option<u16>), String> {
    let bad = || format!("'{}' is not ADDR or ADDR:PORT", text.escape_debug());
    let (addr, port) = match text.split_once(':') {
        Some((a, p)) => (a, Some(p.parse::<u16>().map_err(|_| bad())?)),
        None => (text, None),
    };
    let addr = addr.parse::<Ipv4Addr>().map_err(|_| bad())?;
    if port == Some(0) {
        return Err(bad());
    }
    Ok((addr, port))
}

/// Which way the probe goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From a guest of the network toward `dst`.
    Outbound,
    /// From outside toward a guest (or a forward's host port).
    Inbound,
}

/// What is probed: one packet of `proto` from `src` to `dst[:dport]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub direction: Direction,
    pub proto: WhyProto,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub dport: Option<u16>,
    /// The network's bridge, and its IPv4 subnet.
    pub bridge: String,
    pub subnet: Ipv4Net,
    /// Inbound through a forward: the guest's port the forward leads to (the fix opens that
    /// one, as the forward chain sees it after the DNAT).
    pub guest_port: Option<u16>,
}

impl Probe {
    /// The port a TCP or UDP probe goes to (9, discard, when none was given).
    pub fn port(&self) -> u16 {
        self.dport.unwrap_or(9)
    }
}

/// The answer to `why`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    #[serde(rename = "delivered")]
    Delivered,
    #[serde(rename = "dropped")]
    Dropped,
    #[serde(rename = "rejected")]
    Rejected,
    #[serde(rename = "no route")]
    NoRoute,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Delivered => "delivered",
            Verdict::Dropped => "dropped",
            Verdict::Rejected => "rejected",
            Verdict::NoRoute => "no route",
        }
    }
}

/// The chain (and rule, or policy) that decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct By {
    pub family: String,
    pub table: String,
    pub chain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<u64>,
}

/// One chain the probe passed, at its hook, with the verdict it had there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub hook: String,
    pub family: String,
    pub table: String,
    pub chain: String,
    pub verdict: String,
}

/// `why`'s report; its JSON is the issue's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhyReport {
    pub verdict: Verdict,
    pub by: Option<By>,
    pub path: Vec<Hop>,
    /// What opens the path: words and the exact commands (the JSON has its text).
    pub fix: Option<Fix>,
}

/// The tracer's chains and the marking rule, as one nft JSON transaction: a chain first in
/// prerouting whose one rule sets `meta nftrace` for exactly the probe's flow, and empty
/// marker chains first in forward and input and last in postrouting and input (passing them
/// says where routing sent the probe, and that it got through).
pub fn trace_doc(probe: &Probe) -> Value {
    let chain = |name: &str, hook: &str, prio: i32| {
        serde_json::json!({"add": {"chain": {
            "family": OUR_FAMILY, "table": OUR_TABLE, "name": name,
            "type": "filter", "hook": hook, "prio": prio, "policy": "accept"}}})
    };
    let payload = |proto: &str, field: &str, right: Value| {
        serde_json::json!({"match": {"op": "==",
            "left": {"payload": {"protocol": proto, "field": field}}, "right": right}})
    };
    let mut expr = vec![
        payload("ip", "saddr", Value::from(probe.src.to_string())),
        payload("ip", "daddr", Value::from(probe.dst.to_string())),
        serde_json::json!({"match": {"op": "==", "left": {"meta": {"key": "l4proto"}},
            "right": probe.proto.as_str()}}),
    ];
    if probe.proto != WhyProto::Icmp {
        expr.push(payload("th", "dport", Value::from(probe.port())));
    }
    expr.push(serde_json::json!({"mangle": {"key": {"meta": {"key": "nftrace"}}, "value": 1}}));
    serde_json::json!({"nftables": [
        chain(MARK_CHAIN, "prerouting", FIRST_PRIORITY),
        chain(FWD_CHAIN, "forward", FIRST_PRIORITY),
        chain(IN_CHAIN, "input", FIRST_PRIORITY),
        chain(POST_CHAIN, "postrouting", LAST_PRIORITY),
        chain(DONE_CHAIN, "input", LAST_PRIORITY),
        {"add": {"rule": {"family": OUR_FAMILY, "table": OUR_TABLE, "chain": MARK_CHAIN,
            "expr": expr}}},
    ]})
}

/// Deletes the tracer's chains that `ruleset` holds (with their rules), as one transaction; `None` when there are none.
pub fn untrace_doc(ruleset: &Ruleset) -> Option<Value> {
    let cmds: Vec<Value> = TRACE_CHAINS
        .iter()
        .filter(|c| ruleset.chain(OUR_FAMILY, OUR_TABLE, c).is_some())
        .flat_map(|c| remove_chain(c))
        .collect();
    (!cmds.is_empty()).then(|| serde_json::json!({ "nftables": cmds }))
}

/// Deletes every tracer chain, whether or not it is there to be seen (the teardown, which must
/// not depend on a listing).
pub fn untrace_all_doc() -> Value {
    let cmds: Vec<Value> = TRACE_CHAINS.iter().flat_map(|c| remove_chain(c)).collect();
    serde_json::json!({ "nftables": cmds })
}

/// Flush, then delete, one chain of ours (older kernels refuse to delete a chain that still
/// holds rules).
fn remove_chain(name: &str) -> [Value; 2] {
    let chain = serde_json::json!({"family": OUR_FAMILY, "table": OUR_TABLE, "name": name});
    [
        serde_json::json!({"flush": {"chain": chain.clone()}}),
        serde_json::json!({"delete": {"chain": chain}}),
    ]
}

// ---------------------------------------------------------------------------------------------
// The ruleset, as `nft -j list ruleset` lists it.

/// One chain of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainInfo {
    pub family: String,
    pub table: String,
    pub name: String,
    /// Base chains only.
    pub hook: Option<String>,
    pub prio: Option<i64>,
    pub policy: Option<String>,
}

/// One rule of the listing.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInfo {
    pub family: String,
    pub table: String,
    pub chain: String,
    pub handle: u64,
    pub expr: Vec<Value>,
}

impl RuleInfo {
    /// Whether its verdict is a reject (the trace says "drop" for both).
    pub fn rejects(&self) -> bool {
        self.expr.iter().any(|e| e.get("reject").is_some())
    }
}

/// Every table's chains and rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ruleset {
    pub tables: Vec<(String, String)>,
    pub chains: Vec<ChainInfo>,
    pub rules: Vec<RuleInfo>,
}

impl Ruleset {
    /// Parses `nft -j list ruleset` (empty text: an empty ruleset).
    pub fn parse(json: &str) -> Result<Ruleset, String> {
        if json.trim().is_empty() {
            return Ok(Ruleset::default());
        }
        let doc: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Ok(Ruleset::from_value(&doc))
    }

    /// Reads a listing already parsed as JSON.
    pub fn from_value(doc: &Value) -> Ruleset {
        let mut out = Ruleset::default();
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        for item in doc["nftables"].as_array().into_iter().flatten() {
            if let Some(t) = item.get("table") {
                if let (Some(f), Some(n)) = (s(t, "family"), s(t, "name")) {
                    out.tables.push((f, n));
                }
            } else if let Some(c) = item.get("chain") {
                let (Some(family), Some(table), Some(name)) =
                    (s(c, "family"), s(c, "table"), s(c, "name"))
                else {
                    continue;
                };
                out.chains.push(ChainInfo {
                    family,
                    table,
                    name,
                    hook: s(c, "hook"),
                    prio: c.get("prio").and_then(Value::as_i64),
                    policy: s(c, "policy"),
                });
            } else if let Some(r) = item.get("rule") {
                let (Some(family), Some(table), Some(chain), Some(handle)) = (
                    s(r, "family"),
                    s(r, "table"),
                    s(r, "chain"),
                    r.get("handle").and_then(Value::as_u64),
                ) else {
                    continue;
                };
                out.rules.push(RuleInfo {
                    family,
                    table,
                    chain,
                    handle,
                    expr: r["expr"].as_array().cloned().unwrap_or_default(),
                });
            }
        }
        out
    }

    pub fn chain(&self, family: &str, table: &str, name: &str) -> Option<&ChainInfo> {
        self.chains
            .iter()
            .find(|c| c.family == family && c.table == table && c.name == name)
    }

    pub fn rule(&self, family: &str, table: &str, chain: &str, handle: u64) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| {
            r.family == family && r.table == table && r.chain == chain && r.handle == handle
        })
    }

    pub fn rules_of<'a>(
        &'a self,
        family: &'a str,
        table: &'a str,
        chain: &'a str,
    ) -> impl Iterator<Item = &'a RuleInfo> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.family == family && r.table == table && r.chain == chain)
    }

    fn has_chain_named(&self, family: &str, table: &str, pred: impl Fn(&str) -> bool) -> bool {
        self.chains
            .iter()
            .any(|c| c.family == family && c.table == table && pred(&c.name))
    }
}

// ---------------------------------------------------------------------------------------------
// Trace lines.

/// What one trace line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `packet: …` (the chain was entered), with the packet's headers as nft printed them.
    Packet(String),
    /// A rule matched: its text, handle and verdict (`accept`, `drop`, `jump X`, `continue`…).
    Rule {
        text: String,
        handle: Option<u64>,
        verdict: String,
    },
    /// The base chain's policy was applied.
    Policy(String),
    /// A verdict without a rule (the end of a regular chain: `continue`/`return`).
    Verdict(String),
}

/// One trace line of a known chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    pub id: String,
    pub family: String,
    pub table: String,
    pub chain: String,
    pub kind: EventKind,
}

/// Parses one line of `nft -a monitor` (`trace id ID FAMILY TABLE CHAIN …`); `None` for other
/// lines and for chains the listing does not hold. Names are matched against the listing, the
/// longest first, since nft prints them unquoted.
pub fn parse_trace_line(line: &str, ruleset: &Ruleset) -> Option<TraceEvent> {
    let rest = line.strip_prefix("trace id ")?;
    let (id, rest) = rest.split_once(' ')?;
    let mut best: Option<(&ChainInfo, &str)> = None;
    for c in &ruleset.chains {
        let Some(tail) = rest
            .strip_prefix(c.family.as_str())
            .and_then(|t| t.strip_prefix(' '))
            .and_then(|t| t.strip_prefix(c.table.as_str()))
            .and_then(|t| t.strip_prefix(' '))
            .and_then(|t| t.strip_prefix(c.name.as_str()))
            .and_then(|t| t.strip_prefix(' '))
        else {
            continue;
        };
        let len = c.table.len() + c.name.len();
        if best.is_none_or(|(b, _)| b.table.len() + b.name.len() < len) {
            best = Some((c, tail));
        }
    }
    let (chain, tail) = best?;
    let tail = tail.trim_end();
    let kind = if let Some(p) = tail.strip_prefix("packet:") {
        EventKind::Packet(p.trim().to_owned())
    } else if let Some(p) = tail.strip_prefix("policy ") {
        EventKind::Policy(p.trim().to_owned())
    } else if let Some(v) = tail.strip_prefix("verdict ") {
        EventKind::Verdict(v.trim().to_owned())
    } else if let Some(r) = tail.strip_prefix("rule ") {
        let (body, verdict) = r.rsplit_once(" (verdict ")?;
        let verdict = verdict.strip_suffix(')')?.to_owned();
        let (text, handle) = match body.rsplit_once(" # handle ") {
            Some((t, h)) => (t.to_owned(), h.trim().parse().ok()),
            None => (body.to_owned(), None),
        };
        EventKind::Rule {
            text,
            handle,
            verdict,
        }
    } else {
        return None;
    };
    Some(TraceEvent {
        id: id.to_owned(),
        family: chain.family.clone(),
        table: chain.table.clone(),
        chain: chain.name.clone(),
        kind,
    })
}

/// The events of the probe's packet. The kernel gives a packet a new trace id at each hook
/// it reaches after routing, so the packet is followed by its IP identification instead,
/// which forwarding and NAT keep: every id whose `packet:` line has the `ip id` of the
/// first packet our marking chain saw (later ones — a TCP retransmission — are other
/// packets; so are packets someone else's tracing marks).
pub fn probe_events(events: &[TraceEvent]) -> Vec<TraceEvent> {
    let ip_id = |e: &TraceEvent| match &e.kind {
        EventKind::Packet(p) => {
            let words: Vec<&str> = p.split_whitespace().collect();
            words
                .windows(3)
                .find(|w| w[0] == "ip" && w[1] == "id")
                .map(|w| w[2].to_owned())
        }
        _ => None,
    };
    let Some(first) = events
        .iter()
        .find(|e| is_ours(e) && e.chain == MARK_CHAIN && ip_id(e).is_some())
    else {
        return Vec::new();
    };
    let want = ip_id(first);
    let ids: BTreeSet<&str> = events
        .iter()
        .filter(|e| ip_id(e) == want)
        .map(|e| e.id.as_str())
        .collect();
    let start = events
        .iter()
        .position(|e| std::ptr::eq(e, first))
        .unwrap_or(0);
    events[start..]
        .iter()
        .filter(|e| ids.contains(e.id.as_str()))
        .cloned()
        .collect()
}

fn is_ours(e: &TraceEvent) -> bool {
    e.family == OUR_FAMILY && e.table == OUR_TABLE
}

fn is_tracer(e: &TraceEvent) -> bool {
    is_ours(e) && TRACE_CHAINS.contains(&e.chain.as_str())
}

// ---------------------------------------------------------------------------------------------
// The host around the trace.

/// iptables-legacy tables: their rules run in the same hooks but are invisible to nftables
/// tracing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Legacy {
    /// Table names from `/proc/net/ip_tables_names`.
    pub tables: Vec<String>,
    /// `iptables-legacy-save`'s output, when the program is there.
    pub save: Option<String>,
}

impl Legacy {
    /// Built-in chains of the legacy tables whose policy drops, as (table, chain).
    pub fn drop_policies(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut table = String::new();
        for line in self.save.as_deref().unwrap_or_default().lines() {
            if let Some(t) = line.strip_prefix('*') {
                table = t.trim().to_owned();
            } else if let Some(c) = line.strip_prefix(':') {
                let mut words = c.split_whitespace();
                if let (Some(chain), Some("DROP")) = (words.next(), words.next()) {
                    out.push((table.clone(), chain.to_owned()));
                }
            }
        }
        out
    }

    /// Rules (`-A …`) in the legacy tables.
    pub fn rule_count(&self) -> usize {
        self.save
            .as_deref()
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("-A "))
            .count()
    }

    /// Whether legacy tables may affect traffic: they exist, and either the save output shows
    /// rules or drop policies, or it could not be read.
    pub fn in_use(&self) -> bool {
        !self.tables.is_empty()
            && match &self.save {
                None => true,
                Some(_) => self.rule_count() > 0 || !self.drop_policies().is_empty(),
            }
    }
}

/// What the verdict and the fix need besides the trace.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub ruleset: Ruleset,
    pub legacy: Legacy,
    /// `net.bridge.bridge-nf-call-iptables` is 1 (bridged traffic passes the IP hooks).
    pub br_netfilter: bool,
    /// `net.ipv4.ip_forward` is 1.
    pub ip_forward: bool,
}

/// What a trace came to, read from the probe's events (see [`probe_events`]).
pub fn report(events: &[TraceEvent], probe: &Probe, ctx: &Context) -> WhyReport {
    let path = hops(events, &ctx.ruleset);
    let reached = |chain: &str| events.iter().any(|e| is_ours(e) && e.chain == chain);
    // The first drop or reject, in our table or anyone's.
    let decided = events.iter().find_map(|e| {
        if is_tracer(e) {
            return None;
        }
        match &e.kind {
            EventKind::Rule {
                text,
                handle,
                verdict,
            } if verdict == "drop" => {
                let rejects = handle
                    .and_then(|h| ctx.ruleset.rule(&e.family, &e.table, &e.chain, h))
                    .map(RuleInfo::rejects)
                    .unwrap_or_else(|| text.contains("reject"));
                Some((
                    if rejects {
                        Verdict::Rejected
                    } else {
                        Verdict::Dropped
                    },
                    By {
                        family: e.family.clone(),
                        table: e.table.clone(),
                        chain: e.chain.clone(),
                        rule: Some(text.clone()),
                        policy: None,
                        handle: *handle,
                    },
                ))
            }
            EventKind::Policy(p) if p == "drop" => Some((
                Verdict::Dropped,
                By {
                    family: e.family.clone(),
                    table: e.table.clone(),
                    chain: e.chain.clone(),
                    rule: None,
                    policy: Some(p.clone()),
                    handle: None,
                },
            )),
            _ => None,
        }
    });
    let local = reached(IN_CHAIN);
    if let Some((verdict, by)) = decided {
        let fix = fix_for(&by, probe, ctx, local);
        return WhyReport {
            verdict,
            by: Some(by),
            path,
            fix,
        };
    }
    if reached(POST_CHAIN) || reached(DONE_CHAIN) {
        return WhyReport {
            verdict: Verdict::Delivered,
            by: None,
            path,
            fix: None,
        };
    }
    // Nothing traced dropped it, yet it did not get through.
    let hook = if local {
        Some("INPUT")
    } else if reached(FWD_CHAIN) {
        Some("FORWARD")
    } else {
        None
    };
    if ctx.legacy.in_use() {
        let policies = ctx.legacy.drop_policies();
        let chain = hook
            .map(str::to_owned)
            .or_else(|| policies.first().map(|(_, c)| c.clone()))
            .unwrap_or_else(|| "PREROUTING".into());
        let table = policies
            .iter()
            .find(|(_, c)| *c == chain)
            .map(|(t, _)| t.clone())
            .unwrap_or_else(|| "filter".into());
        let policy = policies
            .iter()
            .any(|(t, c)| *t == table && *c == chain)
            .then(|| "drop".to_owned());
        let fix = legacy_fix(&chain, probe);
        return WhyReport {
            verdict: Verdict::Dropped,
            by: Some(By {
                family: "ip".into(),
                table: format!("{table} (iptables-legacy)"),
                chain,
                rule: policy.is_none().then(|| {
                    "a rule of iptables-legacy (invisible to nftables tracing)".to_owned()
                }),
                policy,
                handle: None,
            }),
            path,
            fix: Some(fix),
        };
    }
    if hook.is_none() {
        let fix = if !ctx.ip_forward && !probe.subnet.contains(&probe.dst) {
            // Host-wide, not for this bridge only: shown, never run (no program of
            // FIX_PROGRAMS).
            Fix::run(vec![words(["sysctl", "-w", "net.ipv4.ip_forward=1"])])
                .after("forwarding is off on this host")
        } else {
            Fix::words(format!(
                "the host has no route to {}: check `ip route get {}`",
                probe.dst, probe.dst
            ))
        };
        return WhyReport {
            verdict: Verdict::NoRoute,
            by: None,
            path,
            fix: Some(fix),
        };
    }
    // Reached forward or input, passed every traced chain, and vanished: something outside
    // nftables (a queue, a bridge or netdev table before our mark, a routing failure after
    // the filter).
    let last = path.last().cloned();
    WhyReport {
        verdict: Verdict::Dropped,
        by: last.map(|h| By {
            family: h.family,
            table: h.table,
            chain: h.chain,
            rule: Some(format!(
                "the packet went no further after this chain ({})",
                h.verdict
            )),
            policy: None,
            handle: None,
        }),
        path,
        fix: None,
    }
}

/// The chains passed, one hop per visit, with the hook each belongs to.
pub fn hops(events: &[TraceEvent], ruleset: &Ruleset) -> Vec<Hop> {
    let mut out: Vec<Hop> = Vec::new();
    let mut hook = String::new();
    let mut open = false;
    for (i, e) in events.iter().enumerate() {
        if let Some(h) = ruleset
            .chain(&e.family, &e.table, &e.chain)
            .and_then(|c| c.hook.clone())
        {
            hook = h;
        }
        if is_tracer(e) {
            continue;
        }
        let same = out.last().is_some_and(|h| {
            open && h.family == e.family && h.table == e.table && h.chain == e.chain
        });
        let verdict = match &e.kind {
            EventKind::Packet(_) => None,
            EventKind::Rule {
                verdict, handle, ..
            } => {
                let rejects = handle
                    .and_then(|h| ruleset.rule(&e.family, &e.table, &e.chain, h))
                    .is_some_and(RuleInfo::rejects);
                Some(if verdict == "drop" && rejects {
                    "reject".to_owned()
                } else {
                    verdict.clone()
                })
            }
            EventKind::Policy(p) => Some(format!("policy {p}")),
            EventKind::Verdict(v) => Some(v.clone()),
        };
        if !same {
            out.push(Hop {
                hook: hook.clone(),
                family: e.family.clone(),
                table: e.table.clone(),
                chain: e.chain.clone(),
                verdict: "entered".into(),
            });
        }
        let hop = out.last_mut().expect("pushed");
        if let Some(v) = verdict {
            // A jump leaves this visit; the chain's next events are a new visit.
            let target = v
                .strip_prefix("jump ")
                .or_else(|| v.strip_prefix("goto "))
                .map(str::to_owned);
            open = target.is_none();
            hop.verdict = v;
            // A chain jumped to where no rule matched prints nothing: it was passed all the
            // same.
            let next_in_target = events
                .get(i + 1)
                .is_some_and(|n| Some(&n.chain) == target.as_ref() && n.table == e.table);
            if let (Some(t), false) = (target, next_in_target) {
                out.push(Hop {
                    hook: hook.clone(),
                    family: e.family.clone(),
                    table: e.table.clone(),
                    chain: t,
                    verdict: "return (no rule matched)".into(),
                });
            }
        } else {
            open = true;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Fix-it knowledge.

/// Who made a table, as far as its shape tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    Docker,
    Firewalld,
    Ufw,
    /// iptables (through iptables-nft) without Docker's or ufw's chains.
    Iptables,
    Switchyard,
    /// Any other nftables table.
    Nftables,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Docker => "Docker",
            Owner::Firewalld => "firewalld",
            Owner::Ufw => "ufw",
            Owner::Iptables => "iptables",
            Owner::Switchyard => "switchyard",
            Owner::Nftables => "nftables",
        }
    }
}

/// Recognises the table `family table` by its chains.
pub fn owner(ruleset: &Ruleset, family: &str, table: &str) -> Owner {
    if family == OUR_FAMILY && table == OUR_TABLE {
        return Owner::Switchyard;
    }
    if family == "inet" && table == "firewalld" {
        return Owner::Firewalld;
    }
    if matches!(family, "ip" | "ip6") {
        if ruleset.has_chain_named(family, table, |n| n.starts_with("DOCKER")) {
            return Owner::Docker;
        }
        if ruleset.has_chain_named(family, table, |n| n.starts_with("ufw-")) {
            return Owner::Ufw;
        }
        if ["filter", "nat", "mangle", "raw", "security"].contains(&table)
            && ruleset.has_chain_named(family, table, |n| {
                ["INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"].contains(&n)
            })
        {
            return Owner::Iptables;
        }
    }
    Owner::Nftables
}

/// Foreign text (a table, chain or bridge name, a fix's words) for a terminal: control
/// characters escaped, everything else, quotes included, kept as it is.
pub fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `text` as one shell word.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c))
    {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A table or chain name as nft's command line takes it: bare, and only when it is an
/// identifier (nft 1.0 takes no quoted names there); `None` otherwise.
pub fn nft_ident(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
    ok.then(|| name.to_owned())
}

/// An nft family name; `None` for anything else.
fn nft_family(name: &str) -> Option<String> {
    ["ip", "ip6", "inet", "arp", "bridge", "netdev"]
        .contains(&name)
        .then(|| name.to_owned())
}

/// The programs a fix may run, and the only ones switchyard runs when the operator confirms a
/// fix in the TUI (see [`check_fix`]). A fix with another program (`sysctl`,
/// `iptables-legacy`) is shown for the operator to run, never run.
pub const FIX_PROGRAMS: [&str; 5] = ["iptables", "ip6tables", "ufw", "firewall-cmd", "nft"];

/// What opens a path: advice in words around the exact commands, each an argument vector run
/// without a shell, in order. The text ([`Fix::text`], and the JSON's `fix`) is rendered
/// from the vectors, each word shell-quoted, so what is shown and what is run cannot differ.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fix {
    /// Words before the commands; the whole advice when there are none.
    pub lead: String,
    /// The commands, each `[program, arg, …]`; run one after the other, stopping at the first
    /// that fails (the text joins them with `&&`).
    pub commands: Vec<Vec<String>>,
    /// Words after the commands, as they are (`" (br_netfilter …)"`, `"; note: …"`).
    pub tail: String,
}

impl Fix {
    /// Advice in words, with nothing to run.
    pub fn words(text: impl Into<String>) -> Fix {
        Fix {
            lead: text.into(),
            ..Fix::default()
        }
    }

    /// Commands to run, without words around them.
    pub fn run(commands: Vec<Vec<String>>) -> Fix {
        Fix {
            commands,
            ..Fix::default()
        }
    }

    /// The same commands, after `lead`.
    fn after(mut self, lead: impl Into<String>) -> Fix {
        self.lead = lead.into();
        self
    }

    /// The same, with `text` appended to the words after the commands.
    fn then(mut self, text: &str) -> Fix {
        self.push_note(text);
        self
    }

    /// Appends words after the commands.
    pub fn push_note(&mut self, text: &str) {
        self.tail.push_str(text);
    }

    /// One command as a shell would take it: every word shell-quoted.
    pub fn command_text(argv: &[String]) -> String {
        argv.iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The advice as one line: `lead: cmd && cmd tail`.
    pub fn text(&self) -> String {
        let cmds = self
            .commands
            .iter()
            .map(|c| Fix::command_text(c))
            .collect::<Vec<_>>()
            .join(" && ");
        let mut out = self.lead.clone();
        if !cmds.is_empty() {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&cmds);
        }
        out.push_str(&self.tail);
        out
    }

    /// Whether switchyard may run it when the operator confirms: it has commands and
    /// [`check_fix`] passes them.
    pub fn runnable(&self) -> bool {
        check_fix(&self.commands).is_ok()
    }
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

/// The JSON's `fix` is the text, as the issue documents it.
impl Serialize for Fix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

/// Whether `commands` may be run as a fix: at least one, each with a program of
/// [`FIX_PROGRAMS`] named bare (no path), and no word holding a NUL (which no argument
/// vector can carry). The host checks this again right before it spawns anything.
pub fn check_fix(commands: &[Vec<String>]) -> Result<(), String> {
    if commands.is_empty() {
        return Err("the fix has no command to run".into());
    }
    for argv in commands {
        let Some(program) = argv.first() else {
            return Err("a command of the fix is empty".into());
        };
        if !FIX_PROGRAMS.contains(&program.as_str()) {
            return Err(format!(
                "'{}' is not a program switchyard runs as a fix (only {})",
                program.escape_debug(),
                FIX_PROGRAMS.join(", ")
            ));
        }
        if argv.iter().any(|w| w.contains('\0')) {
            return Err(format!("a word of the {program} command holds a NUL byte"));
        }
    }
    Ok(())
}

fn words<const N: usize>(ws: [&str; N]) -> Vec<String> {
    ws.iter().map(|w| (*w).to_owned()).collect()
}

/// The two iptables rules, each `at` (the program and chain) followed by its match, that let
/// traffic from `br` through and the replies back to it.
fn bridge_in_and_replies(at: &[String], br: &str) -> Vec<Vec<String>> {
    let with = |tail: Vec<String>| -> Vec<String> { at.iter().cloned().chain(tail).collect() };
    vec![
        with(words(["-i", br, "-j", "ACCEPT"])),
        with(words([
            "-o",
            br,
            "-m",
            "conntrack",
            "--ctstate",
            "RELATED,ESTABLISHED",
            "-j",
            "ACCEPT",
        ])),
    ]
}

/// A table or chain name as an iptables argument: not empty, no control characters, and not
/// starting with `-` (which would read as an option); `None` otherwise.
fn ipt_name(name: &str) -> Option<String> {
    let ok = !name.is_empty() && !name.starts_with('-') && !name.chars().any(char::is_control);
    ok.then(|| name.to_owned())
}

/// The fix that lets the probe's path through the chain `by` names, for this bridge only;
/// `None` when none can be written (a name nft or iptables cannot take).
pub fn fix_for(by: &By, probe: &Probe, ctx: &Context, local: bool) -> Option<Fix> {
    let br = &probe.bridge;
    // The bridge goes into nft strings and arguments below: interface-name characters only
    // (switchyard's validation allows no others; a name from elsewhere gets no command).
    if br.is_empty()
        || !br
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        || br.starts_with('-')
    {
        return None;
    }
    let owner = owner(&ctx.ruleset, &by.family, &by.table);
    let bridged = probe.subnet.contains(&probe.dst) && !local;
    let port = probe.port().to_string();
    let ipt_port: Vec<String> = match probe.proto {
        WhyProto::Icmp => words(["-p", "icmp"]),
        p => words(["-p", p.as_str(), "--dport", &port]),
    };
    let nft_port = match probe.proto {
        WhyProto::Icmp => " meta l4proto icmp".to_owned(),
        p => format!(" {} dport {port}", p.as_str()),
    };
    if probe.direction == Direction::Inbound {
        return inbound_fix(by, probe, owner, local).map(|f| with_legacy_note(f, ctx));
    }
    let fix = match owner {
        Owner::Switchyard => {
            return Some(Fix::words(if local {
                "this network's own rules refuse it: the host serves only DHCP and DNS to its \
                 guests"
                    .to_owned()
            } else {
                format!(
                    "this network's own rules refuse it (an isolated network forwards nothing): \
                     give it <forward mode='nat'/> with `switchyard edit` (bridge {br})"
                )
            }))
        }
        Owner::Docker if !local => {
            if bridged && ctx.br_netfilter {
                Fix::run(vec![words([
                    "iptables",
                    "-I",
                    "DOCKER-USER",
                    "-i",
                    br,
                    "-o",
                    br,
                    "-j",
                    "ACCEPT",
                ])])
                .then(
                    " (br_netfilter, which Docker loads, sends traffic between guests of the \
                     bridge through iptables)",
                )
            } else {
                Fix::run(bridge_in_and_replies(
                    &words(["iptables", "-I", "DOCKER-USER"]),
                    br,
                ))
            }
        }
        Owner::Ufw if !local => Fix::run(vec![words(["ufw", "route", "allow", "in", "on", br])]),
        Owner::Ufw => {
            let mut cmd = words(["ufw", "allow", "in", "on", br]);
            if probe.proto != WhyProto::Icmp {
                cmd.extend(words([
                    "to",
                    "any",
                    "port",
                    &port,
                    "proto",
                    probe.proto.as_str(),
                ]));
            }
            Fix::run(vec![cmd])
        }
        Owner::Firewalld => {
            let lead = match firewalld_zone(&ctx.ruleset, br) {
                Some(z) => format!("the bridge is in firewalld zone {z}, which refuses this"),
                None => "the bridge is in no firewalld zone (the default zone takes it)".into(),
            };
            firewalld_trusted(br).after(lead)
        }
        Owner::Docker | Owner::Iptables => {
            let table = ipt_name(&by.table)?;
            let chain = ipt_name(&by.chain)?;
            let prog = if by.family == "ip6" {
                "ip6tables"
            } else {
                "iptables"
            };
            let at = words([prog, "-t", &table, "-I", &chain]);
            let with =
                |tail: Vec<String>| -> Vec<String> { at.iter().cloned().chain(tail).collect() };
            if local {
                let mut tail = words(["-i", br]);
                tail.extend(ipt_port);
                tail.extend(words(["-j", "ACCEPT"]));
                Fix::run(vec![with(tail)])
            } else {
                Fix::run(bridge_in_and_replies(&at, br))
            }
        }
        Owner::Nftables => {
            let family = nft_family(&by.family)?;
            let table = nft_ident(&by.table)?;
            let chain = nft_ident(&by.chain)?;
            let at = format!("{family} {table} {chain}");
            if local {
                let rule = format!("insert rule {at} iifname \"{br}\"{nft_port} accept");
                Fix::run(vec![vec!["nft".into(), rule]])
            } else {
                let out = format!("insert rule {at} iifname \"{br}\" accept");
                let back = format!(
                    "insert rule {at} oifname \"{br}\" ct state established,related accept"
                );
                Fix::run(vec![vec!["nft".into(), out], vec!["nft".into(), back]])
            }
        }
    };
    Some(with_legacy_note(fix, ctx))
}

/// The bridge into firewalld's trusted zone, now and after a reload.
fn firewalld_trusted(br: &str) -> Fix {
    let iface = format!("--change-interface={br}");
    Fix::run(vec![
        words(["firewall-cmd", "--zone=trusted", &iface]),
        words(["firewall-cmd", "--permanent", "--zone=trusted", &iface]),
    ])
}

fn with_legacy_note(fix: Fix, ctx: &Context) -> Fix {
    if ctx.legacy.in_use() {
        fix.then(
            "; note: iptables-legacy tables are loaded too, and their rules cannot be traced \
             (see iptables-legacy-save)",
        )
    } else {
        fix
    }
}

/// The fix for a probe from outside toward a guest: let it out onto the bridge.
fn inbound_fix(by: &By, probe: &Probe, owner: Owner, local: bool) -> Option<Fix> {
    let br = probe.bridge.as_str();
    if local {
        return Some(Fix::words(format!(
            "the probe to {} was taken by the host itself, not passed on to the guest: no \
             forward of that port leads to it",
            probe.dst
        )));
    }
    let port = probe.guest_port.unwrap_or(probe.port()).to_string();
    let (ipt, nft, ufw) = match probe.proto {
        WhyProto::Icmp => (
            words(["-p", "icmp"]),
            " meta l4proto icmp".to_owned(),
            vec![],
        ),
        p => (
            words(["-p", p.as_str(), "--dport", &port]),
            format!(" {} dport {port}", p.as_str()),
            words(["to", "any", "port", &port, "proto", p.as_str()]),
        ),
    };
    let cmd = |head: Vec<String>, mid: Vec<String>, end: &[&str]| -> Vec<String> {
        head.into_iter()
            .chain(mid)
            .chain(end.iter().map(|w| (*w).to_owned()))
            .collect()
    };
    Some(match owner {
        Owner::Switchyard => Fix::words(format!(
            "this network's own rules refuse new connections from outside onto {br} (a NAT or \
             isolated network)"
        )),
        Owner::Docker => Fix::run(vec![cmd(
            words(["iptables", "-I", "DOCKER-USER", "-o", br]),
            ipt,
            &["-j", "ACCEPT"],
        )]),
        Owner::Ufw => Fix::run(vec![cmd(
            words(["ufw", "route", "allow", "out", "on", br]),
            ufw,
            &[],
        )]),
        Owner::Firewalld => firewalld_trusted(br),
        Owner::Iptables => {
            let prog = if by.family == "ip6" {
                "ip6tables"
            } else {
                "iptables"
            };
            let (table, chain) = (ipt_name(&by.table)?, ipt_name(&by.chain)?);
            Fix::run(vec![cmd(
                words([prog, "-t", &table, "-I", &chain, "-o", br]),
                ipt,
                &["-j", "ACCEPT"],
            )])
        }
        Owner::Nftables => {
            let at = format!(
                "{} {} {}",
                nft_family(&by.family)?,
                nft_ident(&by.table)?,
                nft_ident(&by.chain)?
            );
            let rule = format!("insert rule {at} oifname \"{br}\"{nft} accept");
            Fix::run(vec![vec!["nft".into(), rule]])
        }
    })
}

/// The firewalld zone a bridge is in, from the zone dispatch rules (`iifname "BR" goto
/// filter_FWD_ZONE` and the like).
pub fn firewalld_zone(ruleset: &Ruleset, bridge: &str) -> Option<String> {
    ruleset
        .rules_of("inet", "firewalld", "filter_FORWARD_ZONES")
        .chain(ruleset.rules_of("inet", "firewalld", "filter_INPUT_ZONES"))
        .find_map(|r| {
            let names_bridge = r.expr.iter().any(|e| {
                e.get("match")
                    .is_some_and(|m| m["left"]["meta"]["key"] == "iifname" && m["right"] == bridge)
            });
            if !names_bridge {
                return None;
            }
            r.expr.iter().find_map(|e| {
                let target = e
                    .get("goto")
                    .or_else(|| e.get("jump"))?
                    .get("target")?
                    .as_str()?;
                target
                    .strip_prefix("filter_FWD_")
                    .or_else(|| target.strip_prefix("filter_IN_"))
                    .map(str::to_owned)
            })
        })
}

/// The fix when iptables-legacy dropped it (shown, not run: `iptables-legacy` is no
/// program of [`FIX_PROGRAMS`], and the chain is a guess to look at first).
fn legacy_fix(chain: &str, probe: &Probe) -> Fix {
    Fix::run(vec![words([
        "iptables-legacy",
        "-I",
        chain,
        "-i",
        &probe.bridge,
        "-j",
        "ACCEPT",
    ])])
    .after("iptables-legacy tables are loaded, and nftables tracing cannot see into them")
    .then(" (look first: iptables-legacy-save)")
}

// ---------------------------------------------------------------------------------------------
// Doctor: which chains would drop a network's traffic, read from the ruleset alone.

/// What a network's traffic needs, for the static check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    Forward,
    Dhcp,
    Dns,
}

impl Need {
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Forward => "forwarding",
            Need::Dhcp => "DHCP",
            Need::Dns => "DNS",
        }
    }
    fn hook(self) -> &'static str {
        match self {
            Need::Forward => "forward",
            _ => "input",
        }
    }
    fn port(self) -> Option<u16> {
        match self {
            Need::Forward => None,
            Need::Dhcp => Some(67),
            Need::Dns => Some(53),
        }
    }
}

/// A foreign chain that would drop a network's traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    pub need: Need,
    pub owner: Owner,
    pub by: By,
    pub fix: Option<Fix>,
}

/// How a rule's matches compare with a packet of the bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Yes,
    No,
    Maybe,
}

/// Walks every foreign base chain at the hook each need passes and says which would drop a
/// new packet from `bridge` (DHCP, DNS, or forwarded anywhere): rules are followed in order
/// through jumps and gotos, with the matches a new packet of that kind decides (input
/// interface, protocol, ports, conntrack state, address type) evaluated. A rule whose match
/// cannot be decided ends the walk without a finding when its verdict could let the packet
/// through, and is passed over when it drops: a finding is a certain drop, never a guess.
pub fn blockers(ruleset: &Ruleset, bridge: &str, needs: &[Need]) -> Vec<Blocker> {
    let mut out = Vec::new();
    for &need in needs {
        for c in &ruleset.chains {
            if c.hook.as_deref() != Some(need.hook())
                || (c.family == OUR_FAMILY && c.table == OUR_TABLE)
                || !matches!(c.family.as_str(), "ip" | "inet")
            {
                continue;
            }
            let mut seen = BTreeSet::new();
            let found = walk(ruleset, c, &c.name, bridge, need, 0, &mut seen);
            let by = match found {
                Walk::Accepted | Walk::Unknown => continue,
                Walk::Dropped(by) => by,
                Walk::End if c.policy.as_deref() == Some("drop") => By {
                    family: c.family.clone(),
                    table: c.table.clone(),
                    chain: c.name.clone(),
                    rule: None,
                    policy: Some("drop".into()),
                    handle: None,
                },
                Walk::End => continue,
            };
            let probe = Probe {
                direction: Direction::Outbound,
                proto: WhyProto::Udp,
                src: Ipv4Addr::UNSPECIFIED,
                dst: if need == Need::Forward {
                    Ipv4Addr::new(192, 0, 2, 1)
                } else {
                    Ipv4Addr::UNSPECIFIED
                },
                dport: need.port(),
                bridge: bridge.to_owned(),
                subnet: Ipv4Net::default(),
                guest_port: None,
            };
            let ctx = Context {
                ruleset: ruleset.clone(),
                ..Context::default()
            };
            let fix = fix_for(&by, &probe, &ctx, need != Need::Forward);
            out.push(Blocker {
                need,
                owner: owner(ruleset, &by.family, &by.table),
                by,
                fix,
            });
        }
    }
    out
}

enum Walk {
    Accepted,
    Dropped(By),
    End,
    /// A rule that may or may not match would change the outcome: no certain answer.
    Unknown,
}

fn walk(
    ruleset: &Ruleset,
    base: &ChainInfo,
    chain: &str,
    bridge: &str,
    need: Need,
    depth: usize,
    seen: &mut BTreeSet<String>,
) -> Walk {
    if depth > 16 || !seen.insert(chain.to_owned()) {
        return Walk::Unknown;
    }
    for r in ruleset.rules_of(&base.family, &base.table, chain) {
        let mut m = Match::Yes;
        let mut verdict = None;
        for e in &r.expr {
            if let Some(x) = e.get("match") {
                match eval_match(x, bridge, need) {
                    Match::No => m = Match::No,
                    Match::Maybe if m == Match::Yes => m = Match::Maybe,
                    _ => {}
                }
            } else if let Some(k) = ["accept", "drop", "reject", "jump", "goto", "return"]
                .into_iter()
                .find(|k| e.get(*k).is_some())
            {
                verdict = Some((k, e[k]["target"].as_str().map(str::to_owned)));
            } else if e.get("vmap").is_some() {
                // A verdict map: where it leads depends on its elements.
                if m != Match::No {
                    return Walk::Unknown;
                }
            }
        }
        if m == Match::No {
            continue;
        }
        let certain = m == Match::Yes;
        match verdict {
            Some(("accept", _)) if certain => return Walk::Accepted,
            Some(("drop" | "reject", _)) if certain => {
                return Walk::Dropped(By {
                    family: r.family.clone(),
                    table: r.table.clone(),
                    chain: r.chain.clone(),
                    rule: Some(rule_words(r)),
                    policy: None,
                    handle: Some(r.handle),
                })
            }
            // A drop that may not match: the packet may go on.
            Some(("drop" | "reject", _)) => {}
            Some(("return", _)) if certain => return Walk::End,
            Some((kind @ ("jump" | "goto"), Some(target))) => {
                match walk(
                    ruleset,
                    base,
                    &target,
                    bridge,
                    need,
                    depth + 1,
                    &mut seen.clone(),
                ) {
                    Walk::End if kind == "goto" && certain => return Walk::End,
                    Walk::End if kind == "goto" => return Walk::Unknown,
                    Walk::End => {}
                    decided if certain => return decided,
                    _ => return Walk::Unknown,
                }
            }
            Some(_) => return Walk::Unknown,
            None => {}
        }
    }
    Walk::End
}

/// A rule in short words, for a finding (the listing has no text form).
fn rule_words(r: &RuleInfo) -> String {
    let verdict = if r.rejects() { "reject" } else { "drop" };
    let matches = r.expr.iter().filter(|e| e.get("match").is_some()).count();
    if matches == 0 {
        verdict.to_owned()
    } else {
        format!("{verdict} (after {matches} matches)")
    }
}

/// A match evaluated for a new IPv4 packet of `need` arriving on `bridge`: a DHCP request
/// (UDP to port 67, broadcast), a DNS query (UDP to port 53 of the host), or the first
/// packet of a TCP connection out to an address and port not known.
fn eval_match(m: &Value, bridge: &str, need: Need) -> Match {
    let op = m["op"].as_str().unwrap_or("==");
    let left = &m["left"];
    let right = &m["right"];
    let local = need != Need::Forward;
    let known: Option<Value> = if let Some(key) = left["meta"]["key"].as_str() {
        match key {
            "iifname" => Some(Value::from(bridge)),
            "nfproto" => Some(Value::from("ipv4")),
            "l4proto" => Some(Value::from(if local { "udp" } else { "tcp" })),
            "oifname" if local => Some(Value::from("")),
            _ => None,
        }
    } else if let Some(key) = left["ct"]["key"].as_str() {
        match key {
            // A new connection, not one a DNAT made.
            "state" => Some(Value::from("new")),
            "status" => Some(Value::from("")),
            _ => None,
        }
    } else if left["fib"]["result"] == "type" {
        Some(Value::from(match need {
            Need::Dhcp => "broadcast",
            Need::Dns => "local",
            Need::Forward => "unicast",
        }))
    } else if let Some(proto) = left["payload"]["protocol"].as_str() {
        let field = left["payload"]["field"].as_str().unwrap_or("");
        match (proto, field) {
            // Headers the packet does not have: the match fails whatever its operator.
            ("ip6" | "icmpv6", _) => return Match::No,
            ("icmp" | "tcp", _) if local => return Match::No,
            ("icmp" | "udp", _) if !local => return Match::No,
            ("udp" | "th", "dport") => need.port().map(Value::from),
            ("udp", "sport") if need == Need::Dhcp => Some(Value::from(68)),
            ("ip", "protocol") => Some(Value::from(if local { "udp" } else { "tcp" })),
            _ => None,
        }
    } else {
        None
    };
    let Some(value) = known else {
        return Match::Maybe;
    };
    let Some(equal) = value_in(&value, right) else {
        return Match::Maybe;
    };
    match (op, equal) {
        ("==" | "in", true) | ("!=", false) => Match::Yes,
        ("==" | "in", false) | ("!=", true) => Match::No,
        _ => Match::Maybe,
    }
}

/// Whether `value` is `right` (a value, a wildcard name, or an anonymous set of them).
fn value_in(value: &Value, right: &Value) -> Option<bool> {
    match right {
        Value::String(s) => {
            let v = value.as_str()?;
            Some(match s.strip_suffix('*') {
                Some(prefix) => v.starts_with(prefix),
                None => v == s,
            })
        }
        Value::Number(_) => Some(value == right),
        Value::Array(_) | Value::Object(_) if right.get("range").is_none() => {
            let items = match right {
                Value::Array(a) => a,
                _ => right.get("set")?.as_array()?,
            };
            let mut any = false;
            for i in items {
                match value_in(value, i) {
                    Some(true) => any = true,
                    Some(false) => {}
                    None => return None,
                }
            }
            Some(any)
        }
        Value::Object(o) if o.contains_key("range") => {
            let v = value.as_u64()?;
            let r = o["range"].as_array()?;
            Some(r.first()?.as_u64()? <= v && v <= r.get(1)?.as_u64()?)
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "why_tests.rs"]
mod tests;
