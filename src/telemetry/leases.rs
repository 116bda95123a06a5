//! dnsmasq lease files (`--dhcp-leasefile`): a pure parser and a small reader.
//!
//! Each line is `EXPIRY HWADDR IP HOSTNAME CLIENTID`, `*` standing for an unknown hostname or
//! client id and expiry 0 for an infinite lease. For IPv6 leases, which dnsmasq writes after a
//! `duid SERVER-DUID` line, the second field is the IAID (decimal, `T`-prefixed for temporary
//! addresses) instead of a hardware address. As dnsmasq itself does when it reads the file back,
//! the address family of IP decides which kind a line is. A hardware address of another type
//! than Ethernet is written `TT-xx:xx…` (type in hex); it is kept as written, except the empty
//! `00-`, which means none.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

/// One DHCP lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lease {
    /// Client hardware address, lower case; `None` for IPv6 leases and empty addresses.
    pub mac: Option<String>,
    /// Leased address.
    pub ip: IpAddr,
    /// Client host name, if it sent one.
    pub hostname: Option<String>,
    /// Expiry in Unix seconds; `None` for an infinite lease.
    pub expiry: Option<u64>,
    /// DHCP client id (IPv4) or client DUID (IPv6), hex with colons.
    pub client_id: Option<String>,
}

/// A line that was not understood and left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number.
    pub line: usize,
    /// Why it was skipped.
    pub reason: &'static str,
}

impl fmt::Display for SkippedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lease file line {}: {}", self.line, self.reason)
    }
}

/// The content of one lease file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaseFile {
    /// The leases, in file order.
    pub leases: Vec<Lease>,
    /// Malformed lines, skipped (shown as warnings, never fatal).
    pub skipped: Vec<SkippedLine>,
    /// The server DUID from the `duid` line, if any.
    pub server_duid: Option<String>,
}

/// Parse the text of a dnsmasq lease file. Never fails: bad lines land in `skipped`.
pub fn parse_leases(text: &str) -> LeaseFile {
    let mut file = LeaseFile::default();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        match fields.as_slice() {
            [] => {}
            ["duid", duid] => file.server_duid = Some((*duid).to_string()),
            _ => match parse_lease_fields(&fields) {
                Ok(lease) => file.leases.push(lease),
                Err(reason) => file.skipped.push(SkippedLine {
                    line: i + 1,
                    reason,
                }),
            },
        }
    }
    file
}

fn parse_lease_fields(fields: &[&str]) -> Result<Lease, &'static str> {
    let (expiry, hw, ip, host, client) = match *fields {
        [e, hw, ip, host] => (e, hw, ip, host, "*"),
        [e, hw, ip, host, client] => (e, hw, ip, host, client),
        _ => return Err("expected 4 or 5 fields"),
    };
    let expiry: u64 = expiry.parse().map_err(|_| "expiry is not a number")?;
    let ip: IpAddr = ip.parse().map_err(|_| "not an IP address")?;
    let mac = match ip {
        IpAddr::V4(_) => parse_hwaddr(hw).ok_or("bad hardware address")?,
        IpAddr::V6(_) => {
            parse_iaid(hw).ok_or("bad IAID")?;
            None
        }
    };
    Ok(Lease {
        mac,
        ip,
        hostname: star_is_none(host),
        expiry: (expiry != 0).then_some(expiry),
        client_id: star_is_none(client),
    })
}

fn star_is_none(field: &str) -> Option<String> {
    (field != "*").then(|| field.to_string())
}

/// `aa:bb:…` (Ethernet) or `TT-aa:bb:…` (other type); `Some(None)` for an empty address.
fn parse_hwaddr(field: &str) -> Option<Option<String>> {
    let (kind, bytes) = match field.split_once('-') {
        Some((kind, bytes)) => (Some(kind), bytes),
        None => (None, field),
    };
    if kind.is_some_and(|k| !is_hex_byte(k)) {
        return None;
    }
    if bytes.is_empty() {
        return kind.is_some().then_some(None);
    }
    if !bytes.split(':').all(is_hex_byte) {
        return None;
    }
    Some(Some(field.to_ascii_lowercase()))
}

fn is_hex_byte(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// IAID of an IPv6 lease: decimal, `T`-prefixed for a temporary address.
fn parse_iaid(field: &str) -> Option<u32> {
    field.strip_prefix('T').unwrap_or(field).parse().ok()
}
