//! The table as our transactions leave it (pure), in the form nft lists it.

use serde_json::json;

use super::layout::{base_chain_spec, map_type, BASE_CHAINS, MAPS};
use super::observe::{
    BaseHook, ObservedChain, ObservedElement, ObservedMap, ObservedRule, ObservedTable,
};
use super::rules::{desired, dispatch_rules, Rule};
use super::FirewallNet;

/// The table exactly as [`add_network`](super::add_network) of each of `nets` leaves it on an
/// empty host, as nft would list it (handles numbered from 1): what a fake host holds, and
/// what tests compare with.
pub fn expected_table(nets: &[FirewallNet]) -> ObservedTable {
    let mut handle = 0;
    let mut rules = |list: Vec<Rule>| -> Vec<ObservedRule> {
        list.into_iter()
            .map(|expr| {
                handle += 1;
                ObservedRule {
                    handle,
                    expr,
                    comment: None,
                }
            })
            .collect()
    };
    let mut t = ObservedTable::default();
    for base in BASE_CHAINS {
        let spec = base_chain_spec(base);
        let hook = BaseHook {
            kind: spec["type"].as_str().unwrap_or_default().into(),
            hook: spec["hook"].as_str().unwrap_or_default().into(),
            prio: spec["prio"].as_i64().unwrap_or_default(),
            policy: "accept".into(),
        };
        let chain = ObservedChain {
            hook: Some(hook),
            rules: rules(dispatch_rules(base)),
        };
        t.base.insert(base.into(), chain);
    }
    for map in MAPS {
        let (key, interval) = map_type(map);
        let flags = if interval {
            vec!["interval".into()]
        } else {
            vec![]
        };
        let m = ObservedMap {
            key_type: key.into(),
            data_type: "verdict".into(),
            flags,
            elements: vec![],
        };
        t.maps.insert(map.into(), m);
    }
    for n in nets {
        let want = desired(n);
        for (name, list) in want.chains {
            let chain = ObservedChain {
                hook: None,
                rules: rules(list),
            };
            t.chains.insert(name, chain);
        }
        for el in want.elements {
            let data = json!({ "jump": { "target": el.chain } });
            let seen = ObservedElement { key: el.key, data };
            if let Some(map) = t.maps.get_mut(el.map) {
                map.elements.push(seen);
            }
        }
    }
    t
}
