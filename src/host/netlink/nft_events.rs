//! nftables change notifications: the kernel multicasts every committed ruleset change
//! (tables, chains, rules, sets, elements) to the `NFNLGRP_NFTABLES` group of
//! `NETLINK_NETFILTER`, as `nft monitor` shows. The live views subscribe so a change to our
//! table (by us, by an admin, by another firewall) is noticed at once, and nothing has to run
//! `nft list` on a timer to find out.

use std::io;
use std::time::Duration;

use netlink_sys::{Socket, SocketAddr};
use tokio::sync::watch;

/// `NETLINK_NETFILTER` (include/uapi/linux/netlink.h).
const NETLINK_NETFILTER: isize = 12;
/// `NFNLGRP_NFTABLES` (include/uapi/linux/netfilter/nfnetlink.h).
const NFNLGRP_NFTABLES: u32 = 7;
/// How often the reader thread checks that someone still listens.
const POLL: Duration = Duration::from_secs(1);

/// Subscribes in the calling thread's network namespace. The receiver's value counts the
/// notification datagrams seen (a burst of one transaction may count once or many times; a
/// lost burst, ENOBUFS, counts too). The reader thread ends soon after the receiver is
/// dropped.
pub fn subscribe() -> io::Result<watch::Receiver<u64>> {
    let mut sock = Socket::new(NETLINK_NETFILTER)?;
    sock.bind(&SocketAddr::new(0, 0))?;
    sock.add_membership(NFNLGRP_NFTABLES)?;
    super::socket::set_recv_timeout(&sock, POLL)?;
    let (tx, rx) = watch::channel(0u64);
    std::thread::Builder::new()
        .name("switchyard-nft-events".into())
        .spawn(move || read_loop(sock, tx))?;
    Ok(rx)
}

fn read_loop(sock: Socket, tx: watch::Sender<u64>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match sock.recv(&mut &mut buf[..], 0) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if tx.is_closed() {
                    return;
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
        tx.send_modify(|n| *n = n.wrapping_add(1));
        if tx.is_closed() {
            return;
        }
    }
}
