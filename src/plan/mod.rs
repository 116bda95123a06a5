//! Pure planning: desired definitions and observed host state become ordered steps with undo,
//! plus the texts of generated configuration (nftables table, dnsmasq config).

pub mod bandwidth;
pub mod change;
pub mod dnsmasq;
pub mod drift;
pub mod firewall;
pub mod forward_probe;
pub mod ports;
pub mod start;
pub mod steps;

pub use drift::Drift;
pub use start::{detect_drift, firewall_net, plan_start, plan_stop, Observed, PlanError};
pub use steps::{Access, BridgeSpec, Outcome, Plan, Step};
