//! nft's JSON shown as nft-like text, for plan previews and drift reports. Display only: this
//! text is never fed to nft. Strings are shown quoted and escaped, so a hostile name cannot
//! pass for syntax; anything not recognised is shown as compact JSON.

use serde_json::{json, Value};

/// One line per command of a `{"nftables": […]}` document, nft-like:
/// `add rule inet switchyard net_lab_to iifname "sybr1" accept`.
pub fn describe(doc: &Value) -> String {
    let cmds = doc
        .get("nftables")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    cmds.iter().map(|c| command(c) + "\n").collect()
}

/// A rule's expressions and statements as nft-like text: `ip saddr 10.0.0.0/24 accept`.
pub fn rule_text(expr: &[Value]) -> String {
    let words: Vec<String> = expr.iter().map(statement).collect();
    words.join(" ")
}

fn command(cmd: &Value) -> String {
    let Some((verb, Value::Object(obj))) = single(cmd) else {
        return compact(cmd);
    };
    let Some((kind, body)) = obj.iter().next() else {
        return compact(cmd);
    };
    let place = |name_key: &str| {
        let s = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        match name_key {
            "" => format!("{} {}", s("family"), s("name")),
            _ => format!("{} {} {}", s("family"), s("table"), s(name_key)),
        }
    };
    let rest = match kind.as_str() {
        "table" => place(""),
        "chain" => format!("{}{}", place("name"), chain_spec(body)),
        "map" | "set" => format!("{}{}", place("name"), map_spec(body)),
        "rule" => rule_command(body, place("chain")),
        "element" => format!("{} {{ {} }}", place("name"), elements(body)),
        "counter" => place("name"),
        _ => compact(body),
    };
    format!("{verb} {kind} {rest}")
}

fn rule_command(body: &Value, place: String) -> String {
    let mut out = place;
    if let Some(h) = body.get("handle").and_then(Value::as_u64) {
        out.push_str(&format!(" handle {h}"));
    }
    if let Some(expr) = body.get("expr").and_then(Value::as_array) {
        out.push(' ');
        out.push_str(&rule_text(expr));
    }
    out
}

fn chain_spec(body: &Value) -> String {
    let s = |k: &str| body.get(k).map(plain).unwrap_or_default();
    match body.get("hook") {
        Some(_) => format!(
            " {{ type {} hook {} priority {}; policy {}; }}",
            s("type"),
            s("hook"),
            s("prio"),
            s("policy")
        ),
        None => String::new(),
    }
}

fn map_spec(body: &Value) -> String {
    let s = |k: &str| body.get(k).map(plain).unwrap_or_default();
    let flags = match body.get("flags") {
        Some(f) => format!(" flags {};", plain(f)),
        None => String::new(),
    };
    match body.get("map") {
        Some(_) => format!(" {{ type {} : {};{flags} }}", s("type"), s("map")),
        None => format!(" {{ type {};{flags} }}", s("type")),
    }
}

fn elements(body: &Value) -> String {
    let elems = body.get("elem").and_then(Value::as_array);
    let shown: Vec<String> = elems
        .into_iter()
        .flatten()
        .map(|e| match e.as_array().map(Vec::as_slice) {
            Some([k, v]) => element_text(k, v),
            _ => key_text(e),
        })
        .collect();
    shown.join(", ")
}

/// A map element as nft-like text: `"sybr1" : jump net_lab_to`.
pub(crate) fn element_text(key: &Value, data: &Value) -> String {
    format!("{} : {}", key_text(key), statement(data))
}

/// An element key: addresses bare, interface names quoted, as nft shows them.
fn key_text(k: &Value) -> String {
    match k.as_str() {
        Some(s) if s.parse::<std::net::IpAddr>().is_ok() => s.to_owned(),
        _ => value(k),
    }
}

