//! The previous release's rules: base chains `input`, `forward` and `postrouting` of the same
//! table, each rule tagged with a raw network name as comment. They are found and removed by
//! handle, network by network, as those networks are restarted or stopped.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::layout::in_table;
use super::observe::ObservedTable;

/// The network names found as comments of rules in the legacy chains (raw names, as the
/// previous release wrote them).
pub fn legacy_networks(table: &ObservedTable) -> BTreeSet<String> {
    table
        .legacy
        .values()
        .flat_map(|c| &c.rules)
        .filter_map(|r| r.comment.clone())
        .collect()
}

/// The transaction that deletes network `name`'s legacy rules by handle, and each legacy
/// chain that is left with no rules of any other network. Empty when there is nothing to do.
pub fn remove_legacy(table: &ObservedTable, name: &str) -> Value {
    let mut cmds = Vec::new();
    let mut emptied = Vec::new();
    for (chain, seen) in &table.legacy {
        let (theirs, others): (Vec<_>, Vec<_>) = seen
            .rules
            .iter()
            .partition(|r| r.comment.as_deref() == Some(name));
        for rule in &theirs {
            let rule = in_table(json!({ "chain": chain, "handle": rule.handle }));
            cmds.push(json!({ "delete": { "rule": rule } }));
        }
        if others.is_empty() {
            emptied.push(chain);
        }
    }
    // Only touch chains when the network had rules: an unknown name changes nothing.
    if !cmds.is_empty() {
        for chain in emptied {
            let chain = in_table(json!({ "name": chain }));
            cmds.push(json!({ "delete": { "chain": chain } }));
        }
    }
    json!({ "nftables": cmds })
}
