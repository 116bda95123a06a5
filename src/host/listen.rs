//! Who listens on a port of this host: the kernel's socket tables (`/proc/net/tcp`, `tcp6`,
//! `udp`, `udp6`) and the processes holding those sockets (`/proc/PID/fd`), so a forward never
//! takes a port the host itself serves (sshd, say) without the operator asking for it.

use std::collections::HashMap;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use crate::model::{PortRange, Proto};

/// A socket listening (TCP) or bound (UDP) on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub proto: Proto,
    pub addr: IpAddr,
    pub port: u16,
    /// The process holding it: pid and command name, when it could be found.
    pub process: Option<(u32, String)>,
}

impl Listener {
    /// Whether a forward on `addr` (`None`: every address of the host but loopback) would
    /// take connections this socket serves.
    pub fn serves(&self, addr: Option<Ipv4Addr>) -> bool {
        match (addr, self.addr) {
            (None, a) => !a.is_loopback(),
            (Some(_), a) if a.is_unspecified() => true,
            (Some(want), IpAddr::V4(a)) => a == want,
            (Some(want), IpAddr::V6(a)) => a.to_ipv4_mapped() == Some(want),
        }
    }
}

/// The sockets listening on `proto` ports `ports`, read from `/proc`. Their processes are
/// looked up (a walk of every process's descriptors) only when there is one.
pub fn listeners(proto: Proto, ports: PortRange) -> Vec<Listener> {
    listeners_under(Path::new("/proc"), proto, ports)
}

/// [`listeners`] for a `/proc` at `root` (tests give a fixture).
pub fn listeners_under(root: &Path, proto: Proto, ports: PortRange) -> Vec<Listener> {
    let mut found = Vec::new();
    for (file, v6) in [
        (proto.as_str().to_owned(), false),
        (format!("{proto}6"), true),
    ] {
        if let Ok(text) = fs::read_to_string(root.join("net").join(file)) {
            found.extend(
                parse_table(&text, proto, v6)
                    .into_iter()
                    .filter(|(_, port, _)| ports.contains(*port)),
            );
        }
    }
    if found.is_empty() {
        return Vec::new();
    }
    let owners = socket_owners(root);
    found
        .into_iter()
        .map(|(addr, port, inode)| Listener {
            proto,
            addr,
            port,
            process: owners.get(&inode).cloned(),
        })
        .collect()
}

/// `(address, port, inode)` of each listening TCP (state 0A) or bound UDP (state 07) socket
/// in one `/proc/net/{tcp,udp}[6]` table.
pub fn parse_table(text: &str, proto: Proto, v6: bool) -> Vec<(IpAddr, u16, u64)> {
    let wanted = match proto {
        Proto::Tcp => "0A",
        Proto::Udp => "07",
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (local, state, inode) = (cols.get(1)?, cols.get(3)?, cols.get(9)?);
            if *state != wanted {
                return None;
            }
            let (addr, port) = local.split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            let addr = if v6 { hex_v6(addr)? } else { hex_v4(addr)? };
            Some((addr, port, inode.parse().ok()?))
        })
        .collect()
}

/// The kernel prints an IPv4 address as one host-order 32-bit word.
fn hex_v4(s: &str) -> Option<IpAddr> {
    let n = u32::from_str_radix(s, 16).ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(n.to_le_bytes())))
}

/// An IPv6 address is four host-order 32-bit words.
fn hex_v6(s: &str) -> Option<IpAddr> {
    if s.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    for i in 0..4 {
        let word = u32::from_str_radix(&s[i * 8..i * 8 + 8], 16).ok()?;
        bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    Some(IpAddr::V6(Ipv6Addr::from(bytes)))
}

/// Socket inode → (pid, command) for every process whose fds we may read.
fn socket_owners(root: &Path) -> HashMap<u64, (u32, String)> {
    let mut out = HashMap::new();
    for (pid, dir) in super::procscan::processes(root) {
        let Ok(fds) = fs::read_dir(dir.join("fd")) else {
            continue;
        };
        let comm = fs::read_to_string(dir.join("comm"))
            .map(|c| c.trim().to_owned())
            .unwrap_or_default();
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            let inode = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u64>().ok());
            if let Some(inode) = inode {
                out.entry(inode).or_insert_with(|| (pid, comm.clone()));
            }
        }
    }
    out
}

/// `$SSH_CONNECTION` of this process, if it runs in an SSH session (the TUI's forward form
/// passes it to the backend, as the CLI does).
pub fn ssh_connection() -> Option<String> {
    std::env::var("SSH_CONNECTION").ok()
}

/// The server port of the SSH session this runs in, from `$SSH_CONNECTION` ("client_ip
/// client_port server_ip server_port").
pub fn ssh_server_port(ssh_connection: &str) -> Option<(IpAddr, u16)> {
    let cols: Vec<&str> = ssh_connection.split_whitespace().collect();
    match cols.as_slice() {
        [_, _, ip, port] => Some((ip.parse().ok()?, port.parse().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_listening_sockets_of_both_families() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0 100 0 0 10 0\n\
   1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1235 1 0 100 0 0 10 0\n\
   2: 0A00020F:0016 0A000202:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 1236 1 0 100 0 0 10 0\n";
        let got = parse_table(tcp, Proto::Tcp, false);
        assert_eq!(
            got,
            vec![
                ("0.0.0.0".parse().unwrap(), 22, 1234),
                ("127.0.0.1".parse().unwrap(), 631, 1235),
            ]
        );
        let tcp6 = "  sl  local_address                         remote_address                        st\n\
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1\n";
        assert_eq!(
            parse_table(tcp6, Proto::Tcp, true),
            vec![("::".parse().unwrap(), 22, 77)]
        );
    }

    #[test]
    fn a_wildcard_socket_serves_every_address() {
        let l = |addr: &str| Listener {
            proto: Proto::Tcp,
            addr: addr.parse().unwrap(),
            port: 22,
            process: None,
        };
        let public = Some(Ipv4Addr::new(203, 0, 113, 5));
        assert!(l("0.0.0.0").serves(public));
        assert!(l("::").serves(public));
        assert!(l("203.0.113.5").serves(public));
        assert!(!l("127.0.0.1").serves(public));
        assert!(!l("127.0.0.1").serves(None));
        assert!(l("::").serves(None));
        assert_eq!(
            ssh_server_port("10.0.2.2 53000 10.0.2.15 2222"),
            Some(("10.0.2.15".parse().unwrap(), 2222))
        );
        assert_eq!(ssh_server_port(""), None);
    }
}
