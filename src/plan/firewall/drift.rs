//! Differences between what the table should hold and what nft listed, rule by rule, in
//! plain words: one line per difference.

use super::describe::{element_text, rule_text};
use super::layout::{base_chain_spec, map_type, parse_chain_name, BASE_CHAINS, MAPS};
use super::observe::{ObservedChain, ObservedRule, ObservedTable};
use super::rules::{desired, dispatch_rules, Element, Rule};
use super::FirewallNet;

/// What differs between `net`'s part of the table and what [`add_network`] loads: missing
/// chains, missing, extra or changed rules in its chains, missing map elements or ones that
/// point elsewhere. Empty for an open network (it has nothing in the table) and when all is
/// in place. The base chains and maps themselves are [`table_drift`]'s concern.
///
/// [`add_network`]: super::add_network
pub fn network_drift(net: &FirewallNet, table: Option<&ObservedTable>) -> Vec<String> {
    let want = desired(net);
    if want.chains.is_empty() {
        return Vec::new();
    }
    let Some(table) = table else {
        return vec![format!("table {} is missing", super::TABLE)];
    };
    let mut out = Vec::new();
    for (name, rules) in &want.chains {
        match table.chains.get(name) {
            None => out.push(format!("chain {name} is missing")),
            Some(seen) => out.extend(rule_diff(&format!("chain {name}"), rules, &seen.rules)),
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
pub fn table_drift(table: &ObservedTable, active: &[FirewallNet]) -> Vec<String> {
    let mut out = shared_drift(table);
    let wanted: Vec<_> = active.iter().map(desired).collect();
    let used = |chain: &str| {
        wanted
            .iter()
            .any(|w| w.chains.iter().any(|(n, _)| n == chain))
    };
    for name in table.chains.keys().filter(|c| !used(c)) {
        let owner = match parse_chain_name(name) {
            Some((network, _)) => format!(", of network {network:?},"),
            None => String::new(),
        };
        out.push(format!(
            "chain {name}{owner} is not used by any active network"
        ));
    }
    let elements: Vec<&Element> = wanted.iter().flat_map(|w| &w.elements).collect();
    for (name, map) in &table.maps {
        if !MAPS.contains(&name.as_str()) {
            out.push(format!("map {name} is not one of switchyard's"));
            continue;
        }
        for seen in &map.elements {
            if !elements
                .iter()
                .any(|el| el.map == name && el.key == seen.key)
            {
                let shown = element_text(&seen.key, &seen.data);
                out.push(format!(
                    "map {name} holds {shown}, which no active network uses"
                ));
            }
        }
    }
    out
}

/// What is wrong with the parts of the table every network shares: missing or altered base
/// chains and maps, and foreign rules in the base chains. This (with [`network_drift`]) is all
/// a start of one network repairs, and all it needs to judge: it takes no other network's
/// definition, so it costs the same whatever the number of networks.
pub fn shared_drift(table: &ObservedTable) -> Vec<String> {
    let mut out = Vec::new();
    for base in BASE_CHAINS {
        out.extend(base_drift(base, table.base.get(base)));
    }
    for map in MAPS {
        out.extend(map_drift(map, table));
    }
    out
}

fn base_drift(base: &str, seen: Option<&ObservedChain>) -> Vec<String> {
    let Some(seen) = seen else {
        return vec![format!("base chain {base} is missing")];
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
        out.push(format!(
            "base chain {base} is not a {} chain on hook {} at priority {prio} with policy accept",
            kind.unwrap_or_default(),
            hook.unwrap_or_default(),
        ));
    }
    out.extend(rule_diff(
        &format!("base chain {base}"),
        &dispatch_rules(base),
        &seen.rules,
    ));
    out
}

fn map_drift(name: &str, table: &ObservedTable) -> Vec<String> {
    let Some(map) = table.maps.get(name) else {
        return vec![format!("map {name} is missing")];
    };
    let (key, interval) = map_type(name);
    let flagged = map.flags.iter().any(|f| f == "interval");
    if map.key_type != key || map.data_type != "verdict" || flagged != interval {
        let flags = if interval { " with flags interval" } else { "" };
        return vec![format!("map {name} is not of type {key} : verdict{flags}")];
    }
    Vec::new()
}

fn element_drift(el: &Element, table: &ObservedTable) -> Option<String> {
    let Some(map) = table.maps.get(el.map) else {
        return Some(format!("map {} is missing", el.map));
    };
    let want = super::expr::jump(&el.chain);
    let wanted = element_text(&el.key, &want);
    match map.elements.iter().find(|seen| seen.key == el.key) {
        None => Some(format!("map {} lacks {wanted}", el.map)),
        Some(seen) if seen.data != want => Some(format!(
            "map {} holds {} instead of {wanted}",
            el.map,
            element_text(&seen.key, &seen.data)
        )),
        Some(_) => None,
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
fn rule_diff(label: &str, want: &[Rule], seen: &[ObservedRule]) -> Vec<String> {
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
    label: &str,
    want: &[Rule],
    seen: &[ObservedRule],
    missing: &[usize],
    extra: &[usize],
) -> Vec<String> {
    let mut out = Vec::new();
    let pairs = missing.len().min(extra.len());
    for (&i, &j) in missing.iter().zip(extra).take(pairs) {
        out.push(format!(
            "{label}: rule {} (handle {}) is `{}` instead of `{}`",
            i + 1,
            seen[j].handle,
            rule_text(&seen[j].expr),
            rule_text(&want[i])
        ));
    }
    for &i in &missing[pairs..] {
        out.push(format!(
            "{label} lacks rule {}: `{}`",
            i + 1,
            rule_text(&want[i])
        ));
    }
    for &j in &extra[pairs..] {
        out.push(format!(
            "{label} has a rule switchyard did not load (handle {}): `{}`",
            seen[j].handle,
            rule_text(&seen[j].expr)
        ));
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
