//! Our nftables table: loaded with `nft -j -f -` (one atomic JSON transaction on stdin, an
//! argument vector, no shell) and read back with `nft -j list`. The text-script functions
//! (`load`, `check`, `observe`) serve the previous layout until its callers move over.

use std::io::Write;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::plan::firewall::{parse_table, ObservedTable, FAMILY, TABLE, TABLE_NAME};

/// Failure to run or load into nft, with nft's own words.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error("cannot run nft ({0}); install it with: apt-get install nftables")]
    Spawn(std::io::Error),
    #[error("nft rejected the rules: {0}")]
    Rejected(String),
    #[error("cannot read nft's output: {0}")]
    Output(String),
}

/// Loads `script` in one transaction.
pub fn load(script: &str) -> Result<(), NftError> {
    run_with_stdin(&["-f", "-"], script).map(|_| ())
}

/// Checks `script` without loading it (`nft -c`).
pub fn check(script: &str) -> Result<(), NftError> {
    run_with_stdin(&["-c", "-f", "-"], script).map(|_| ())
}

/// Loads a `{"nftables": […]}` document (see [`crate::plan::firewall::add_network`]) in one
/// transaction; nft's own words on failure.
pub fn load_json(doc: &Value) -> Result<(), NftError> {
    run_with_stdin(&["-j", "-f", "-"], &doc.to_string()).map(|_| ())
}

/// Checks a `{"nftables": […]}` document without loading it (`nft -c -j -f -`).
pub fn check_json(doc: &Value) -> Result<(), NftError> {
    run_with_stdin(&["-c", "-j", "-f", "-"], &doc.to_string()).map(|_| ())
}

/// `nft -j list table inet switchyard`, for [`crate::plan::firewall::parse_table`]; `None`
/// when the table does not exist.
pub fn list_table() -> Result<Option<String>, NftError> {
    run(&["-j", "list", "table", FAMILY, TABLE_NAME])
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Result<String, NftError> {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NftError::Spawn)?;
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .map_err(|e| NftError::Output(e.to_string()))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| NftError::Output(e.to_string()))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(NftError::Rejected(msg));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn run(args: &[&str]) -> Result<Option<String>, NftError> {
    finish(spawn(args)?)
}

fn spawn(args: &[&str]) -> Result<Child, NftError> {
    Command::new("nft")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NftError::Spawn)
}

/// nft's output; `None` when what was listed does not exist.
fn finish(child: Child) -> Result<Option<String>, NftError> {
    let out = child
        .wait_with_output()
        .map_err(|e| NftError::Output(e.to_string()))?;
    if out.status.success() {
        return Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()));
    }
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("No such file or directory") {
        return Ok(None);
    }
    Err(NftError::Rejected(err.trim().to_owned()))
}

/// An `nft -j list table inet switchyard` under way, so its process start overlaps other work.
pub struct PendingObserve(Child);

impl PendingObserve {
    pub fn start() -> Result<PendingObserve, NftError> {
        spawn(&["-j", "list", "table", FAMILY, TABLE_NAME]).map(PendingObserve)
    }

    /// Our table as listed, parsed; `None` when it does not exist.
    pub fn finish(self) -> Result<Option<ObservedTable>, NftError> {
        match finish(self.0)? {
            None => Ok(None),
            Some(json) => parse_table(&json)
                .map(Some)
                .map_err(|e| NftError::Output(e.to_string())),
        }
    }
}

/// The whole ruleset, every family's tables, as `nft -j list ruleset` prints it.
pub fn ruleset() -> Result<Value, NftError> {
    match run(&["-j", "list", "ruleset"])? {
        None => Ok(serde_json::json!({ "nftables": [] })),
        Some(json) => serde_json::from_str(&json).map_err(|e| NftError::Output(e.to_string())),
    }
}

/// Our table, listed and parsed; `None` when it does not exist.
pub fn observe() -> Result<Option<ObservedTable>, NftError> {
    PendingObserve::start()?.finish()
}

/// The named counters of our table: name → (packets, bytes); empty when it does not exist.
pub fn counters() -> Result<std::collections::BTreeMap<String, (u64, u64)>, NftError> {
    match run(&["-j", "list", "counters", "table", FAMILY, TABLE_NAME])? {
        None => Ok(Default::default()),
        Some(json) => parse_counters(&json),
    }
}

/// Pure part of [`counters`]: the `counter` objects of a listing.
pub fn parse_counters(
    json: &str,
) -> Result<std::collections::BTreeMap<String, (u64, u64)>, NftError> {
    let doc: Value = serde_json::from_str(json).map_err(|e| NftError::Output(e.to_string()))?;
    Ok(doc["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("counter"))
        .filter(|c| c["table"] == TABLE_NAME && c["family"] == FAMILY)
        .filter_map(|c| {
            Some((
                c["name"].as_str()?.to_owned(),
                (c["packets"].as_u64()?, c["bytes"].as_u64()?),
            ))
        })
        .collect())
}

/// A base chain of someone else's table that drops by default at `hook`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropChain {
    pub table: String,
    pub chain: String,
    pub hook: String,
}

/// Base chains outside our table with policy drop (they can block DHCP or forwarding).
pub fn foreign_drop_chains() -> Result<Vec<DropChain>, NftError> {
    let json = run(&["-j", "list", "ruleset"])?.unwrap_or_default();
    if json.trim().is_empty() {
        return Ok(Vec::new());
    }
    parse_drop_chains(&json)
}

/// Pure part of [`foreign_drop_chains`].
pub fn parse_drop_chains(json: &str) -> Result<Vec<DropChain>, NftError> {
    let doc: Value = serde_json::from_str(json).map_err(|e| NftError::Output(e.to_string()))?;
    let items = doc
        .get("nftables")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(items
        .iter()
        .filter_map(|i| i.get("chain"))
        .filter(|c| c.get("policy").and_then(Value::as_str) == Some("drop"))
        .filter_map(|c| {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let table = format!("{} {}", s("family"), s("table"));
            (table != TABLE).then(|| DropChain {
                table,
                chain: s("name"),
                hook: s("hook"),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_chains_outside_our_table() {
        let json = r#"{"nftables":[
          {"chain":{"family":"inet","table":"filter","name":"input","hook":"input","policy":"drop"}},
          {"chain":{"family":"inet","table":"switchyard","name":"input","hook":"input","policy":"drop"}},
          {"chain":{"family":"ip","table":"nat","name":"post","hook":"postrouting","policy":"accept"}}]}"#;
        let chains = parse_drop_chains(json).expect("parse");
        assert_eq!(
            chains,
            vec![DropChain {
                table: "inet filter".into(),
                chain: "input".into(),
                hook: "input".into()
            }]
        );
    }
}
