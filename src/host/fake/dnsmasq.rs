//! The fake host's dnsmasq processes. Each reads the configuration the backend wrote (with the
//! same reader the tests use for the real dnsmasq's rules), its hosts file and its lease file,
//! and hands IPv4 leases to the guests behind its interface: the reserved address for a
//! reserved MAC, else the first free address of its range. Leases are written to the lease
//! file in dnsmasq's own format, so everything downstream reads what a real dnsmasq would
//! leave.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use crate::plan::dnsmasq::{parse_conf_fields, parse_dhcp_hosts, DhcpHostLine};
use crate::telemetry::leases::parse_leases;

/// Default lease time (dnsmasq's and libvirt's: one hour).
const DEFAULT_LEASE_SECS: u64 = 3600;

/// One running fake dnsmasq.
#[derive(Debug, Clone)]
pub struct Process {
    pub pid: i32,
    pub conf: PathBuf,
    pub interface: Option<String>,
    ranges: Vec<(Ipv4Addr, Ipv4Addr, Option<u64>)>,
    hosts_file: Option<PathBuf>,
    hosts: Vec<DhcpHostLine>,
    pub lease_file: Option<PathBuf>,
    /// Files it reads (configuration, hosts files, lease file).
    files: Vec<PathBuf>,
    /// Its leases: MAC → (address, host name, expiry in Unix seconds; `None` = infinite).
    leases: BTreeMap<String, (Ipv4Addr, Option<String>, Option<u64>)>,
}

/// Every fake dnsmasq, by pid.
#[derive(Debug, Clone, Default)]
pub struct Dnsmasqs {
    pub running: BTreeMap<i32, Process>,
    next_pid: i32,
}

/// A guest asking for an address: its MAC (lower case), the host name it sends.
pub struct Client<'a> {
    pub mac: &'a str,
    pub hostname: Option<&'a str>,
}

impl Dnsmasqs {
    /// Starts one for `conf`: reads it (a line dnsmasq would refuse fails the start, as it
    /// does), its hosts file and its lease file.
    pub fn start(&mut self, conf: &Path) -> Result<i32, String> {
        if self.running_for(conf).is_some() {
            return Err("dnsmasq: failed to create listening socket: Address in use".into());
        }
        let text = std::fs::read_to_string(conf)
            .map_err(|e| format!("dnsmasq: cannot read {}: {e}", conf.display()))?;
        let options =
            parse_conf_fields(&text).map_err(|e| format!("dnsmasq: {e} in {}", conf.display()))?;
        if self.next_pid == 0 {
            self.next_pid = 4100;
        }
        let pid = self.next_pid;
        self.next_pid += 1;
        let mut p = Process {
            pid,
            conf: conf.to_owned(),
            interface: None,
            ranges: Vec::new(),
            hosts_file: None,
            hosts: Vec::new(),
            lease_file: None,
            files: vec![conf.to_owned()],
            leases: BTreeMap::new(),
        };
        for (key, value) in options {
            let fields = value.unwrap_or_default();
            let first = || fields.first().cloned().unwrap_or_default();
            match key.as_str() {
                "interface" => p.interface = Some(first()),
                "dhcp-range" => {
                    let start = fields.first().and_then(|f| f.parse().ok());
                    let end = fields.get(1).and_then(|f| f.parse().ok());
                    let lease = fields.iter().skip(2).find_map(|f| lease_secs(f));
                    if let (Some(start), Some(end)) = (start, end) {
                        p.ranges.push((start, end, lease.flatten()));
                    }
                }
                "dhcp-hostsfile" => p.hosts_file = Some(PathBuf::from(first())),
                "dhcp-leasefile" => p.lease_file = Some(PathBuf::from(first())),
                "addn-hosts" => p.files.push(PathBuf::from(first())),
                _ => {}
            }
        }
        p.files.extend(p.hosts_file.clone());
        p.files.extend(p.lease_file.clone());
        p.reload()?;
        p.read_leases();
        self.running.insert(pid, p);
        Ok(pid)
    }

    /// The one serving `conf`.
    pub fn running_for(&self, conf: &Path) -> Option<i32> {
        self.running
            .values()
            .find(|p| p.conf == conf)
            .map(|p| p.pid)
    }

    /// The one that reads `path`.
    pub fn reader_of(&self, path: &Path) -> Option<i32> {
        self.running
            .values()
            .find(|p| p.files.iter().any(|f| f == path))
            .map(|p| p.pid)
    }

    pub fn stop(&mut self, pid: i32) -> bool {
        self.running.remove(&pid).is_some()
    }
}

