//! Bulk dumps for the live views (every link, every neighbour) over one long-lived blocking
//! rtnetlink socket with reused buffers, decoded in place by [`super::wire`].
//!
//! The general [`Netlink`](super::Netlink) connection decodes every attribute of every
//! message into owned values and queues the whole dump before the caller sees it: about
//! 65 ms and 40 MiB of heap for the 2,000 links of a host with 1,000 guest ports. This reads
//! one datagram (at most 32 KiB) at a time and keeps only the records.

use std::io;

use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkMessage};
use netlink_packet_route::neighbour::NeighbourMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::socket::RouteSocket;
use super::wire;
use crate::state::{LinkInfo, Neighbour};

/// `RTM_NEWLINK` (include/uapi/linux/rtnetlink.h).
const RTM_NEWLINK: u16 = 16;
/// `RTM_NEWNEIGH`.
const RTM_NEWNEIGH: u16 = 28;

/// Whether a link dump carries the counters of each link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counters {
    /// With `IFLA_STATS64` (what `ip -s link` shows): one dump gives links and counters.
    With,
    /// Without (`RTEXT_FILTER_SKIP_STATS`): a smaller dump, when the counters come from
    /// `RTM_GETSTATS` anyway.
    Without,
}

/// A socket for link and neighbour dumps, bound to the namespace it was opened in.
pub struct Dumper {
    sock: RouteSocket,
    /// Links in the last dump, to size the next one's vector.
    last_links: usize,
}

fn invalid(e: netlink_packet_core::DecodeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

impl Dumper {
    /// Opens the socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Dumper> {
        Ok(Dumper {
            sock: RouteSocket::open()?,
            last_links: 0,
        })
    }

    /// Every link, in kernel order (ascending ifindex).
    pub fn links(&mut self, counters: Counters) -> io::Result<Vec<LinkInfo>> {
        let mut request = LinkMessage::default();
        // Kernels before 4.20 ignore the bit they do not know and send the counters anyway.
        let mask = match counters {
            Counters::With => Vec::new(),
            Counters::Without => vec![LinkExtentMask::SkipStats],
        };
        request.attributes.push(LinkAttribute::ExtMask(mask));
        let seq = self.sock.send(
            RouteNetlinkMessage::GetLink(request),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        let mut links = Vec::with_capacity(self.last_links);
        self.sock.recv_replies(seq, |kind, payload| {
            if kind == RTM_NEWLINK {
                let mut link = wire::link_info(payload).map_err(invalid)?;
                if counters == Counters::Without {
                    link.stats = None;
                }
                links.push(link);
            }
            Ok(())
        })?;
        self.last_links = links.len();
        Ok(links)
    }

    /// The IP neighbours of every family and the MACs the bridges learned (the entries
    /// [`wire::neighbour`] keeps).
    pub fn neighbours(&mut self) -> io::Result<Vec<Neighbour>> {
        let mut out = Vec::new();
        for family in [AddressFamily::Unspec, AddressFamily::Bridge] {
            let mut request = NeighbourMessage::default();
            request.header.family = family;
            let seq = self.sock.send(
                RouteNetlinkMessage::GetNeighbour(request),
                NLM_F_REQUEST | NLM_F_DUMP,
            )?;
            self.sock.recv_replies(seq, |kind, payload| {
                if kind == RTM_NEWNEIGH {
                    out.extend(wire::neighbour(payload).map_err(invalid)?);
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}
