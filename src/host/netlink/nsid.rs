//! Names of the network namespaces that veth peers live in.
//!
//! The kernel reports a veth peer's namespace only as an *nsid* (`IFLA_LINK_NETNSID`), a
//! number local to the namespace that reports it. Names live in `/run/netns` (iproute2's
//! convention: a bind mount of the namespace file per name). To match them, each entry is
//! opened and the kernel is asked its nsid relative to our namespace with `RTM_GETNSID`
//! carrying `NETNSA_FD`, the same question `ip netns list-id` answers.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use netlink_packet_core::{Parseable, NLM_F_REQUEST};
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use netlink_packet_route::RouteNetlinkMessage;

use super::socket::RouteSocket;

/// Where iproute2 keeps named network namespaces.
pub const NETNS_RUN_DIR: &str = "/run/netns";
/// `RTM_NEWNSID` (include/uapi/linux/rtnetlink.h): the type of the reply.
const RTM_NEWNSID: u16 = 88;

/// Asks the kernel for namespace ids, relative to the namespace it was opened in.
pub struct NetnsResolver {
    sock: RouteSocket,
}

impl NetnsResolver {
    /// Open in the calling thread's network namespace.
    pub fn open() -> io::Result<Self> {
        Ok(Self {
            sock: RouteSocket::open()?,
        })
    }

    /// The nsid of the namespace `file` refers to; `None` if none is assigned (no link of
    /// ours points there) or the file is not a namespace.
    pub fn nsid_of(&mut self, file: &File) -> io::Result<Option<i32>> {
        let fd = u32::try_from(file.as_raw_fd()).map_err(|_| io::Error::other("bad fd"))?;
        let mut request = NsidMessage::default();
        request.attributes.push(NsidAttribute::Fd(fd));
        let seq = self
            .sock
            .send(RouteNetlinkMessage::GetNsId(request), NLM_F_REQUEST)?;
        let mut nsid = None;
        let result = self.sock.recv_replies(seq, |kind, payload| {
            if kind == RTM_NEWNSID {
                nsid = parse_nsid_reply(payload)?;
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(nsid),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// nsid → name for every entry of `dir` that is a namespace with an nsid assigned.
    /// A missing directory means no named namespaces; unreadable entries are left out.
    pub fn names_in(&mut self, dir: &Path) -> io::Result<HashMap<i32, String>> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashMap::new()),
            Err(e) => return Err(e),
        };
        let mut names = HashMap::new();
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Ok(file) = File::open(entry.path()) else {
                continue;
            };
            if let Some(nsid) = self.nsid_of(&file)? {
                names.insert(nsid, name);
            }
        }
        Ok(names)
    }

    /// [`names_in`](Self::names_in) for `/run/netns`.
    pub fn names(&mut self) -> io::Result<HashMap<i32, String>> {
        self.names_in(Path::new(NETNS_RUN_DIR))
    }
}

/// The name in `/run/netns` of the namespace with this nsid, if it has one.
pub fn netns_name_for_id(nsid: i32) -> io::Result<Option<String>> {
    Ok(NetnsResolver::open()?.names()?.remove(&nsid))
}

/// The `NETNSA_NSID` of an `RTM_NEWNSID` payload; negative (unassigned) reads as `None`.
fn parse_nsid_reply(payload: &[u8]) -> io::Result<Option<i32>> {
    let msg = NsidMessage::parse(payload)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("RTM_NEWNSID: {e}")))?;
    Ok(msg.attributes.iter().find_map(|a| match a {
        NsidAttribute::Id(id) if *id >= 0 => Some(*id),
        _ => None,
    }))
}
