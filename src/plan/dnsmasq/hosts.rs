//! The two hosts files: `dhcp-hostsfile` (one `dhcp-host` value per line, read with the
//! configuration file's line reader) and `addn-hosts` (`/etc/hosts` syntax: an address, then
//! names, separated by whitespace; `#` starts a comment anywhere).

use std::net::IpAddr;
use std::str::FromStr;

use super::read::{self, Ch, ParseError};
use super::syntax::{write_fields, Field, Key, RenderError, MAX_LINE_BYTES};
use crate::model::{LeaseDef, LeaseUnit, MacAddr};

/// One static DHCP host, as libvirt writes it: `mac,ip,name` for IPv4, `id:DUID,name,[ip]`
/// for IPv6 (either identity may be missing), then an optional lease time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhcpHostLine {
    /// Client MAC (IPv4 hosts only).
    pub mac: Option<MacAddr>,
    /// Client DUID, hex with colons (IPv6 hosts only).
    pub id: Option<String>,
    /// Host name handed to the client.
    pub name: Option<String>,
    /// The fixed address.
    pub ip: IpAddr,
    /// Lease time.
    pub lease: Option<LeaseDef>,
}

impl DhcpHostLine {
    /// The line's fields, in libvirt's order; `path` names the `<host>` for errors.
    pub fn fields(&self, path: &str) -> Vec<Field> {
        let mut out = Vec::new();
        if let Some(mac) = self.mac {
            out.push(Field::Fixed(mac.to_string()));
        }
        if let Some(id) = &self.id {
            out.push(Field::data(format!("id:{id}"), format!("{path}.id")));
        }
        let name = self
            .name
            .as_ref()
            .map(|n| Field::data(n, format!("{path}.name")));
        match self.ip {
            IpAddr::V4(a) => {
                out.push(Field::Fixed(a.to_string()));
                out.extend(name);
            }
            IpAddr::V6(a) => {
                out.extend(name);
                out.push(Field::Fixed(format!("[{a}]")));
            }
        }
        out.extend(self.lease.as_ref().map(|l| Field::Fixed(lease_text(l))));
        out
    }
}

/// A lease time as libvirt writes it: `infinite`, or the expiry with its unit's letter.
pub fn lease_text(lease: &LeaseDef) -> String {
    if lease.expiry == 0 {
        return "infinite".to_owned();
    }
    let unit = match lease.unit {
        LeaseUnit::Seconds => 's',
        LeaseUnit::Minutes => 'm',
        LeaseUnit::Hours => 'h',
    };
    format!("{}{unit}", lease.expiry)
}

/// One line of the `addn-hosts` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddnHost {
    /// The address.
    pub ip: IpAddr,
    /// Its names; the first one answers reverse lookups.
    pub names: Vec<String>,
}

/// The `dhcp-hostsfile` text; `lines` pairs each line with its `<host>`'s path.
pub fn write_dhcp_hosts(lines: &[(String, DhcpHostLine)]) -> Result<String, RenderError> {
    let mut out = String::new();
    for (path, line) in lines {
        out.push_str(&write_fields(Key::DhcpHost, &line.fields(path))?);
        out.push('\n');
    }
    Ok(out)
}

