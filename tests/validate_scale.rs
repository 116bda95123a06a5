//! Size limits of network XML, and validation that stays near-linear: definitions at the
//! limits are checked in full, with the problems planted in them found. Wall time is only
//! printed, by the ignored `timings` test (`cargo test --test validate_scale -- --ignored
//! --nocapture`).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use switchyard::model::{
    dubious, fill_defaults, parse_network_xml, validate, DhcpDef, DhcpHost, DhcpRange, IpDef,
    MacAddr, NetworkDef, Problem, MAX_XML_BYTES, MAX_XML_ELEMENTS,
};

fn v4(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

/// 10.0.0.1/16 (an isolated network) with `count` static hosts 10.0.0.2, 10.0.0.3, …
fn with_hosts(count: u32) -> NetworkDef {
    let base = u32::from(Ipv4Addr::new(10, 0, 0, 0));
    let hosts = (0..count).map(|i| {
        let [_, a, b, c] = i.to_be_bytes();
        DhcpHost {
            mac: Some(MacAddr([0x52, 0x54, 0x00, a, b, c])),
            name: Some(format!("guest{i}")),
            ip: Some(v4(base + 2 + i)),
            ..DhcpHost::default()
        }
    });
    let mut ip = IpDef::with_prefix(v4(base + 1), 16);
    ip.dhcp = Some(DhcpDef {
        hosts: hosts.collect(),
        ..DhcpDef::default()
    });
    NetworkDef {
        name: "big".into(),
        ips: vec![ip],
        ..NetworkDef::default()
    }
}

fn listed(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

#[test]
fn ten_thousand_hosts_with_planted_clashes() {
    let mut def = with_hosts(10_000);
    let hosts = &mut def.ips[0].dhcp.as_mut().expect("dhcp").hosts;
    hosts[5_000].mac = hosts[10].mac;
    hosts[7_000].ip = hosts[20].ip;
    hosts[9_999].name = hosts[0].name.clone();
    hosts[8_000].ip = Some(v4(u32::from(Ipv4Addr::new(10, 1, 0, 5))));
    assert_eq!(listed(&validate(&def, &[])), Vec::<String>::new());
    let mut warnings = listed(&dubious(&def));
    warnings.sort();
    assert_eq!(
        warnings,
        [
            "ip[0].dhcp.host[5000].mac: also used by host[10]; dnsmasq keeps only one of them",
            "ip[0].dhcp.host[7000].ip: also used by host[20]; dnsmasq keeps only one of them",
            "ip[0].dhcp.host[8000].ip: 10.1.0.5 is outside 10.0.0.0/16; dnsmasq will never hand it out",
            "ip[0].dhcp.host[9999].name: also used by host[0]; dnsmasq keeps only one of them",
        ]
    );
}

/// 10,000 ranges of four addresses; range 6000 overlaps range 5999's successor.
#[test]
fn ten_thousand_ranges_with_one_overlap() {
    let mut def = with_hosts(0);
    let start = u32::from(Ipv4Addr::new(10, 0, 64, 0));
    let mut ranges: Vec<DhcpRange> = (0..10_000)
        .map(|i| DhcpRange::new(v4(start + 4 * i), v4(start + 4 * i + 3)))
        .collect();
    ranges.reverse();
    ranges[6_000] = DhcpRange::new(v4(start + 2), v4(start + 5));
    def.ips[0].dhcp.as_mut().expect("dhcp").ranges = ranges;
    assert_eq!(listed(&validate(&def, &[])), Vec::<String>::new());
    let warnings = listed(&dubious(&def));
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    // Document order: range[9998] is 4-7 and range[9999] is 0-3; range[6000] overlaps both.
    for w in &warnings {
        assert!(w.starts_with("ip[0].dhcp.range["), "{w}");
        assert!(w.contains("overlaps range[6000]"), "{w}");
    }
}

/// 10,000 `<ip>` blocks against 10,000 other networks: one overlap inside the network, one
/// with another network.
#[test]
fn ten_thousand_blocks_and_networks() {
    let block = |i: u32| {
        let net = u32::from(Ipv4Addr::new(10, 0, 0, 0)) + (i << 8);
        IpDef::with_prefix(v4(net + 1), 24)
    };
    let mut def = NetworkDef {
        name: "many".into(),
        ips: (0..10_000).map(block).collect(),
        ..NetworkDef::default()
    };
    def.ips[9_000] = IpDef::with_prefix(v4(u32::from(Ipv4Addr::new(10, 0, 3, 77))), 25);
    let others: Vec<NetworkDef> = (0..10_000)
        .map(|i| NetworkDef {
            name: format!("o{i}"),
            ips: vec![block(20_000 + i)],
            ..NetworkDef::default()
        })
        .chain(std::iter::once(NetworkDef {
            name: "clash".into(),
            ips: vec![IpDef::with_prefix(
                v4(u32::from(Ipv4Addr::new(10, 0, 9, 1))),
                28,
            )],
            ..NetworkDef::default()
        }))
        .collect();
    assert_eq!(
        listed(&validate(&def, &others)),
        ["ip[9]: 10.0.9.0/24 overlaps 10.0.9.0/28 of network 'clash'"]
    );
    assert_eq!(
        listed(&dubious(&def)),
        ["ip[9000]: 10.0.3.0/25 overlaps ip[3] of this network"]
    );
    let mut rand = {
        let mut n = 1u64;
        move || {
            n = n.wrapping_mul(6364136223846793005).wrapping_add(1);
            n
        }
    };
    fill_defaults(&mut def, &others, &[], &mut rand);
    assert!(def.bridge_name().is_some() && def.uuid.is_some());
}

#[test]
fn documents_over_one_mebibyte_are_refused_unread() {
    let doc = "<network><name>n</name></network>";
    let pad = " ".repeat(MAX_XML_BYTES);
    let text = format!("{doc}{pad}");
    let err = parse_network_xml(&text).expect_err("too big");
    assert!(
        err.to_string()
            .contains("the limit is 1048576 bytes (1 MiB)"),
        "{err}"
    );
    let fits = format!("{doc}{}", &pad[..MAX_XML_BYTES - doc.len()]);
    assert_eq!(fits.len(), MAX_XML_BYTES);
    parse_network_xml(&fits).expect("exactly 1 MiB is accepted");
}

/// `<network>`, `<name>`, `<metadata>` and `n` more elements.
fn with_elements(n: usize) -> String {
    format!(
        "<network><name>n</name><metadata>{}</metadata></network>",
        "<m:a xmlns:m='urn:m'/>".repeat(n)
    )
}

#[test]
fn more_than_ten_thousand_elements_are_refused() {
    assert_eq!(MAX_XML_ELEMENTS, 10_000);
    parse_network_xml(&with_elements(MAX_XML_ELEMENTS - 3)).expect("10,000 elements");
    let err = parse_network_xml(&with_elements(MAX_XML_ELEMENTS - 2)).expect_err("10,001");
    assert!(
        err.to_string().contains("more than 10000 elements"),
        "{err}"
    );
}

/// One element with as many attributes as fit in 1 MiB: quick-xml's own duplicate check
/// would compare every pair; ours is a set.
fn many_attributes() -> String {
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=''")).collect();
    format!("<network{attrs}><name>n</name></network>")
}

#[test]
fn attributes_are_checked_for_duplicates_in_linear_time() {
    let text = many_attributes();
    assert!(text.len() < MAX_XML_BYTES);
    let def = parse_network_xml(&text).expect("unknown attributes are kept");
    assert_eq!(def.extra.attrs.len(), 100_000);
    let err = parse_network_xml("<network a='1' b='2' a='3'><name>n</name></network>")
        .expect_err("duplicate");
    assert!(err.to_string().contains("duplicate attribute 'a'"), "{err}");
}

fn time<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    println!("{what:<58} {:>8.1} ms", start.elapsed().as_secs_f64() * 1e3);
    out
}

#[test]
#[ignore = "prints timings; run with --ignored --nocapture"]
fn timings() {
    let def = with_hosts(10_000);
    time("validate: 10,000 static hosts", || validate(&def, &[]));
    time("dubious: 10,000 static hosts", || dubious(&def));
    let hosts: String = (0..9_990u32)
        .map(|i| {
            let [_, a, b, c] = i.to_be_bytes();
            let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 2)) + i);
            format!("<host mac='52:54:00:{a:02x}:{b:02x}:{c:02x}' name='g{i}' ip='{ip}'/>")
        })
        .collect();
    let xml = format!("<network><name>x</name><ip address='10.0.0.1' prefix='16'><dhcp>{hosts}</dhcp></ip></network>");
    let parsed = time("parse: 9,990 static hosts (near the element limit)", || {
        parse_network_xml(&xml)
    });
    let parsed = parsed.expect("parses");
    time("validate + dubious: the same, parsed", || {
        (validate(&parsed, &[]), dubious(&parsed))
    });
    let attrs = many_attributes();
    let parsed = time("parse: 100,000 attributes on one element", || {
        parse_network_xml(&attrs)
    });
    assert!(parsed.is_ok());
    let attrs: String = (0..20_000).map(|i| format!(" a{i}=''")).collect();
    let tag = format!("n{attrs}");
    let start = quick_xml::events::BytesStart::from_content(tag.as_str(), 1);
    time("quick-xml's own duplicate check, 20,000 attributes", || {
        start.attributes().count()
    });
    time("a set instead (what parse does), 20,000 attributes", || {
        let mut keys = std::collections::HashSet::new();
        let mut attrs = start.attributes();
        attrs
            .with_checks(false)
            .flatten()
            .all(|a| keys.insert(a.key))
    });
    let prefixes: String = (0..30_000)
        .map(|i| format!(" xmlns:p{i}='u' p{i}:a=''"))
        .collect();
    let ns = format!("<network{prefixes}><name>n</name></network>");
    let parsed = time("parse: 30,000 namespace prefixes declared and used", || {
        parse_network_xml(&ns)
    });
    assert!(parsed.is_ok());
}
