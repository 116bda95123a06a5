//! switchyard: manage and watch a KVM host's virtual networks without libvirtd.
//!
//! `model` and `plan` are pure; `host` is the only module that touches the system; `store`
//! owns files on disk; `backend` ties them into the operations that `cli` (and the TUI) use;
//! `telemetry` watches ports and traffic.

pub mod backend;
pub mod cli;
pub mod host;
pub mod live;
pub mod model;
pub mod plan;
pub mod sandbox;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tui;
