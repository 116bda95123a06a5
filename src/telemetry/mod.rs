//! Telemetry: the "watch" half of switchyard.
//!
//! Pure parts: [`counters`], [`rates`] and [`history`] (rates and sparkline rings from counter
//! samples), [`leases`] and [`guests`] (parsers), [`neigh`] (guest MACs and IP neighbours from
//! netlink messages), [`ports`] (port assembly), [`snapshot`] (what is published) and
//! [`units`] (figures for people). I/O parts, Linux only, each a thin layer that feeds the pure
//! ones: [`stats`] (RTM_GETSTATS counters), [`netns`] (peer namespace names), [`procscan`]
//! (which process holds which tap, libvirt runtime XML) and [`lease_watch`] (lease files).
//! [`collector`] ties them into snapshots and [`task`] runs it: one snapshot per tick, and one
//! at once when links change. The netlink sockets are bound to the network namespace of the
//! thread that opens them.

pub mod collector;
pub mod guests;
pub mod history;
pub mod lease_watch;
pub mod leases;
pub mod neigh;
pub mod netns;
pub(crate) mod nlroute;
pub mod ports;
pub mod procscan;
pub mod rates;
pub mod snapshot;
pub mod stats;
pub mod task;
pub mod units;

pub use crate::state::LinkCounters;
pub use collector::{Collector, CollectorError, CollectorOptions};
pub use history::History;
pub use leases::{Lease, LeaseFile};
pub use netns::NetnsResolver;
pub use ports::{assemble_ports, IpSource, NetworkPorts, PortInfo, PortInputs};
pub use procscan::{GuestIndex, GuestProcess};
pub use rates::{Metric, PortKey, RateTracker, Rates};
pub use snapshot::{monotonic_now, rates_between, PortsSnapshot, SnapshotCause};
pub use stats::StatsSocket;
pub use task::CollectorHandle;
