//! The JSON transactions that start, stop and repair one network's part of the table.
//!
//! Each is one `{"nftables": […]}` document that nft applies atomically. None needs to know
//! what the table holds now: `add` of something that exists identically is a no-op, and what is
//! deleted is added first, so deleting it cannot fail for being absent (nft 1.0.6 has no
//! `destroy`). Chains are declared before the maps: measured with nft 1.0.6 on Linux 6.18, an
//! element of an interval map fails with "No such file or directory" when the map's
//! declaration comes before the declaration of the chain the element jumps to in the same
//! transaction (nft sends such elements along with the map), and works the other way round.

use serde_json::{json, Value};

use super::layout::{
    base_chain_spec, in_table, map_spec, map_type, BASE_CHAINS, FAMILY, MAPS, TABLE_NAME,
};
use super::observe::{ObservedElement, ObservedTable};
use super::rules::{desired, dispatch_rules, Desired, Element, Rule};
use super::FirewallNet;

/// The transaction that makes `net`'s part of the table exactly what it should be.
///
/// Idempotent, and it repairs: the base chains are flushed and get their dispatch rules again
/// (a rule planted there disappears), the network's chains are flushed and refilled, and its
/// map elements are added. It fails (nft: "File exists") only when one of the network's map
/// keys points somewhere else; [`repair_network`] deletes such elements first. An open
/// network needs nothing: the document is empty.
pub fn add_network(net: &FirewallNet) -> Value {
    let want = desired(net);
    document(add_commands(&want, &[], true))
}

/// [`add_network`] for a table whose base chains and maps are already what they should be
/// (another network of ours is running and planning saw no drift in them): the same
/// transaction without re-declaring and refilling the base chains.
///
/// Re-declaring an existing base chain is an update of its hook in the kernel, and an update
/// (like the flush of its dispatch rules) is released only after an RCU grace period, which nft
/// waits for when it closes its socket: measured with nft 1.0.6 on Linux 6.18, 16–20 ms for
/// this document with the base chains against 5.5 ms without, at 1 or at 100 networks. When the
/// table turns out not to be as planned, the load fails (a missing map or chain) and the step
/// falls back to [`repair_network`].
pub fn join_network(net: &FirewallNet) -> Value {
    let want = desired(net);
    document(add_commands(&want, &[], false))
}

/// [`add_network`], preceded by deleting the elements in `table` that hold one of `net`'s keys
/// (or, in `nat4`/`nat6`, a prefix overlapping one of its subnets) but point elsewhere.
pub fn repair_network(net: &FirewallNet, table: &ObservedTable) -> Value {
    let want = desired(net);
    let conflicts: Vec<Value> = want
        .elements
        .iter()
        .flat_map(|el| conflicting(el, table))
        .collect();
    document(add_commands(&want, &conflicts, true))
}

/// One transaction that takes a running network's part of the table from `old` to `new`
/// (same bridge and subnets; a live change of mode, forward device or NAT ranges).
///
/// A forward's counters that `new` keeps are left alone, so its totals survive a change of
/// another forward.
pub fn replace_network(old: &FirewallNet, new: &FirewallNet) -> Value {
    let new = desired(new);
    let mut cmds = remove_commands(&desired(old), &new.counters);
    cmds.extend(add_commands(&new, &[], true));
    document(cmds)
}

/// The transaction that deletes the whole table (added first, so it cannot fail for being
/// absent).
pub fn delete_table() -> Value {
    let table = json!({ "family": FAMILY, "name": TABLE_NAME });
    document(vec![
        json!({ "add": { "table": table } }),
        json!({ "delete": { "table": table } }),
    ])
}

/// The transaction that removes `net`'s chains and map elements, whether or not they are
/// (all) there; with `delete_table`, one that deletes the whole table instead.
pub fn remove_network(net: &FirewallNet, delete_table: bool) -> Value {
    if delete_table {
        return self::delete_table();
    }
    document(remove_commands(&desired(net), &[]))
}

