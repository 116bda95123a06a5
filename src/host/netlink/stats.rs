//! Interface counters of every link in the current network namespace, by one `RTM_GETSTATS`
//! dump asking only for `IFLA_STATS_LINK_64` (as `ip stats show` does): no link attributes,
//! no addresses, just `struct rtnl_link_stats64` per link.

use std::io;

use netlink_packet_core::{NlaBuffer, NlasIterator, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_route::link::Stats64;
use netlink_packet_route::stats::{StatsFilterMask, StatsHeader, StatsMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::socket::RouteSocket;
use crate::state::LinkCounters;

/// `RTM_NEWSTATS` (include/uapi/linux/rtnetlink.h): the type of each dump reply.
const RTM_NEWSTATS: u16 = 92;
/// `IFLA_STATS_LINK_64` (include/uapi/linux/if_link.h).
const IFLA_STATS_LINK_64: u16 = 1;
/// Size of `struct if_stats_msg` that starts each reply.
const IF_STATS_MSG_LEN: usize = 12;

/// A long-lived rtnetlink socket for counter dumps, bound to the namespace it was opened in.
pub struct StatsSocket {
    sock: RouteSocket,
    /// Links in the last dump, to size the next one's vector.
    last_len: usize,
}

impl StatsSocket {
    /// Open the socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Self> {
        Ok(Self {
            sock: RouteSocket::open()?,
            last_len: 0,
        })
    }

    /// Counters of every link, as `(ifindex, counters)` in kernel order.
    pub fn dump(&mut self) -> io::Result<Vec<(u32, LinkCounters)>> {
        let mut header = StatsHeader::default();
        header.family = AddressFamily::Unspec;
        header.filter_mask = StatsFilterMask::Link64;
        let mut request = StatsMessage::default();
        request.header = header;
        let seq = self.sock.send(
            RouteNetlinkMessage::GetStats(request),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        // Sized like the last dump: no regrowing (and copying) of a large vector every tick.
        let mut links = Vec::with_capacity(self.last_len);
        self.sock.recv_replies(seq, |kind, payload| {
            if kind == RTM_NEWSTATS {
                links.extend(parse_stats_reply(payload)?);
            }
            Ok(())
        })?;
        self.last_len = links.len();
        Ok(links)
    }
}

/// One `RTM_NEWSTATS` payload (`if_stats_msg` + attributes) to `(ifindex, counters)`;
/// `None` if it carries no `IFLA_STATS_LINK_64`. Parsed in place, without allocating.
pub fn parse_stats_reply(payload: &[u8]) -> io::Result<Option<(u32, LinkCounters)>> {
    let bad = |e: netlink_packet_core::DecodeError| {
        io::Error::new(io::ErrorKind::InvalidData, format!("RTM_NEWSTATS: {e}"))
    };
    let header = StatsHeader::parse(payload).map_err(bad)?;
    let attrs = payload.get(IF_STATS_MSG_LEN..).unwrap_or_default();
    for attr in NlasIterator::new(attrs) {
        let attr: NlaBuffer<&[u8]> = attr.map_err(bad)?;
        if attr.kind() == IFLA_STATS_LINK_64 {
            let stats = Stats64::parse(attr.value()).map_err(bad)?;
            return Ok(Some((header.ifindex, super::decode::counters(&stats))));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply as the kernel builds it: if_stats_msg, then one IFLA_STATS_LINK_64 attribute
    /// holding the 23 or 25 u64 of rtnl_link_stats64 depending on kernel version.
    fn reply(ifindex: u32, values: &[u64]) -> Vec<u8> {
        let mut v = vec![0u8, 0, 0, 0];
        v.extend_from_slice(&ifindex.to_ne_bytes());
        v.extend_from_slice(&1u32.to_ne_bytes());
        let len = 4 + 8 * values.len();
        v.extend_from_slice(&(len as u16).to_ne_bytes());
        v.extend_from_slice(&IFLA_STATS_LINK_64.to_ne_bytes());
        for x in values {
            v.extend_from_slice(&x.to_ne_bytes());
        }
        v
    }

    #[test]
    fn parses_counters_in_kernel_field_order() {
        // rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped,
        // tx_dropped, multicast, then detail counters.
        let mut values: Vec<u64> = (1..=9).collect();
        values.extend([0; 16]);
        let (idx, c) = parse_stats_reply(&reply(42, &values))
            .expect("valid")
            .expect("link64");
        assert_eq!(idx, 42);
        let want = LinkCounters {
            rx_packets: 1,
            tx_packets: 2,
            rx_bytes: 3,
            tx_bytes: 4,
            rx_errors: 5,
            tx_errors: 6,
            rx_dropped: 7,
            tx_dropped: 8,
            multicast: 9,
        };
        assert_eq!(c, want);
        // Older kernels send 23 fields; the tail is zero-filled, not an error.
        values.truncate(23);
        let (_, old) = parse_stats_reply(&reply(42, &values))
            .expect("valid")
            .expect("link64");
        assert_eq!(old, want);
    }

    #[test]
    fn header_only_and_garbage() {
        let header_only = &reply(3, &[])[..12];
        assert_eq!(parse_stats_reply(header_only).expect("valid"), None);
        assert!(parse_stats_reply(&[0, 1, 2]).is_err(), "short header");
        let mut broken = reply(3, &[1, 2, 3]);
        broken[12] = 200; // attribute length beyond the buffer
        assert!(parse_stats_reply(&broken).is_err());
    }
}
