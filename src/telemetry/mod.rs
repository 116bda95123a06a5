//! Telemetry: the "watch" half of switchyard.
//!
//! Pure parts: [`counters`], [`rates`] and [`history`] (rates and sparkline rings from counter
//! samples), [`leases`] and [`guests`] (parsers), [`neigh`] (guest MACs and IP neighbours from
//! netlink messages), [`ports`] (port assembly), [`snapshot`] (what is published) and
//! [`units`] (figures for people). The collector reads the host only through
//! [`crate::host::Host`] (links, RTM_GETSTATS counters, neighbours, link events, namespace
//! names, guest processes, lease files — their sockets and `/proc` reads live in `host/`);
//! [`lease_watch`] re-reads lease files when they change. [`collector`] ties them into
//! snapshots and [`task`] runs it: one snapshot per tick, and one at once when links change.

pub mod collector;
pub mod guests;
pub mod history;
pub mod lease_watch;
pub mod leases;
pub mod neigh;
pub mod ports;
pub mod rates;
pub mod snapshot;
pub mod task;
pub mod units;

pub use crate::state::LinkCounters;
pub use crate::state::{GuestIndex, GuestProcess};
pub use collector::{Collector, CollectorError, CollectorOptions};
pub use history::History;
pub use leases::{Lease, LeaseFile};
pub use ports::{assemble_ports, IpSource, NetworkPorts, PortInfo, PortInputs};
pub use rates::{Metric, PortKey, RateMeter, RateTracker, Rates};
pub use snapshot::{monotonic_now, PortsSnapshot, SnapshotCause};
pub use task::CollectorHandle;