/// A JSON object with exactly one key, as (key, value).
fn single(v: &Value) -> Option<(&str, &Value)> {
    let obj = v.as_object()?;
    match obj.len() {
        1 => obj.iter().next().map(|(k, v)| (k.as_str(), v)),
        _ => None,
    }
}

fn statement(stmt: &Value) -> String {
    let Some((key, body)) = single(stmt) else {
        return compact(stmt);
    };
    match (key, body) {
        ("accept" | "drop" | "return" | "continue", Value::Null) => key.to_owned(),
        ("jump" | "goto", _) => format!("{key} {}", plain(&body["target"])),
        ("match", _) => matcher(body),
        ("reject", _) => "reject".to_owned(),
        ("masquerade", Value::Null) => "masquerade".to_owned(),
        ("masquerade", _) => format!("masquerade to :{}", value(&body["port"])),
        ("snat" | "dnat", _) => nat(key, body),
        ("vmap", _) => format!("{} vmap {}", value(&body["key"]), value(&body["data"])),
        ("counter", Value::String(name)) => format!("counter name {name:?}"),
        ("counter", _) => "counter".to_owned(),
        _ => compact(stmt),
    }
}

fn matcher(m: &Value) -> String {
    let left = value(&m["left"]);
    // Interface names are always quoted, as nft does; other words (protocols, addresses) not.
    let right = match left.as_str() {
        "iifname" | "oifname" => value(&m["right"]),
        _ => plain_or_value(&m["right"]),
    };
    match m["op"].as_str() {
        Some("==" | "in") => format!("{left} {right}"),
        Some(op) => format!("{left} {op} {right}"),
        None => compact(m),
    }
}

fn nat(key: &str, body: &Value) -> String {
    let family = body.get("family").map(|f| format!(" {}", plain(f)));
    let mut out = format!(
        "{key}{} to {}",
        family.unwrap_or_default(),
        value(&body["addr"])
    );
    if let Some(port) = body.get("port") {
        out.push_str(&format!(":{}", value(port)));
    }
    out
}

/// An expression or immediate value.
fn value(v: &Value) -> String {
    match v {
        Value::String(s) if s.starts_with('@') => s.clone(),
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
        Value::Object(_) => object_value(v),
        _ => compact(v),
    }
}

fn object_value(v: &Value) -> String {
    let Some((key, body)) = single(v) else {
        return compact(v);
    };
    match key {
        "meta" => match plain(&body["key"]) {
            k if matches!(k.as_str(), "iifname" | "oifname" | "iif" | "oif" | "mark") => k,
            k => format!("meta {k}"),
        },
        "payload" => format!("{} {}", plain(&body["protocol"]), plain(&body["field"])),
        "ct" => format!("ct {}", plain(&body["key"])),
        "fib" => {
            let flags: Vec<String> = body["flags"]
                .as_array()
                .into_iter()
                .flatten()
                .map(plain)
                .collect();
            format!("fib {} {}", flags.join(" . "), plain(&body["result"]))
        }
        "map" => format!(
            "{} map {}",
            value(&body["key"]),
            value(&json!({ "set": body["data"]["set"] }))
        ),
        "prefix" => format!("{}/{}", plain(&body["addr"]), plain(&body["len"])),
        "range" => match body.as_array().map(Vec::as_slice) {
            Some([lo, hi]) => format!("{}-{}", plain(lo), plain(hi)),
            _ => compact(v),
        },
        "set" => {
            let items: Vec<String> = body
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| match item.as_array().map(Vec::as_slice) {
                    Some([k, v]) => format!("{} : {}", value(k), value(v)),
                    _ => value(item),
                })
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        _ => compact(v),
    }
}

/// A plain string as a bare word, anything else as [`value`] shows it.
fn plain_or_value(v: &Value) -> String {
    match v {
        Value::String(s) if is_word(s) => s.clone(),
        _ => value(v),
    }
}

/// A value without quotes when it is a plain word or number (names we generated, types).
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) if is_word(s) => s.clone(),
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
        _ => compact(v),
    }
}

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:/".contains(&b))
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