/// The `addn-hosts` text: one line per address, names separated by tabs (as libvirt writes
/// it). `paths` names where each line's names came from, for errors.
pub fn write_addn_hosts(hosts: &[(String, AddnHost)]) -> Result<String, RenderError> {
    let mut out = String::new();
    for (path, host) in hosts {
        let mut line = host.ip.to_string();
        for name in &host.names {
            if let Some(problem) = addn_name_problem(name) {
                return Err(RenderError::new(path, problem));
            }
            line.push('\t');
            line.push_str(name);
        }
        if line.len() > MAX_LINE_BYTES {
            return Err(RenderError::new(path, "too long for one addn-hosts line"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// dnsmasq splits hosts-file lines at whitespace and cuts them at `#`; names are also refused
/// with control characters.
fn addn_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("an empty name cannot be written into the addn-hosts file".into());
    }
    let bad = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '#')?;
    Some(format!(
        "'{}' cannot be written into the addn-hosts file: it contains {}",
        name.escape_debug(),
        crate::model::validate::describe_char(bad)
    ))
}

/// The `dhcp-hostsfile` as dnsmasq reads it: each line's fields classified the way its
/// `dhcp-host` parser does (an address in `[]` or dotted IPv4, `id:`, a MAC when a `:` is
/// present, a lease time, else a host name). Lines with more than switchyard writes (tags,
/// `ignore`, several names or addresses) are errors.
pub fn parse_dhcp_hosts(text: &str) -> Result<Vec<DhcpHostLine>, ParseError> {
    read::lines(text)?
        .into_iter()
        .map(|(n, chars)| host_line(&chars).map_err(|message| ParseError { line: n, message }))
        .collect()
}

#[derive(Default)]
struct HostParts {
    mac: Option<MacAddr>,
    id: Option<String>,
    name: Option<String>,
    ip: Option<IpAddr>,
    lease: Option<LeaseDef>,
}

fn host_line(chars: &[Ch]) -> Result<DhcpHostLine, String> {
    let mut parts = HostParts::default();
    for field in read::split(chars, ',') {
        host_field(field, &mut parts)?;
    }
    let ip = parts.ip.ok_or("a host line without an address")?;
    Ok(DhcpHostLine {
        mac: parts.mac,
        id: parts.id,
        name: parts.name,
        ip,
        lease: parts.lease,
    })
}

fn set<T>(slot: &mut Option<T>, value: T, what: &str) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("more than one {what} on a host line"));
    }
    *slot = Some(value);
    Ok(())
}

/// One field of a `dhcp-host` value, classified in the order dnsmasq's parser tries.
fn host_field(field: &[Ch], parts: &mut HostParts) -> Result<(), String> {
    let visible: String = field
        .iter()
        .map(|c| if c.hidden { '\x07' } else { c.c })
        .collect();
    let plain = read::text(field);
    if visible.contains(':') {
        return colon_field(&visible, &plain, parts);
    }
    if visible.contains('.') {
        if let Ok(a) = plain.parse::<std::net::Ipv4Addr>() {
            return set(&mut parts.ip, IpAddr::V4(a), "address");
        }
    }
    if let Some(lease) = lease_of(&visible) {
        return set(&mut parts.lease, lease, "lease time");
    }
    match visible.as_str() {
        "infinite" => set(&mut parts.lease, infinite(), "lease time"),
        "ignore" => Err("'ignore' would disable the host".into()),
        _ => set(&mut parts.name, plain, "host name"),
    }
}

fn colon_field(visible: &str, plain: &str, parts: &mut HostParts) -> Result<(), String> {
    let lower = visible.to_ascii_lowercase();
    if let Some(id) = lower.strip_prefix("id:").map(|_| &plain[3..]) {
        return set(&mut parts.id, id.to_owned(), "client id");
    }
    if ["net:", "set:", "tag:"]
        .iter()
        .any(|p| visible.starts_with(p))
    {
        return Err(format!("'{plain}' would be read as a tag"));
    }
    if let Some(inner) = visible.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        let addr = inner
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("'{plain}' is not an IPv6 address"))?;
        return set(&mut parts.ip, IpAddr::V6(addr), "address");
    }
    let mac = MacAddr::from_str(plain)
        .map_err(|_| format!("'{plain}' would be read as a hardware address"))?;
    set(&mut parts.mac, mac, "MAC address")
}

/// An infinite lease (expiry 0), in the default unit: the unit means nothing there.
pub fn infinite() -> LeaseDef {
    LeaseDef {
        expiry: 0,
        unit: LeaseUnit::default(),
    }
}

/// A lease time the way dnsmasq recognises one: digits (spaces allowed), with an optional
/// unit letter when the field is longer than one character.
fn lease_of(field: &str) -> Option<LeaseDef> {
    let (digits, unit) = match field.char_indices().last() {
        Some((i, c)) if field.len() > 1 && "smhdwSMHDW".contains(c) => (&field[..i], Some(c)),
        _ => (field, None),
    };
    let number: String = digits.chars().filter(|c| *c != ' ').collect();
    let all_digits = digits.chars().all(|c| c.is_ascii_digit() || c == ' ');
    if !all_digits || number.is_empty() {
        return None;
    }
    let n: u64 = number.parse().ok()?;
    let (expiry, unit) = match unit.map(|c| c.to_ascii_lowercase()) {
        None | Some('s') => (n, LeaseUnit::Seconds),
        Some('m') => (n, LeaseUnit::Minutes),
        Some('h') => (n, LeaseUnit::Hours),
        Some('d') => (n.saturating_mul(24), LeaseUnit::Hours),
        _ => (n.saturating_mul(24 * 7), LeaseUnit::Hours),
    };
    // dnsmasq raises anything under two minutes to two minutes.
    let seconds = expiry.saturating_mul(unit.seconds());
    Some(if seconds < 120 {
        LeaseDef {
            expiry: 120,
            unit: LeaseUnit::Seconds,
        }
    } else {
        LeaseDef { expiry, unit }
    })
}

