//! Differences between what the table should hold and what nft listed, rule by rule, in
//! plain words: one line per difference.

use std::fmt;

use super::describe::{element_text, rule_text};
use super::layout::{base_chain_spec, map_type, parse_chain_name, BASE_CHAINS, MAPS};
use super::observe::{ObservedChain, ObservedRule, ObservedTable};
use super::rules::{desired, dispatch_rules, Element, Rule};
use super::FirewallNet;

/// One difference between the table and what it should hold. Typed, so callers can tell a
/// missing table from a foreign rule without reading words; shown in plain words
/// ([`fmt::Display`]), which `status` and the views print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewallDrift {
    /// The table `inet switchyard` is not there.
    TableMissing,
    /// A network's chain is not there.
    ChainMissing(String),
    /// One of the shared base chains is not there.
    BaseChainMissing(String),
    /// A base chain is hooked other than it should be (type, hook, priority, accept policy).
    BaseChainHook {
        chain: String,
        kind: String,
        hook: String,
        prio: i64,
    },
    /// A rule at `position` (1-based) of `chain` differs from the one switchyard loads.
    RuleChanged {
        chain: ChainRef,
        position: usize,
        handle: u64,
        seen: String,
        wanted: String,
    },
    /// A rule switchyard loads at `position` is not there.
    RuleMissing {
        chain: ChainRef,
        position: usize,
        wanted: String,
    },
    /// A rule switchyard did not load sits in one of its chains.
    RuleForeign {
        chain: ChainRef,
        handle: u64,
        seen: String,
    },
    /// A chain of the table no active network uses (`network`: whose name it carries).
    ChainUnused {
        chain: String,
        network: Option<String>,
    },
    /// One of the shared maps is not there.
    MapMissing(String),
    /// A shared map has another type than `key : verdict` (with `interval` flags or not).
    MapType {
        map: String,
        key: String,
        interval: bool,
    },
    /// A map in the table that switchyard does not make.
    MapForeign(String),
    /// A network's element (`key : jump chain`, as text) is not in its map.
    ElementMissing { map: String, wanted: String },
    /// The map holds the network's key with another verdict.
    ElementWrong {
        map: String,
        held: String,
        wanted: String,
    },
    /// The map holds a key no active network has.
    ElementUnused { map: String, held: String },
}

/// A chain named in a drift: a base chain (shared) or a network's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRef {
    pub name: String,
    pub base: bool,
}

impl fmt::Display for ChainRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.base {
            true => write!(f, "base chain {}", self.name),
            false => write!(f, "chain {}", self.name),
        }
    }
}

impl fmt::Display for FirewallDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TableMissing => write!(f, "table {} is missing", super::TABLE),
            Self::ChainMissing(name) => write!(f, "chain {name} is missing"),
            Self::BaseChainMissing(name) => write!(f, "base chain {name} is missing"),
            Self::BaseChainHook {
                chain,
                kind,
                hook,
                prio,
            } => write!(
                f,
                "base chain {chain} is not a {kind} chain on hook {hook} at priority {prio} with \
                 policy accept"
            ),
            Self::RuleChanged {
                chain,
                position,
                handle,
                seen,
                wanted,
            } => write!(
                f,
                "{chain}: rule {position} (handle {handle}) is `{seen}` instead of `{wanted}`"
            ),
            Self::RuleMissing {
                chain,
                position,
                wanted,
            } => write!(f, "{chain} lacks rule {position}: `{wanted}`"),
            Self::RuleForeign {
                chain,
                handle,
                seen,
            } => write!(
                f,
                "{chain} has a rule switchyard did not load (handle {handle}): `{seen}`"
            ),
            Self::ChainUnused { chain, network } => match network {
                Some(n) => write!(
                    f,
                    "chain {chain}, of network {n:?}, is not used by any active network"
                ),
                None => write!(f, "chain {chain} is not used by any active network"),
            },
            Self::MapMissing(name) => write!(f, "map {name} is missing"),
            Self::MapType { map, key, interval } => {
                let flags = if *interval {
                    " with flags interval"
                } else {
                    ""
                };
                write!(f, "map {map} is not of type {key} : verdict{flags}")
            }
            Self::MapForeign(name) => write!(f, "map {name} is not one of switchyard's"),
            Self::ElementMissing { map, wanted } => write!(f, "map {map} lacks {wanted}"),
            Self::ElementWrong { map, held, wanted } => {
                write!(f, "map {map} holds {held} instead of {wanted}")
            }
            Self::ElementUnused { map, held } => {
                write!(f, "map {map} holds {held}, which no active network uses")
            }
        }
    }
}

