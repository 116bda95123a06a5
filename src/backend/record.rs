//! Runtime records: what `start` applied to the host, written atomically under the run dir
//! before the first change (status `starting`) and again when it completed (`active`). A record
//! still `starting` on the next run means start was interrupted: that is drift to repair.
//!
//! A record that cannot be read or parsed is an error to report, never "not running": the
//! network may well hold a bridge, rules and a dnsmasq.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::store::{self, read_nofollow, remove_name_files, write_atomic, StoreError};

/// The record format this release writes. Records without a version come from the first
/// release (raw file names, one nftables script for every network).
pub const RECORD_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Starting,
    Active,
}

/// One active (or interrupted) network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeRecord {
    #[serde(default)]
    pub version: u32,
    pub network: String,
    pub status: RecordStatus,
    /// The definition as it was started (the running config, libvirt's "live XML").
    pub def_xml: String,
    /// Every step start carried out, in order, as carried out (a created bridge with its
    /// interface index); stop undoes them.
    pub plan: Plan,
    pub started_unix: u64,
}

/// A record that exists but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the runtime record {} is unreadable: {reason}", .path.display())]
pub struct RecordError {
    pub path: PathBuf,
    pub reason: String,
}

pub fn record_path(run: &Path, network: &str) -> PathBuf {
    store::name_path(run, network, ".json")
}

/// The record of `network`: `Ok(None)` when there is none (the network is not running).
pub fn load(run: &Path, network: &str) -> Result<Option<RuntimeRecord>, RecordError> {
    let path = record_path(run, network);
    let bad = |reason: String| RecordError {
        path: path.clone(),
        reason,
    };
    let Some(text) = read_nofollow(&path).map_err(|e| bad(e.to_string()))? else {
        return Ok(None);
    };
    let record: RuntimeRecord = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if record.network != network {
        return Err(bad(format!(
            "it belongs to network '{}'",
            record.network.escape_debug()
        )));
    }
    Ok(Some(record))
}

pub fn save(run: &Path, record: &RuntimeRecord) -> Result<(), StoreError> {
    let json = serde_json::to_string_pretty(record).expect("records always serialize");
    let path = run.join(format!(
        "{}.json",
        crate::model::names::file_component(&record.network)
    ));
    write_atomic(&path, json.as_bytes())?;
    if let Some(legacy) = store::legacy_path(run, &record.network, ".json") {
        store::remove_durable(&legacy)?;
    }
    Ok(())
}

pub fn remove(run: &Path, network: &str) -> Result<(), StoreError> {
    remove_name_files(run, network, ".json").map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str) -> RuntimeRecord {
        RuntimeRecord {
            version: RECORD_VERSION,
            network: name.into(),
            status: RecordStatus::Active,
            def_xml: "<network/>".into(),
            plan: Plan::default(),
            started_unix: 1,
        }
    }

    #[test]
    fn missing_is_none_and_corrupt_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(load(dir.path(), "lab"), Ok(None));
        save(dir.path(), &record("lab")).expect("save");
        assert_eq!(load(dir.path(), "lab"), Ok(Some(record("lab"))));
        std::fs::write(dir.path().join("lab.json"), "{ not json").expect("corrupt");
        let err = load(dir.path(), "lab").expect_err("corrupt");
        assert!(err.to_string().contains("unreadable"), "{err}");
        remove(dir.path(), "lab").expect("remove");
        assert_eq!(load(dir.path(), "lab"), Ok(None));
    }

    #[test]
    fn a_record_of_the_first_release_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = r#"{"network":"my lab","status":"active","def_xml":"<network/>",
            "plan":{"network":"my lab","steps":[
              {"step":"create_bridge","name":"sybr0","mac":null,"mtu":null,"stp":false,"forward_delay_cs":0},
              {"step":"load_firewall","script":"x","previous":"y"},
              {"step":"write_file","path":"/run/x/my lab.conf","contents":"c"}]},
            "started_unix":5}"#;
        std::fs::write(dir.path().join("my lab.json"), old).expect("legacy record");
        let rec = load(dir.path(), "my lab")
            .expect("readable")
            .expect("present");
        assert_eq!(rec.version, 0);
        assert_eq!(rec.plan.steps.len(), 3);
        save(dir.path(), &rec).expect("save migrates");
        assert!(dir.path().join("my%20lab.json").exists());
        assert!(!dir.path().join("my lab.json").exists());
    }
}