/// The `addn-hosts` file as dnsmasq reads it: per line, the first token is the address and
/// the others are names; tokens end at whitespace or `#`, and `#` comments out the rest of the
/// line. A line whose first token is not an address is an error.
pub fn parse_addn_hosts(text: &str) -> Result<Vec<AddnHost>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let content = line.split('#').next().unwrap_or_default();
        let mut tokens = content
            .split(|c: char| c.is_ascii_whitespace() || c == '\x0b')
            .filter(|t| !t.is_empty());
        let Some(first) = tokens.next() else { continue };
        let ip = first.parse::<IpAddr>().map_err(|_| ParseError {
            line: i + 1,
            message: format!("'{first}' is not an address"),
        })?;
        let names = tokens.map(str::to_owned).collect();
        out.push(AddnHost { ip, names });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(mac: Option<&str>, id: Option<&str>, name: Option<&str>, ip: &str) -> DhcpHostLine {
        DhcpHostLine {
            mac: mac.map(|m| m.parse().expect("mac")),
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            ip: ip.parse().expect("ip"),
            lease: None,
        }
    }

    #[test]
    fn host_lines_in_libvirts_order() {
        let hours = LeaseDef {
            expiry: 2,
            unit: LeaseUnit::Hours,
        };
        let lines = vec![
            (
                "a".into(),
                DhcpHostLine {
                    lease: Some(hours),
                    ..line(
                        Some("00:16:3e:77:e2:ed"),
                        None,
                        Some("a.example.com"),
                        "192.168.122.10",
                    )
                },
            ),
            (
                "b".into(),
                line(None, Some("0:3:0:1"), Some("peter.xyz"), "2001:db8::22"),
            ),
            ("c".into(), line(None, None, Some("paul"), "2001:db8::21")),
        ];
        let text = write_dhcp_hosts(&lines).unwrap();
        assert_eq!(
            text,
            "00:16:3e:77:e2:ed,192.168.122.10,a.example.com,2h\n\
             id:0:3:0:1,peter.xyz,[2001:db8::22]\npaul,[2001:db8::21]\n"
        );
        let back: Vec<DhcpHostLine> = lines.into_iter().map(|(_, l)| l).collect();
        assert_eq!(parse_dhcp_hosts(&text).unwrap(), back);
    }

    #[test]
    fn host_fields_dnsmasq_would_misread() {
        for bad in [
            "infinite,10.0.0.1",
            "ignore,10.0.0.1",
            "10.0.0.1,tag:x",
            "a,b,10.0.0.1",
        ] {
            let parsed = parse_dhcp_hosts(bad);
            let misread = parsed.as_ref().map_or(true, |l| l[0].name.is_none());
            assert!(misread, "{bad}: {parsed:?}");
        }
        let lease = parse_dhcp_hosts("h,10.0.0.1,1d").unwrap().remove(0).lease;
        assert_eq!(lease.and_then(|l| l.seconds()), Some(86_400));
        let digits = parse_dhcp_hosts("123,10.0.0.1").unwrap().remove(0);
        assert_eq!(digits.name, None, "an all-digit name is a lease time");
    }

    #[test]
    fn addn_hosts_round_trip() {
        let hosts = vec![(
            "dns.host[0]".to_owned(),
            AddnHost {
                ip: "192.168.122.1".parse().unwrap(),
                names: vec!["host".into(), "gateway".into()],
            },
        )];
        let text = write_addn_hosts(&hosts).unwrap();
        assert_eq!(text, "192.168.122.1\thost\tgateway\n");
        assert_eq!(parse_addn_hosts(&text).unwrap(), vec![hosts[0].1.clone()]);
        assert_eq!(
            parse_addn_hosts("10.0.0.1 a#b c\n").unwrap()[0].names,
            ["a"]
        );
        let bad = vec![(
            "p".to_owned(),
            AddnHost {
                ip: "10.0.0.1".parse().unwrap(),
                names: vec!["a b".into()],
            },
        )];
        assert_eq!(write_addn_hosts(&bad).unwrap_err().path, "p");
    }
}
