//! What our table holds, read from `nft -j list table inet switchyard` (pure parsing).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use super::layout::{BASE_CHAINS, FAMILY, LEGACY_CHAINS, TABLE_NAME};

/// Why nft's listing could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error("nft's listing is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("nft's listing has no \"nftables\" array")]
    NoArray,
    #[error("nft's listing has a {kind} without {field}")]
    Missing {
        kind: &'static str,
        field: &'static str,
    },
}

/// The table `inet switchyard` as observed, its chains sorted into the kinds we tell apart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedTable {
    /// `base_input`, `base_forward`, `base_postrouting`, those that exist.
    pub base: BTreeMap<String, ObservedChain>,
    /// The previous release's `input`, `forward`, `postrouting`, those that exist.
    pub legacy: BTreeMap<String, ObservedChain>,
    /// Every other chain: the networks' own, and any planted by someone else.
    pub chains: BTreeMap<String, ObservedChain>,
    /// Every map and set of the table, by name.
    pub maps: BTreeMap<String, ObservedMap>,
}

/// One chain and its rules, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedChain {
    /// Type, hook, priority and policy, for a base chain.
    pub hook: Option<BaseHook>,
    pub rules: Vec<ObservedRule>,
}

/// How a base chain is attached to netfilter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseHook {
    /// `filter`, `nat`, …
    pub kind: String,
    pub hook: String,
    pub prio: i64,
    pub policy: String,
}

/// One rule as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedRule {
    pub handle: u64,
    /// Its expressions and statements, exactly as nft printed them.
    pub expr: Vec<Value>,
    pub comment: Option<String>,
}

/// One map (or set) as listed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedMap {
    /// The key type (`ifname`, `ipv4_addr`, …).
    pub key_type: String,
    /// The data type (`verdict`); empty for a set.
    pub data_type: String,
    pub flags: Vec<String>,
    pub elements: Vec<ObservedElement>,
}

/// One map element: key and data as nft printed them.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedElement {
    pub key: Value,
    pub data: Value,
}

impl ObservedTable {
    /// The chain called `name`, whatever its kind.
    pub fn chain(&self, name: &str) -> Option<&ObservedChain> {
        self.base
            .get(name)
            .or_else(|| self.legacy.get(name))
            .or_else(|| self.chains.get(name))
    }

    /// How many rules network `name` has in the table: in its own chains, or (a network the
    /// first release started) by comment in the legacy chains.
    pub fn rules_of(&self, name: &str) -> usize {
        let own: usize = super::layout::NetChain::ALL
            .into_iter()
            .filter_map(|part| self.chains.get(&super::chain_name(name, part)))
            .map(|c| c.rules.len())
            .sum();
        let legacy = self
            .legacy
            .values()
            .flat_map(|c| &c.rules)
            .filter(|r| r.comment.as_deref() == Some(name))
            .count();
        own + legacy
    }

    fn chain_mut(&mut self, name: &str) -> Option<&mut ObservedChain> {
        if let Some(c) = self.base.get_mut(name) {
            return Some(c);
        }
        if let Some(c) = self.legacy.get_mut(name) {
            return Some(c);
        }
        self.chains.get_mut(name)
    }
}

/// Reads the output of `nft -j list table inet switchyard` (items of other tables, if any,
/// are ignored).
pub fn parse_table(json: &str) -> Result<ObservedTable, ObserveError> {
    let doc: Value = serde_json::from_str(json)?;
    let items = doc
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or(ObserveError::NoArray)?;
    let mut table = ObservedTable::default();
    let ours = |v: &Value| {
        v.get("family").and_then(Value::as_str) == Some(FAMILY)
            && v.get("table").and_then(Value::as_str) == Some(TABLE_NAME)
    };
    for item in items {
        if let Some(c) = item.get("chain").filter(|c| ours(c)) {
            add_chain(&mut table, c)?;
        } else if let Some(m) = item
            .get("map")
            .or_else(|| item.get("set"))
            .filter(|m| ours(m))
        {
            add_map(&mut table, m)?;
        }
    }
    // Rules after chains: nft lists them in that order, but nothing here relies on it.
    for rule in items
        .iter()
        .filter_map(|i| i.get("rule"))
        .filter(|r| ours(r))
    {
        add_rule(&mut table, rule)?;
    }
    Ok(table)
}