/// The commands of [`remove_network`], leaving the counters named in `keep` in place.
fn remove_commands(want: &Desired, keep: &[String]) -> Vec<Value> {
    if want.chains.is_empty() {
        return Vec::new();
    }
    let table = json!({ "family": FAMILY, "name": TABLE_NAME });
    let mut cmds = vec![json!({ "add": { "table": table } })];
    cmds.extend(want.chains.iter().map(|(name, _)| add_chain(name)));
    cmds.extend(
        MAPS.iter()
            .map(|m| json!({ "add": { "map": map_spec(m) } })),
    );
    cmds.extend(want.elements.iter().map(add_element));
    cmds.extend(
        want.elements
            .iter()
            .map(|el| delete_element(el.map, &el.key)),
    );
    for (name, _) in &want.chains {
        let chain = in_table(json!({ "name": name }));
        cmds.push(json!({ "flush": { "chain": chain } }));
        cmds.push(json!({ "delete": { "chain": chain } }));
    }
    let gone: Vec<&String> = want.counters.iter().filter(|c| !keep.contains(c)).collect();
    cmds.extend(gone.iter().map(|c| add_counter(c)));
    for name in gone {
        let counter = in_table(json!({ "name": name }));
        cmds.push(json!({ "delete": { "counter": counter } }));
    }
    cmds
}

fn add_counter(name: &str) -> Value {
    json!({ "add": { "counter": in_table(json!({ "name": name })) } })
}

/// The commands of [`add_network`], with `deletes` run just before the elements are added;
/// the table, base chains and maps are declared (and the base chains refilled) only with
/// `shared`.
fn add_commands(want: &Desired, deletes: &[Value], shared: bool) -> Vec<Value> {
    if want.chains.is_empty() {
        return Vec::new();
    }
    let table = json!({ "family": FAMILY, "name": TABLE_NAME });
    let mut cmds = Vec::new();
    if shared {
        cmds.push(json!({ "add": { "table": table } }));
        cmds.extend(
            BASE_CHAINS
                .iter()
                .map(|b| json!({ "add": { "chain": base_chain_spec(b) } })),
        );
    }
    cmds.extend(want.chains.iter().map(|(name, _)| add_chain(name)));
    cmds.extend(want.counters.iter().map(|c| add_counter(c)));
    if shared {
        cmds.extend(
            MAPS.iter()
                .map(|m| json!({ "add": { "map": map_spec(m) } })),
        );
        for base in BASE_CHAINS {
            fill_chain(&mut cmds, base, &dispatch_rules(base));
        }
    }
    for (name, rules) in &want.chains {
        fill_chain(&mut cmds, name, rules);
    }
    cmds.extend_from_slice(deletes);
    cmds.extend(want.elements.iter().map(add_element));
    cmds
}

fn document(cmds: Vec<Value>) -> Value {
    json!({ "nftables": cmds })
}

fn add_chain(name: &str) -> Value {
    json!({ "add": { "chain": in_table(json!({ "name": name })) } })
}

/// Flush `chain`, then add `rules` to it in order.
fn fill_chain(cmds: &mut Vec<Value>, chain: &str, rules: &[Rule]) {
    cmds.push(json!({ "flush": { "chain": in_table(json!({ "name": chain })) } }));
    for rule in rules {
        let rule = in_table(json!({ "chain": chain, "expr": rule }));
        cmds.push(json!({ "add": { "rule": rule } }));
    }
}

fn add_element(el: &Element) -> Value {
    let data = super::expr::jump(&el.chain);
    let elem = in_table(json!({ "name": el.map, "elem": [[el.key, data]] }));
    json!({ "add": { "element": elem } })
}

fn delete_element(map: &str, key: &Value) -> Value {
    let elem = in_table(json!({ "name": map, "elem": [key] }));
    json!({ "delete": { "element": elem } })
}

/// Deletions of the observed elements of `el.map` that clash with `el`.
fn conflicting(el: &Element, table: &ObservedTable) -> Vec<Value> {
    let Some(map) = table.maps.get(el.map) else {
        return Vec::new();
    };
    let want = super::expr::jump(&el.chain);
    let interval = map_type(el.map).1;
    map.elements
        .iter()
        .filter(|seen| seen.data != want)
        .filter(|seen| seen.key == el.key || (interval && overlaps(seen, &el.key)))
        .map(|seen| delete_element(el.map, &seen.key))
        .collect()
}

/// Whether an observed interval element overlaps the prefix `key`.
fn overlaps(seen: &ObservedElement, key: &Value) -> bool {
    match (
        super::observe::as_net(&seen.key),
        super::observe::as_net(key),
    ) {
        (Some(a), Some(b)) => a.contains(&b.network()) || b.contains(&a.network()),
        _ => false,
    }
}