/// A lease-time field: `Some(Some(secs))`, `Some(None)` for infinite, `None` if it is not one.
fn lease_secs(field: &str) -> Option<Option<u64>> {
    if field == "infinite" {
        return Some(None);
    }
    let (num, unit) = match field.char_indices().last()? {
        (i, 'h') => (&field[..i], 3600),
        (i, 'm') => (&field[..i], 60),
        (i, 's') => (&field[..i], 1),
        _ => (field, 1),
    };
    num.parse::<u64>().ok().map(|n| Some(n * unit))
}

impl Process {
    /// Re-reads the hosts file (SIGHUP).
    pub fn reload(&mut self) -> Result<(), String> {
        self.hosts = match &self.hosts_file {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => parse_dhcp_hosts(&text).map_err(|e| format!("dnsmasq: {e}"))?,
                Err(_) => Vec::new(),
            },
            None => Vec::new(),
        };
        Ok(())
    }

    /// Takes the leases already in the lease file (as dnsmasq does when it starts).
    fn read_leases(&mut self) {
        let Some(path) = &self.lease_file else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for l in parse_leases(&text).leases {
            if let (Some(mac), IpAddr::V4(ip)) = (l.mac, l.ip) {
                self.leases.insert(mac, (ip, l.hostname, l.expiry));
            }
        }
    }

    /// Answers `clients` (those on its interface) at `now` (Unix seconds): a client keeps
    /// its address, else gets its reservation, else the first free address of a range.
    /// Returns the addresses handed out or renewed, and writes the lease file when anything
    /// changed.
    pub fn serve(&mut self, clients: &[Client<'_>], now: u64) -> Vec<(String, Ipv4Addr)> {
        let mut out = Vec::new();
        let mut changed = false;
        for c in clients {
            let reserved = self.hosts.iter().find(|h| {
                h.mac
                    .is_some_and(|m| m.to_string().eq_ignore_ascii_case(c.mac))
            });
            let lease_time = reserved
                .and_then(|h| h.lease)
                .map(|l| l.seconds())
                .or_else(|| {
                    self.ranges
                        .first()
                        .map(|r| r.2.or(Some(DEFAULT_LEASE_SECS)))
                })
                .unwrap_or(Some(DEFAULT_LEASE_SECS));
            let expiry = lease_time.map(|s| now + s);
            let hostname = reserved
                .and_then(|h| h.name.clone())
                .or_else(|| c.hostname.map(str::to_owned));
            let ip = match (reserved.map(|h| h.ip), self.leases.get(c.mac)) {
                (Some(IpAddr::V4(ip)), _) => Some(ip),
                (_, Some((ip, _, _))) => Some(*ip),
                _ => self.free_address(),
            };
            let Some(ip) = ip else {
                continue;
            };
            // A client renews at half its lease: only then does the file change.
            let current = self.leases.get(c.mac);
            let renew = match current {
                Some((old_ip, old_name, old_expiry)) => {
                    *old_ip != ip
                        || *old_name != hostname
                        || old_expiry.is_some_and(|e| e <= now + lease_time.unwrap_or(0) / 2)
                        || old_expiry.is_some() != expiry.is_some()
                }
                None => true,
            };
            if renew {
                self.leases
                    .insert(c.mac.to_owned(), (ip, hostname.clone(), expiry));
                changed = true;
            }
            out.push((c.mac.to_owned(), ip));
        }
        if changed {
            self.write_leases();
        }
        out
    }

    fn free_address(&self) -> Option<Ipv4Addr> {
        let taken = |ip: Ipv4Addr| {
            self.leases.values().any(|(l, _, _)| *l == ip)
                || self.hosts.iter().any(|h| h.ip == IpAddr::V4(ip))
        };
        self.ranges.iter().find_map(|(start, end, _)| {
            (u32::from(*start)..=u32::from(*end))
                .map(Ipv4Addr::from)
                .find(|ip| !taken(*ip))
        })
    }

    fn write_leases(&self) {
        let Some(path) = &self.lease_file else {
            return;
        };
        let mut text = String::new();
        for (mac, (ip, name, expiry)) in &self.leases {
            let name = name.as_deref().unwrap_or("*");
            text.push_str(&format!("{} {mac} {ip} {name} *\n", expiry.unwrap_or(0)));
        }
        // Like dnsmasq, write in place; a failure is its own log line, not the caller's.
        let _ = crate::store::write_atomic(path, text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_times_read_as_dnsmasq_reads_them() {
        assert_eq!(lease_secs("1h"), Some(Some(3600)));
        assert_eq!(lease_secs("30m"), Some(Some(1800)));
        assert_eq!(lease_secs("90"), Some(Some(90)));
        assert_eq!(lease_secs("infinite"), Some(None));
        assert_eq!(lease_secs("255.255.255.0"), None);
    }
}
