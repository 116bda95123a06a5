//! The fake host's nftables: an interpreter of nft's JSON commands (`add`, `delete`, `flush`,
//! `destroy` of tables, chains, rules, maps, sets and elements) over in-memory tables, and a
//! listing in the form `nft -j list table` prints, read back by the same parser the real host
//! uses. A transaction applies entirely or not at all, and fails where nft does: a missing
//! object to delete or flush, a chain still referenced or holding rules, a map element whose
//! key (or, in an interval map, whose prefix) is taken by another verdict.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::plan::firewall::{as_net, parse_table, ObservedTable, FAMILY, TABLE_NAME};

/// Every table, by (family, name).
#[derive(Debug, Clone, Default)]
pub struct Ruleset {
    tables: BTreeMap<(String, String), Table>,
    next_handle: u64,
}

#[derive(Debug, Clone, Default)]
struct Table {
    /// Chains in declaration order.
    chains: Vec<(String, Chain)>,
    /// Maps and sets in declaration order.
    maps: Vec<(String, MapSpec)>,
    /// Named counters (packets, bytes) in declaration order; only probes count (see
    /// [`Ruleset::count`]).
    counters: Vec<(String, (u64, u64))>,
}

#[derive(Debug, Clone, Default)]
struct Chain {
    /// `type`, `hook`, `prio`, `policy` of a base chain, as given.
    spec: Map<String, Value>,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    handle: u64,
    expr: Value,
    comment: Option<Value>,
}

#[derive(Debug, Clone, Default)]
struct MapSpec {
    /// `set` or `map`.
    kind: &'static str,
    /// `type`, `map`, `flags`, as given.
    spec: Map<String, Value>,
    /// `[key, data]` pairs (data `Null` for a set).
    elements: Vec<(Value, Value)>,
}

impl MapSpec {
    fn interval(&self) -> bool {
        match self.spec.get("flags") {
            Some(Value::String(f)) => f == "interval",
            Some(Value::Array(fs)) => fs.iter().any(|f| f == "interval"),
            _ => false,
        }
    }
}

impl Ruleset {
    /// Applies one `{"nftables": […]}` document as one transaction.
    pub fn apply(&mut self, doc: &Value) -> Result<(), String> {
        let cmds = doc
            .get("nftables")
            .and_then(Value::as_array)
            .ok_or("Error: no nftables array in the JSON input")?;
        let mut next = self.clone();
        for cmd in cmds {
            next.command(cmd)?;
        }
        *self = next;
        Ok(())
    }

    /// The listing of `family name` as `nft -j list table` prints it; `None` when absent.
    pub fn list(&self, family: &str, name: &str) -> Option<Value> {
        let table = self.tables.get(&(family.to_owned(), name.to_owned()))?;
        let base = |extra: Map<String, Value>| {
            let mut o = Map::new();
            o.insert("family".into(), json!(family));
            o.insert("table".into(), json!(name));
            o.extend(extra);
            Value::Object(o)
        };
        let mut items = vec![
            json!({ "metainfo": { "json_schema_version": 1 } }),
            json!({ "table": { "family": family, "name": name } }),
        ];
        for (cname, chain) in &table.chains {
            let mut o = Map::new();
            o.insert("name".into(), json!(cname));
            o.extend(chain.spec.clone());
            if o.contains_key("hook") && !o.contains_key("policy") {
                o.insert("policy".into(), json!("accept"));
            }
            items.push(json!({ "chain": base(o) }));
        }
        for (mname, map) in &table.maps {
            let mut o = Map::new();
            o.insert("name".into(), json!(mname));
            o.extend(map.spec.clone());
            if !map.elements.is_empty() {
                let elems: Vec<Value> = map
                    .elements
                    .iter()
                    .map(|(k, d)| match d {
                        Value::Null => k.clone(),
                        d => json!([k, d]),
                    })
                    .collect();
                o.insert("elem".into(), Value::Array(elems));
            }
            items.push(json!({ map.kind: base(o) }));
        }
        for (cname, (packets, bytes)) in &table.counters {
            let mut o = Map::new();
            o.insert("name".into(), json!(cname));
            o.insert("packets".into(), json!(packets));
            o.insert("bytes".into(), json!(bytes));
            items.push(json!({ "counter": base(o) }));
        }
        for (cname, chain) in &table.chains {
            for rule in &chain.rules {
                let mut o = Map::new();
                o.insert("chain".into(), json!(cname));
                o.insert("handle".into(), json!(rule.handle));
                o.insert("expr".into(), rule.expr.clone());
                if let Some(c) = &rule.comment {
                    o.insert("comment".into(), c.clone());
                }
                items.push(json!({ "rule": base(o) }));
            }
        }
        Some(json!({ "nftables": items }))
    }

