//! Raw interface counters as the kernel reports them (`struct rtnl_link_stats64`, the subset
//! switchyard shows). Pure data: the host layer fills it, the rate tracker consumes it.

use serde::Serialize;

/// Cumulative traffic counters of one link, since the link was created or its driver reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LinkCounters {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Bad packets received.
    pub rx_errors: u64,
    /// Packet transmit problems.
    pub tx_errors: u64,
    /// Received packets dropped (no buffer space, filtered, ...).
    pub rx_dropped: u64,
    /// Transmitted packets dropped.
    pub tx_dropped: u64,
    /// Multicast packets received.
    pub multicast: u64,
}

impl LinkCounters {
    /// The counters in a fixed order, for field-wise arithmetic in the rate tracker.
    pub fn to_array(self) -> [u64; 9] {
        [
            self.rx_bytes,
            self.tx_bytes,
            self.rx_packets,
            self.tx_packets,
            self.rx_errors,
            self.tx_errors,
            self.rx_dropped,
            self.tx_dropped,
            self.multicast,
        ]
    }
}
