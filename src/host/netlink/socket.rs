//! A small blocking rtnetlink request/reply channel over one long-lived `netlink-sys` socket,
//! shared by the stats dump and the namespace-id lookup. Both buffers are reused across calls.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_MULTIPART,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// Room for any dump datagram: the kernel caps those at 32 KiB; larger replies grow it.
const RECV_BUF_BYTES: usize = 64 * 1024;
/// A reply that takes longer than this means something is badly wrong; give up, don't hang.
const RECV_TIMEOUT: Duration = Duration::from_secs(5);

fn invalid(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("netlink: {what}"))
}

fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// An rtnetlink socket with reusable send and receive buffers.
pub(crate) struct RouteSocket {
    sock: Socket,
    send_buf: Vec<u8>,
    recv_buf: Vec<u8>,
    seq: u32,
}

impl RouteSocket {
    /// Open and connect a socket to the kernel, in the calling thread's network namespace.
    pub(crate) fn open() -> io::Result<Self> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        set_recv_timeout(&sock, RECV_TIMEOUT)?;
        Ok(Self {
            sock,
            send_buf: Vec::new(),
            recv_buf: Vec::with_capacity(RECV_BUF_BYTES),
            seq: 0,
        })
    }

    /// Asks the kernel to check dump requests strictly and to honour their filters (Linux
    /// 4.20 and later; an older kernel refuses the option and ignores the filters, and the
    /// caller filters what comes anyway).
    pub(crate) fn filter_dumps(&self) {
        let _ = self.sock.set_netlink_get_strict_chk(true);
    }

    /// Send one request with the given `NLM_F_*` flags; returns its sequence number.
    pub(crate) fn send(&mut self, msg: RouteNetlinkMessage, flags: u16) -> io::Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        self.send_buf.clear();
        self.send_buf.resize(packet.buffer_len(), 0);
        packet.serialize(&mut self.send_buf);
        self.sock.send(&self.send_buf, 0)?;
        Ok(self.seq)
    }

    /// Receive the replies to request `seq`, passing each reply's message type and payload to
    /// `on_reply`, until the dump ends (`NLMSG_DONE`), an ACK or error arrives, or a single
    /// (non-multipart) reply has been delivered. Messages of other sequence numbers, left over
    /// from an earlier request that failed half-way, are skipped.
    pub(crate) fn recv_replies(
        &mut self,
        seq: u32,
        mut on_reply: impl FnMut(u16, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        loop {
            self.recv_datagram()?;
            if walk_datagram(&self.recv_buf, seq, &mut on_reply)? {
                return Ok(());
            }
        }
    }

    /// One `recv` into the emptied `recv_buf`, retried if a signal interrupts it.
    fn recv_retrying(&mut self, flags: libc::c_int) -> io::Result<usize> {
        loop {
            self.recv_buf.clear();
            match self.sock.recv(&mut self.recv_buf, flags) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    /// Read exactly one datagram into `recv_buf`, growing it first if the datagram is larger.
    fn recv_datagram(&mut self) -> io::Result<()> {
        let size = self.recv_retrying(libc::MSG_PEEK | libc::MSG_TRUNC)?;
        self.recv_buf.clear();
        self.recv_buf.reserve(size);
        let got = self.recv_retrying(0)?;
        if got != self.recv_buf.len() {
            return Err(invalid(format!("datagram of {got} bytes truncated")));
        }
        Ok(())
    }
}

/// Walk the netlink messages in one datagram; `Ok(true)` once the reply to `seq` is complete.
fn walk_datagram(
    data: &[u8],
    seq: u32,
    on_reply: &mut impl FnMut(u16, &[u8]) -> io::Result<()>,
) -> io::Result<bool> {
    let mut off = 0;
    while off < data.len() {
        let msg = NetlinkBuffer::new_checked(&data[off..]).map_err(invalid)?;
        off += align4(msg.length() as usize);
        if msg.sequence_number() != seq {
            continue;
        }
        let payload = msg.payload();
        match msg.message_type() {
            NLMSG_NOOP => {}
            NLMSG_DONE | NLMSG_ERROR => return status_code(payload).map(|()| true),
            NLMSG_OVERRUN => return Err(invalid("overrun")),
            kind => {
                on_reply(kind, payload)?;
                if msg.flags() & NLM_F_MULTIPART == 0 {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}

/// The status carried by `NLMSG_DONE` / `NLMSG_ERROR`: 0 (or absent) is success, else `-errno`.
fn status_code(payload: &[u8]) -> io::Result<()> {
    let code = payload
        .get(..4)
        .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    match code {
        0 => Ok(()),
        c if c < 0 => Err(io::Error::from_raw_os_error(-c)),
        c => Err(invalid(format!("positive status {c}"))),
    }
}

pub(crate) fn set_recv_timeout(sock: &Socket, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: libc::suseconds_t::from(timeout.subsec_micros() as i32),
    };
    // SAFETY: the fd is a valid open socket owned by `sock`; the option value points to a
    // timeval that lives for the duration of the call, with its exact size passed.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One netlink message: header fields and payload, padded to 4 bytes.
    fn message(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = 16 + payload.len();
        let mut v = Vec::new();
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(payload);
        v.resize(align4(v.len()), 0);
        v
    }

    fn collect(data: &[u8], seq: u32) -> (io::Result<bool>, Vec<(u16, Vec<u8>)>) {
        let mut got = Vec::new();
        let done = walk_datagram(data, seq, &mut |k, p| {
            got.push((k, p.to_vec()));
            Ok(())
        });
        (done, got)
    }

    #[test]
    fn multipart_until_done_skipping_stale_sequence() {
        let mut d = message(92, NLM_F_MULTIPART, 6, &[9]);
        d.extend(message(92, NLM_F_MULTIPART, 7, &[1, 2, 3]));
        d.extend(message(92, NLM_F_MULTIPART, 7, &[4]));
        let (done, got) = collect(&d, 7);
        assert!(
            !done.expect("no error"),
            "dump continues in the next datagram"
        );
        assert_eq!(got, vec![(92, vec![1, 2, 3]), (92, vec![4])]);
        d.extend(message(NLMSG_DONE, NLM_F_MULTIPART, 7, &0i32.to_ne_bytes()));
        assert!(collect(&d, 7).0.expect("no error"));
    }

    #[test]
    fn single_reply_ends_the_request() {
        let d = message(88, 0, 3, &[1, 0, 0, 0]);
        let (done, got) = collect(&d, 3);
        assert!(done.expect("no error"));
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn errors_map_to_errno() {
        let d = message(NLMSG_ERROR, 0, 2, &(-libc::EPERM).to_ne_bytes());
        let err = collect(&d, 2).0.expect_err("EPERM");
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
        let ack = message(NLMSG_ERROR, 0, 2, &0i32.to_ne_bytes());
        assert!(collect(&ack, 2).0.expect("ack"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for data in [&[1u8, 2, 3][..], &[0xff; 20][..], &[16, 0, 0, 0, 0, 0][..]] {
            assert!(collect(data, 1).0.is_err(), "{data:?}");
        }
    }
}
