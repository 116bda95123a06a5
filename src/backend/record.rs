//! Runtime records: what `start` applied to the host, written atomically under the run dir
//! before the first change (status `starting`) and again when it completed (`active`). A record
//! still `starting` on the next run means start was interrupted: that is drift to repair.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::store::{remove_durable, write_atomic, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Starting,
    Active,
}

/// One active (or interrupted) network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeRecord {
    pub network: String,
    pub status: RecordStatus,
    /// The definition as it was started (the running config, libvirt's "live XML").
    pub def_xml: String,
    /// Every step start planned, in order; stop undoes them.
    pub plan: Plan,
    pub started_unix: u64,
}

pub fn record_path(run: &Path, network: &str) -> PathBuf {
    run.join(format!("{network}.json"))
}

pub fn load(run: &Path, network: &str) -> Option<RuntimeRecord> {
    let text = std::fs::read_to_string(record_path(run, network)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn save(run: &Path, record: &RuntimeRecord) -> Result<(), StoreError> {
    let json = serde_json::to_string_pretty(record).expect("records always serialize");
    write_atomic(&record_path(run, &record.network), json.as_bytes())
}

pub fn remove(run: &Path, network: &str) -> Result<(), StoreError> {
    remove_durable(&record_path(run, network)).map(|_| ())
}