/// What differs between `net`'s part of the table and what [`add_network`] loads: missing
/// chains, missing, extra or changed rules in its chains, missing map elements or ones that
/// point elsewhere. Empty for an open network (it has nothing in the table) and when all is
/// in place. The base chains and maps themselves are [`table_drift`]'s concern.
///
/// [`add_network`]: super::add_network
pub fn network_drift(net: &FirewallNet, table: Option<&ObservedTable>) -> Vec<FirewallDrift> {
    let want = desired(net);
    if want.chains.is_empty() {
        return Vec::new();
    }
    let Some(table) = table else {
        return vec![FirewallDrift::TableMissing];
    };
    let mut out = Vec::new();
    for (name, rules) in &want.chains {
        match table.chains.get(name) {
            None => out.push(FirewallDrift::ChainMissing(name.clone())),
            Some(seen) => out.extend(rule_diff(&chain_ref(name, false), rules, &seen.rules)),
        }
    }
    for el in &want.elements {
        out.extend(element_drift(el, table));
    }
    out.dedup();
    out
}

/// What is wrong with the table as a whole, given the networks that should have rules:
/// missing or altered base chains and maps, foreign rules in the base chains, chains that no
/// active network uses (the previous release's `input`, `forward` and `postrouting` aside), and
/// map elements for keys no active network has.
pub fn table_drift(table: &ObservedTable, active: &[FirewallNet]) -> Vec<FirewallDrift> {
    let mut out = shared_drift(table);
    let wanted: Vec<_> = active.iter().map(desired).collect();
    let used = |chain: &str| {
        wanted
            .iter()
            .any(|w| w.chains.iter().any(|(n, _)| n == chain))
    };
    for name in table.chains.keys().filter(|c| !used(c)) {
        out.push(FirewallDrift::ChainUnused {
            chain: name.clone(),
            network: parse_chain_name(name).map(|(network, _)| network.to_string()),
        });
    }
    let elements: Vec<&Element> = wanted.iter().flat_map(|w| &w.elements).collect();
    for (name, map) in &table.maps {
        if !MAPS.contains(&name.as_str()) {
            out.push(FirewallDrift::MapForeign(name.clone()));
            continue;
        }
        for seen in &map.elements {
            if !elements
                .iter()
                .any(|el| el.map == name && el.key == seen.key)
            {
                out.push(FirewallDrift::ElementUnused {
                    map: name.clone(),
                    held: element_text(&seen.key, &seen.data),
                });
            }
        }
    }
    out
}

/// What is wrong with the parts of the table every network shares: missing or altered base
/// chains and maps, and foreign rules in the base chains. This (with [`network_drift`]) is all
/// a start of one network repairs, and all it needs to judge: it takes no other network's
/// definition, so it costs the same whatever the number of networks.
pub fn shared_drift(table: &ObservedTable) -> Vec<FirewallDrift> {
    let mut out = Vec::new();
    for base in BASE_CHAINS {
        out.extend(base_drift(base, table.base.get(base)));
    }
    for map in MAPS {
        out.extend(map_drift(map, table));
    }
    out
}

fn base_drift(base: &str, seen: Option<&ObservedChain>) -> Vec<FirewallDrift> {
    let Some(seen) = seen else {
        return vec![FirewallDrift::BaseChainMissing(base.to_owned())];
    };
    let spec = base_chain_spec(base);
    let (kind, hook) = (spec["type"].as_str(), spec["hook"].as_str());
    let prio = spec["prio"].as_i64().unwrap_or_default();
    let hooked = seen.hook.as_ref().is_some_and(|h| {
        Some(h.kind.as_str()) == kind
            && Some(h.hook.as_str()) == hook
            && h.prio == prio
            && h.policy == "accept"
    });
    let mut out = Vec::new();
    if !hooked {
        out.push(FirewallDrift::BaseChainHook {
            chain: base.to_owned(),
            kind: kind.unwrap_or_default().to_owned(),
            hook: hook.unwrap_or_default().to_owned(),
            prio,
        });
    }
    out.extend(rule_diff(
        &chain_ref(base, true),
        &dispatch_rules(base),
        &seen.rules,
    ));
    out
}