    /// The named counters of our table: name → (packets, bytes).
    pub fn counters(&self) -> BTreeMap<String, (u64, u64)> {
        self.tables
            .get(&(FAMILY.to_owned(), TABLE_NAME.to_owned()))
            .map(|t| t.counters.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every table, as `nft -j list ruleset` prints them.
    pub fn list_all(&self) -> Value {
        let mut items = vec![json!({ "metainfo": { "json_schema_version": 1 } })];
        for (family, name) in self.tables.keys() {
            if let Some(Value::Object(mut doc)) = self.list(family, name) {
                if let Some(Value::Array(list)) = doc.remove("nftables") {
                    items.extend(list.into_iter().skip(1));
                }
            }
        }
        json!({ "nftables": items })
    }

    /// Counts one packet of `bytes` on our table's named counter `name` (a probe through the
    /// fake's rules); whether there is such a counter.
    pub fn count(&mut self, name: &str, bytes: u64) -> bool {
        let Some(t) = self
            .tables
            .get_mut(&(FAMILY.to_owned(), TABLE_NAME.to_owned()))
        else {
            return false;
        };
        match t.counters.iter_mut().find(|(n, _)| n == name) {
            Some((_, (packets, b))) => {
                *packets += 1;
                *b += bytes;
                true
            }
            None => false,
        }
    }

    /// Our table, read the way the real host reads it.
    pub fn observe(&self) -> Result<Option<ObservedTable>, String> {
        match self.list(FAMILY, TABLE_NAME) {
            None => Ok(None),
            Some(v) => parse_table(&v.to_string())
                .map(Some)
                .map_err(|e| e.to_string()),
        }
    }

    /// Names of every table, as `family name`.
    pub fn tables(&self) -> Vec<String> {
        self.tables
            .keys()
            .map(|(f, n)| format!("{f} {n}"))
            .collect()
    }

    /// Runs `edit` on the rules of one chain (tests plant or delete rules this way).
    pub fn edit_rules(
        &mut self,
        family: &str,
        table: &str,
        chain: &str,
        edit: impl FnOnce(&mut Vec<Value>),
    ) -> Result<(), String> {
        let handle = &mut self.next_handle;
        let c = self
            .tables
            .get_mut(&(family.to_owned(), table.to_owned()))
            .and_then(|t| t.chains.iter_mut().find(|(n, _)| n == chain))
            .map(|(_, c)| c)
            .ok_or_else(|| format!("no chain {family} {table} {chain}"))?;
        let mut exprs: Vec<Value> = c.rules.iter().map(|r| r.expr.clone()).collect();
        edit(&mut exprs);
        c.rules = exprs
            .into_iter()
            .map(|expr| {
                *handle += 1;
                Rule {
                    handle: *handle,
                    expr,
                    comment: None,
                }
            })
            .collect();
        Ok(())
    }

    fn command(&mut self, cmd: &Value) -> Result<(), String> {
        let obj = cmd.as_object().ok_or("Error: a command is not an object")?;
        let (verb, what) = obj.iter().next().ok_or("Error: an empty command")?;
        let what = what.as_object().ok_or("Error: a command without object")?;
        let (kind, spec) = what
            .iter()
            .next()
            .ok_or("Error: a command without object")?;
        let spec = spec.as_object().ok_or("Error: an object that is not one")?;
        match (verb.as_str(), kind.as_str()) {
            ("add" | "create", "table") => {
                let key = table_key(spec, "name")?;
                if verb == "create" && self.tables.contains_key(&key) {
                    return Err(exists());
                }
                self.tables.entry(key).or_default();
                Ok(())
            }
            ("delete", "table") => self
                .tables
                .remove(&table_key(spec, "name")?)
                .map(|_| ())
                .ok_or_else(no_such),
            ("destroy", "table") => {
                self.tables.remove(&table_key(spec, "name")?);
                Ok(())
            }
            ("flush", "table") => {
                let t = self.table_mut(spec, "name")?;
                t.chains.iter_mut().for_each(|(_, c)| c.rules.clear());
                t.maps.iter_mut().for_each(|(_, m)| m.elements.clear());
                Ok(())
            }
            ("add" | "create", "chain") => {
                let name = field(spec, "name")?;
                let t = self.table_mut(spec, "table")?;
                if let Some((_, c)) = t.chains.iter().find(|(n, _)| *n == name) {
                    return match verb.as_str() {
                        "create" => Err(exists()),
                        _ if c.spec.get("hook") != spec.get("hook")
                            && spec.contains_key("hook") =>
                        {
                            Err(exists())
                        }
                        _ => Ok(()),
                    };
                }
                let kept: Map<String, Value> = spec
                    .iter()
                    .filter(|(k, _)| ["type", "hook", "prio", "policy"].contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                t.chains.push((
                    name,
                    Chain {
                        spec: kept,
                        rules: Vec::new(),
                    },
                ));
                Ok(())
            }
            ("flush", "chain") => {
                let name = field(spec, "name")?;
                self.chain_mut(spec, &name)?.rules.clear();
                Ok(())
            }
            ("delete" | "destroy", "chain") => {
                let name = field(spec, "name")?;
                let t = match self.table_mut(spec, "table") {
                    Ok(t) => t,
                    Err(_) if verb == "destroy" => return Ok(()),
                    Err(e) => return Err(e),
                };
                let Some(i) = t.chains.iter().position(|(n, _)| *n == name) else {
                    return if verb == "destroy" {
                        Ok(())
                    } else {
                        Err(no_such())
                    };
                };
                if !t.chains[i].1.rules.is_empty() || referenced(t, &name) {
                    return Err(busy());
                }
                t.chains.remove(i);
                Ok(())
            }
            ("add" | "create", "counter") => {
                let name = field(spec, "name")?;
                let t = self.table_mut(spec, "table")?;
                if t.counters.iter().any(|(n, _)| *n == name) {
                    return if verb == "create" {
                        Err(exists())
                    } else {
                        Ok(())
                    };
                }
                t.counters.push((name, (0, 0)));
                Ok(())
            }
            ("delete" | "destroy", "counter") => {
                let name = field(spec, "name")?;
                let t = self.table_mut(spec, "table")?;
                let Some(i) = t.counters.iter().position(|(n, _)| *n == name) else {
                    return if verb == "destroy" {
                        Ok(())
                    } else {
                        Err(no_such())
                    };
                };
                let used = t
                    .chains
                    .iter()
                    .flat_map(|(_, c)| &c.rules)
                    .any(|r| counters_of(&r.expr).any(|c| c == name));
                if used {
                    return Err(busy());
                }
                t.counters.remove(i);
                Ok(())
            }
            ("add", "rule") | ("insert", "rule") => {
                let chain = field(spec, "chain")?;
                let expr = spec.get("expr").cloned().unwrap_or(json!([]));
                let t = self.table_mut(spec, "table")?;
                if counters_of(&expr).any(|c| !t.counters.iter().any(|(n, _)| n == c)) {
                    return Err(no_such());
                }
                self.next_handle += 1;
                let rule = Rule {
                    handle: self.next_handle,
                    expr: spec.get("expr").cloned().unwrap_or(json!([])),
                    comment: spec.get("comment").cloned(),
                };
                let c = self.chain_mut(spec, &chain)?;
                if verb == "insert" {
                    c.rules.insert(0, rule);
                } else {
                    c.rules.push(rule);
                }
                Ok(())
            }
            ("delete", "rule") => {
                let chain = field(spec, "chain")?;
                let handle = spec
                    .get("handle")
                    .and_then(Value::as_u64)
                    .ok_or_else(no_such)?;
                let c = self.chain_mut(spec, &chain)?;
                let i = c
                    .rules
                    .iter()
                    .position(|r| r.handle == handle)
                    .ok_or_else(no_such)?;
                c.rules.remove(i);
                Ok(())
            }
            ("add" | "create", "map" | "set") => {
                let name = field(spec, "name")?;
                let kind = if kind == "map" { "map" } else { "set" };
                let t = self.table_mut(spec, "table")?;
                if t.maps.iter().any(|(n, _)| *n == name) {
                    return if verb == "create" {
                        Err(exists())
                    } else {
                        Ok(())
                    };
                }
                let kept: Map<String, Value> = spec
                    .iter()
                    .filter(|(k, _)| ["type", "map", "flags"].contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let mut m = MapSpec {
                    kind,
                    spec: kept,
                    elements: Vec::new(),
                };
                if let Some(elems) = spec.get("elem").and_then(Value::as_array) {
                    for e in elems {
                        add_element(t, &mut m, e)?;
                    }
                }
                t.maps.push((name, m));
                Ok(())
            }
            ("delete" | "destroy", "map" | "set") => {
                let name = field(spec, "name")?;
                let t = self.table_mut(spec, "table")?;
                match t.maps.iter().position(|(n, _)| *n == name) {
                    Some(i) => {
                        t.maps.remove(i);
                        Ok(())
                    }
                    None if verb == "destroy" => Ok(()),
                    None => Err(no_such()),
                }
            }
            ("flush", "map" | "set") => {
                let name = field(spec, "name")?;
                self.map_mut(spec, &name)?.1.elements.clear();
                Ok(())
            }
            ("add" | "create", "element") => {
                let name = field(spec, "name")?;
                let elems = elements_of(spec);
                let t = self.table_mut(spec, "table")?;
                let i = t
                    .maps
                    .iter()
                    .position(|(n, _)| *n == name)
                    .ok_or_else(no_such)?;
                let mut m = std::mem::take(&mut t.maps[i].1);
                let result = elems.iter().try_for_each(|e| add_element(t, &mut m, e));
                t.maps[i].1 = m;
                result
            }
            ("delete" | "destroy", "element") => {
                let name = field(spec, "name")?;
                let elems = elements_of(spec);
                let (_, m) = self.map_mut(spec, &name)?;
                for e in &elems {
                    let key = element_key(e);
                    match m.elements.iter().position(|(k, _)| *k == key) {
                        Some(i) => {
                            m.elements.remove(i);
                        }
                        None if verb == "destroy" => {}
                        None => return Err(no_such()),
                    }
                }
                Ok(())
            }
            (verb, kind) => Err(format!("Error: the fake host's nft cannot {verb} a {kind}")),
        }
    }

    fn table_mut(
        &mut self,
        spec: &Map<String, Value>,
        name_field: &str,
    ) -> Result<&mut Table, String> {
        let key = table_key(spec, name_field)?;
        self.tables.get_mut(&key).ok_or_else(no_such)
    }

    fn chain_mut(&mut self, spec: &Map<String, Value>, chain: &str) -> Result<&mut Chain, String> {
        self.table_mut(spec, "table")?
            .chains
            .iter_mut()
            .find(|(n, _)| n == chain)
            .map(|(_, c)| c)
            .ok_or_else(no_such)
    }

    fn map_mut(
        &mut self,
        spec: &Map<String, Value>,
        name: &str,
    ) -> Result<&mut (String, MapSpec), String> {
        self.table_mut(spec, "table")?
            .maps
            .iter_mut()
            .find(|(n, _)| n == name)
            .ok_or_else(no_such)
    }
}

/// The named counters a rule's statements use (`{"counter": "NAME"}`).
fn counters_of(expr: &Value) -> impl Iterator<Item = &str> {
    expr.as_array()
        .into_iter()
        .flatten()
        .filter_map(|stmt| stmt.get("counter").and_then(Value::as_str))
}

fn field(spec: &Map<String, Value>, name: &str) -> Result<String, String> {
    spec.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("Error: object without \"{name}\""))
}

fn table_key(spec: &Map<String, Value>, name_field: &str) -> Result<(String, String), String> {
    let family = spec
        .get("family")
        .and_then(Value::as_str)
        .unwrap_or("ip")
        .to_owned();
    Ok((family, field(spec, name_field)?))
}

fn exists() -> String {
    "Error: Could not process rule: File exists".into()
}

fn no_such() -> String {
    "Error: Could not process rule: No such file or directory".into()
}

fn busy() -> String {
    "Error: Could not process rule: Device or resource busy".into()
}

/// A key with attributes (`{"elem": {"val": …}}`) reduced to its value.
fn element_key(e: &Value) -> Value {
    let key = match e.as_array().map(Vec::as_slice) {
        Some([key, _]) => key,
        _ => e,
    };
    key.get("elem")
        .and_then(|inner| inner.get("val"))
        .unwrap_or(key)
        .clone()
}

fn add_element(t: &Table, m: &mut MapSpec, e: &Value) -> Result<(), String> {
    let (key, data) = match e.as_array().map(Vec::as_slice) {
        Some([key, data]) => (element_key(key), data.clone()),
        _ => (element_key(e), Value::Null),
    };
    if let Some(target) = jump_target(&data) {
        if !t.chains.iter().any(|(n, _)| n == target) {
            return Err(no_such());
        }
    }
    let interval = m.interval();
    for (k, d) in &m.elements {
        let clash = *k == key || (interval && overlaps(k, &key));
        if clash && *d != data {
            return Err(exists());
        }
        if clash {
            return Ok(());
        }
    }
    m.elements.push((key, data));
    Ok(())
}

fn jump_target(data: &Value) -> Option<&str> {
    data.get("jump")
        .or_else(|| data.get("goto"))?
        .get("target")?
        .as_str()
}

fn overlaps(a: &Value, b: &Value) -> bool {
    match (as_net(a), as_net(b)) {
        (Some(a), Some(b)) => a.contains(&b.network()) || b.contains(&a.network()),
        _ => false,
    }
}

/// Whether a map element or a rule of `t` jumps to `chain`.
fn referenced(t: &Table, chain: &str) -> bool {
    let in_maps = t
        .maps
        .iter()
        .flat_map(|(_, m)| &m.elements)
        .any(|(_, d)| jump_target(d) == Some(chain));
    let in_rules = t.chains.iter().flat_map(|(_, c)| &c.rules).any(|r| {
        r.expr
            .to_string()
            .contains(&format!("\"target\":\"{chain}\""))
    });
    in_maps || in_rules
}

/// The `elem` list of an element command (none when absent).
fn elements_of(spec: &serde_json::Map<String, Value>) -> Vec<Value> {
    spec.get("elem")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::firewall::{
        add_network, expected_table, join_network, remove_network, FirewallMode, FirewallNet,
    };

    fn net(name: &str, bridge: &str, subnet: &str) -> FirewallNet {
        FirewallNet {
            name: name.into(),
            bridge: bridge.into(),
            mode: FirewallMode::Nat,
            ipv4: vec![subnet.parse().unwrap()],
            ipv6: vec![],
            forward_dev: None,
            nat_ipv6: false,
            nat_addresses: None,
            nat_ports: (1024, 65535),
            serves_dhcp_dns: true,
            forwards: vec![],
        }
    }

    #[test]
    fn our_transactions_leave_what_expected_table_says() {
        let a = net("a", "sybr0", "192.168.100.0/24");
        let b = net("b", "sybr1", "192.168.101.0/24");
        let mut rs = Ruleset::default();
        rs.apply(&add_network(&a)).unwrap();
        rs.apply(&add_network(&b)).unwrap();
        let seen = rs.observe().unwrap().unwrap();
        let want = expected_table(&[a.clone(), b.clone()]);
        assert_eq!(strip_handles(seen), strip_handles(want));
        // Adding again changes nothing.
        rs.apply(&add_network(&a)).unwrap();
        rs.apply(&remove_network(&b, false)).unwrap();
        let seen = rs.observe().unwrap().unwrap();
        assert_eq!(
            strip_handles(seen),
            strip_handles(expected_table(std::slice::from_ref(&a)))
        );
        rs.apply(&remove_network(&a, true)).unwrap();
        assert!(rs.observe().unwrap().is_none());
    }

    #[test]
    fn joining_a_ready_table_leaves_the_same_table_and_fails_on_an_empty_ruleset() {
        let a = net("a", "sybr0", "192.168.100.0/24");
        let b = net("b", "sybr1", "192.168.101.0/24");
        let mut rs = Ruleset::default();
        // Nothing to join: the network's chains have no table, so the step falls back.
        assert!(rs.apply(&join_network(&b)).is_err());
        assert!(rs.observe().unwrap().is_none());
        rs.apply(&add_network(&a)).unwrap();
        rs.apply(&join_network(&b)).unwrap();
        let seen = rs.observe().unwrap().unwrap();
        assert_eq!(
            strip_handles(seen),
            strip_handles(expected_table(&[a.clone(), b.clone()]))
        );
    }

    #[test]
    fn a_failing_command_changes_nothing() {
        let a = net("a", "sybr0", "192.168.100.0/24");
        let mut rs = Ruleset::default();
        rs.apply(&add_network(&a)).unwrap();
        let before = rs.observe().unwrap();
        let doc = json!({ "nftables": [
            { "add": { "chain": { "family": "inet", "table": "switchyard", "name": "x" } } },
            { "delete": { "chain": { "family": "inet", "table": "switchyard", "name": "nosuch" } } },
        ]});
        let err = rs.apply(&doc).unwrap_err();
        assert!(err.contains("No such file"), "{err}");
        assert_eq!(rs.observe().unwrap(), before);
    }

    #[test]
    fn an_element_pointing_elsewhere_is_refused_as_nft_does() {
        let a = net("a", "sybr0", "192.168.100.0/24");
        let clash = net("c", "sybr0", "192.168.100.0/24");
        let mut rs = Ruleset::default();
        rs.apply(&add_network(&a)).unwrap();
        let err = rs.apply(&add_network(&clash)).unwrap_err();
        assert!(err.contains("File exists"), "{err}");
    }

    fn strip_handles(mut t: ObservedTable) -> ObservedTable {
        for c in t
            .base
            .values_mut()
            .chain(t.chains.values_mut())
            .chain(t.legacy.values_mut())
        {
            for r in &mut c.rules {
                r.handle = 0;
            }
        }
        t
    }
}