fn str_field(v: &Value, kind: &'static str, field: &'static str) -> Result<String, ObserveError> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(ObserveError::Missing { kind, field })
}

fn add_chain(table: &mut ObservedTable, c: &Value) -> Result<(), ObserveError> {
    let name = str_field(c, "chain", "name")?;
    let hook = c.get("hook").and_then(Value::as_str).map(|hook| BaseHook {
        kind: c
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        hook: hook.to_owned(),
        prio: c.get("prio").and_then(Value::as_i64).unwrap_or(0),
        policy: c
            .get("policy")
            .and_then(Value::as_str)
            .unwrap_or("accept")
            .to_owned(),
    });
    let chain = ObservedChain {
        hook,
        rules: Vec::new(),
    };
    let kind = if BASE_CHAINS.contains(&name.as_str()) {
        &mut table.base
    } else if LEGACY_CHAINS.contains(&name.as_str()) {
        &mut table.legacy
    } else {
        &mut table.chains
    };
    kind.insert(name, chain);
    Ok(())
}

fn add_map(table: &mut ObservedTable, m: &Value) -> Result<(), ObserveError> {
    let name = str_field(m, "map", "name")?;
    let flags = match m.get("flags") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(Value::as_str)
            .map(Into::into)
            .collect(),
        _ => Vec::new(),
    };
    let elements = m
        .get("elem")
        .and_then(Value::as_array)
        .map(|elems| elems.iter().map(element).collect())
        .unwrap_or_default();
    let map = ObservedMap {
        key_type: type_name(m.get("type")),
        data_type: type_name(m.get("map")),
        flags,
        elements,
    };
    table.maps.insert(name, map);
    Ok(())
}

/// A type as text; a concatenation (a JSON array) joined with " . ".
fn type_name(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => {
            let parts: Vec<&str> = parts.iter().filter_map(Value::as_str).collect();
            parts.join(" . ")
        }
        _ => String::new(),
    }
}

/// A map element `[key, data]`; a set element is its key with null data. A key with
/// attributes (`{"elem": {"val": …, "comment": …}}`) is reduced to its value.
fn element(e: &Value) -> ObservedElement {
    let (key, data) = match e.as_array().map(Vec::as_slice) {
        Some([key, data]) => (key, data.clone()),
        _ => (e, Value::Null),
    };
    let key = key
        .get("elem")
        .and_then(|inner| inner.get("val"))
        .unwrap_or(key)
        .clone();
    ObservedElement { key, data }
}

fn add_rule(table: &mut ObservedTable, r: &Value) -> Result<(), ObserveError> {
    let chain = str_field(r, "rule", "chain")?;
    let handle = r
        .get("handle")
        .and_then(Value::as_u64)
        .ok_or(ObserveError::Missing {
            kind: "rule",
            field: "handle",
        })?;
    let rule = ObservedRule {
        handle,
        expr: r
            .get("expr")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        comment: r.get("comment").and_then(Value::as_str).map(str::to_owned),
    };
    if let Some(c) = table.chain_mut(&chain) {
        c.rules.push(rule);
    }
    Ok(())
}

/// The subnet a map key stands for: a `{"prefix": …}` or a plain address (a single host).
pub fn as_net(key: &Value) -> Option<IpNet> {
    if let Some(addr) = key.as_str() {
        let addr: IpAddr = addr.parse().ok()?;
        return Some(IpNet::from(addr));
    }
    let p = key.get("prefix")?;
    let addr: IpAddr = p.get("addr")?.as_str()?.parse().ok()?;
    let len = u8::try_from(p.get("len")?.as_u64()?).ok()?;
    IpNet::new(addr, len).ok()
}