fn map_drift(name: &str, table: &ObservedTable) -> Vec<FirewallDrift> {
    let Some(map) = table.maps.get(name) else {
        return vec![FirewallDrift::MapMissing(name.to_owned())];
    };
    let (key, interval) = map_type(name);
    let flagged = map.flags.iter().any(|f| f == "interval");
    if map.key_type != key || map.data_type != "verdict" || flagged != interval {
        return vec![FirewallDrift::MapType {
            map: name.to_owned(),
            key: key.to_owned(),
            interval,
        }];
    }
    Vec::new()
}

fn element_drift(el: &Element, table: &ObservedTable) -> Option<FirewallDrift> {
    let Some(map) = table.maps.get(el.map) else {
        return Some(FirewallDrift::MapMissing(el.map.to_owned()));
    };
    let want = super::expr::jump(&el.chain);
    let wanted = element_text(&el.key, &want);
    match map.elements.iter().find(|seen| seen.key == el.key) {
        None => Some(FirewallDrift::ElementMissing {
            map: el.map.to_owned(),
            wanted,
        }),
        Some(seen) if seen.data != want => Some(FirewallDrift::ElementWrong {
            map: el.map.to_owned(),
            held: element_text(&seen.key, &seen.data),
            wanted,
        }),
        Some(_) => None,
    }
}

fn chain_ref(name: &str, base: bool) -> ChainRef {
    ChainRef {
        name: name.to_owned(),
        base,
    }
}

/// One step of aligning wanted rules with observed ones.
enum Step {
    Same,
    Missing(usize),
    Extra(usize),
}

/// Missing, extra and changed rules of `label`, in order. The rules are aligned on their
/// longest common subsequence; a missing and an extra rule between the same two matching
/// rules are reported together as one changed rule.
fn rule_diff(label: &ChainRef, want: &[Rule], seen: &[ObservedRule]) -> Vec<FirewallDrift> {
    let mut out = Vec::new();
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    for step in align(want, seen).into_iter().chain([Step::Same]) {
        match step {
            Step::Missing(i) => missing.push(i),
            Step::Extra(j) => extra.push(j),
            Step::Same => {
                out.extend(gap_lines(label, want, seen, &missing, &extra));
                missing.clear();
                extra.clear();
            }
        }
    }
    out
}

fn gap_lines(
    label: &ChainRef,
    want: &[Rule],
    seen: &[ObservedRule],
    missing: &[usize],
    extra: &[usize],
) -> Vec<FirewallDrift> {
    let mut out = Vec::new();
    let pairs = missing.len().min(extra.len());
    for (&i, &j) in missing.iter().zip(extra).take(pairs) {
        out.push(FirewallDrift::RuleChanged {
            chain: label.clone(),
            position: i + 1,
            handle: seen[j].handle,
            seen: rule_text(&seen[j].expr),
            wanted: rule_text(&want[i]),
        });
    }
    for &i in &missing[pairs..] {
        out.push(FirewallDrift::RuleMissing {
            chain: label.clone(),
            position: i + 1,
            wanted: rule_text(&want[i]),
        });
    }
    for &j in &extra[pairs..] {
        out.push(FirewallDrift::RuleForeign {
            chain: label.clone(),
            handle: seen[j].handle,
            seen: rule_text(&seen[j].expr),
        });
    }
    out
}

/// The edit steps from `seen` to `want` along their longest common subsequence.
fn align(want: &[Rule], seen: &[ObservedRule]) -> Vec<Step> {
    let (n, m) = (want.len(), seen.len());
    let same = |i: usize, j: usize| want[i].as_slice() == seen[j].expr.as_slice();
    // lcs[i][j]: length of the longest common subsequence of want[i..] and seen[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if same(i, j) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut steps) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && same(i, j) {
            steps.push(Step::Same);
            (i, j) = (i + 1, j + 1);
        } else if j == m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            steps.push(Step::Missing(i));
            i += 1;
        } else {
            steps.push(Step::Extra(j));
            j += 1;
        }
    }
    steps
}
