//! switchyard: manage and watch a KVM host's virtual networks without libvirtd.
//!
//! Layout (see README): `model` and `plan` are pure; `host` is the only module that touches the
//! system; `store` owns files on disk; `cli` and `tui` sit on top.

pub mod telemetry;
pub mod tui;
