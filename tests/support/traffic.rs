//! Traffic for telemetry tests: a tap opened by this process (standing in for QEMU),
//! hand-made Ethernet frames to write into it, and a sender that keeps a fixed pace.
//!
//! Frames go only into taps of namespaces the test made, addressed to addresses there.

use std::fs::{File, OpenOptions};
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Ethernet (14) + IPv4 (20) + UDP (8) header bytes: a UDP frame is this plus its payload, as
/// the kernel counts it on a link (no FCS).
pub const UDP_FRAME_OVERHEAD: usize = 42;

/// Opens `/dev/net/tun` and attaches a new tap `name` in the calling thread's namespace
/// (TUNSETIFF). The tap lives as long as the file.
pub fn open_tap(name: &str) -> File {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .expect("open /dev/net/tun");
    // SAFETY: ifreq is plain old data, so all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    assert!(name.len() < req.ifr_name.len(), "tap name too long");
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes one ifreq that lives for the whole call, on an fd
    // we own.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) };
    assert_eq!(rc, 0, "TUNSETIFF: {}", std::io::Error::last_os_error());
    file
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(text: &str) -> [u8; 6] {
    let bytes: Vec<u8> = text
        .trim()
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect();
    bytes.try_into().expect("six bytes")
}

/// The MAC of `ifname` in namespace `netns`, from `ip -j link show`.
pub fn mac_of(netns: &str, ifname: &str) -> [u8; 6] {
    let out = super::run_ok("ip", &["-n", netns, "-j", "link", "show", ifname]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j json");
    parse_mac(json[0]["address"].as_str().expect("address"))
}

/// The IPv4 header checksum (0 over a header that carries a valid one).
pub fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ARP request "who has `target`? tell `src_ip`" from `src_mac`, broadcast.
pub fn arp_request(src_mac: [u8; 6], src_ip: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend([0xff; 6]);
    f.extend(src_mac);
    f.extend([0x08, 0x06]); // ARP
    f.extend([0, 1, 0x08, 0, 6, 4, 0, 1]); // Ethernet/IPv4, request
    f.extend(src_mac);
    f.extend(src_ip.octets());
    f.extend([0; 6]);
    f.extend(target.octets());
    f
}

/// An Ethernet frame carrying one IPv4 UDP datagram with `payload_len` zero bytes (UDP
/// checksum 0: none, allowed over IPv4).
pub fn udp_frame(
    (src_mac, src_ip): ([u8; 6], Ipv4Addr),
    (dst_mac, dst_ip): ([u8; 6], Ipv4Addr),
    port: u16,
    payload_len: usize,
) -> Vec<u8> {
    let ip_len = 20 + 8 + payload_len;
    let mut f = Vec::with_capacity(14 + ip_len);
    f.extend(dst_mac);
    f.extend(src_mac);
    f.extend([0x08, 0x00]);
    let mut ip = vec![0x45, 0];
    ip.extend((ip_len as u16).to_be_bytes());
    ip.extend([0, 0, 0x40, 0, 64, 17, 0, 0]); // id, DF, TTL 64, UDP, checksum later
    ip.extend(src_ip.octets());
    ip.extend(dst_ip.octets());
    let sum = ipv4_checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend(ip);
    f.extend(port.to_be_bytes());
    f.extend(port.to_be_bytes());
    f.extend(((8 + payload_len) as u16).to_be_bytes());
    f.extend([0, 0]);
    f.resize(14 + ip_len, 0);
    f
}

/// Calls `send` `pps` times a second for `duration`, on an absolute schedule (a late call is
/// caught up at once, so any window of the run sees the nominal count). Returns the count.
pub fn paced(pps: u32, duration: Duration, mut send: impl FnMut()) -> u64 {
    let period = Duration::from_secs(1) / pps;
    let start = Instant::now();
    let mut sent = 0u64;
    loop {
        let due = start + period * sent as u32;
        if due >= start + duration {
            return sent;
        }
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        send();
        sent += 1;
    }
}
