//! Table tests for the dnsmasq lease file parser.

use std::net::IpAddr;

use switchyard::host::dnsmasq::read_leases;
use switchyard::telemetry::leases::{parse_leases, Lease, LeaseFile};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn good_lines() {
    let cases: Vec<(&str, Lease)> = vec![
        (
            "1700000000 52:54:00:AA:bb:cc 192.168.122.10 web 01:52:54:00:aa:bb:cc",
            Lease {
                mac: some("52:54:00:aa:bb:cc"),
                ip: ip("192.168.122.10"),
                hostname: some("web"),
                expiry: Some(1_700_000_000),
                client_id: some("01:52:54:00:aa:bb:cc"),
            },
        ),
        (
            "0 52:54:00:00:00:01 10.0.0.2 * *",
            Lease {
                mac: some("52:54:00:00:00:01"),
                ip: ip("10.0.0.2"),
                hostname: None,
                expiry: None,
                client_id: None,
            },
        ),
        (
            "1700000001 52:54:00:00:00:02 10.0.0.3 db",
            Lease {
                mac: some("52:54:00:00:00:02"),
                ip: ip("10.0.0.3"),
                hostname: some("db"),
                expiry: Some(1_700_000_001),
                client_id: None,
            },
        ),
        (
            "1700000002 20-80:00:02:08:fe:80 10.0.0.4 ib *",
            Lease {
                mac: some("20-80:00:02:08:fe:80"),
                ip: ip("10.0.0.4"),
                hostname: some("ib"),
                expiry: Some(1_700_000_002),
                client_id: None,
            },
        ),
        (
            "1700000003 00- 10.0.0.5 * ff:00:11",
            Lease {
                mac: None,
                ip: ip("10.0.0.5"),
                hostname: None,
                expiry: Some(1_700_000_003),
                client_id: some("ff:00:11"),
            },
        ),
    ];
    for (line, want) in cases {
        let got = parse_leases(line);
        assert!(got.skipped.is_empty(), "{line}: {:?}", got.skipped);
        assert_eq!(got.leases, vec![want], "{line}");
    }
}

#[test]
fn malformed_lines_are_counted_not_fatal() {
    let cases: Vec<(&str, &str)> = vec![
        (
            "soon 52:54:00:00:00:01 10.0.0.2 * *",
            "expiry is not a number",
        ),
        (
            "-5 52:54:00:00:00:01 10.0.0.2 * *",
            "expiry is not a number",
        ),
        ("1 52:54:00:00:00:01 10.0.0.256 * *", "not an IP address"),
        ("1 52:54:00:00:00:zz 10.0.0.2 * *", "bad hardware address"),
        ("1 52:54:00:0:00:01 10.0.0.2 * *", "bad hardware address"),
        ("1 x-52:54 10.0.0.2 * *", "bad hardware address"),
        ("1 52:54:00:00:00:01 fd00::5 * *", "bad IAID"),
        ("1 abc fd00::5 * 00:01", "bad IAID"),
        ("1 52:54:00:00:00:01 10.0.0.2", "expected 4 or 5 fields"),
        (
            "1 52:54:00:00:00:01 10.0.0.2 a b c",
            "expected 4 or 5 fields",
        ),
        ("garbage", "expected 4 or 5 fields"),
        ("duid", "expected 4 or 5 fields"),
    ];
    for (line, reason) in cases {
        let got = parse_leases(line);
        assert!(got.leases.is_empty(), "{line}");
        assert_eq!(got.skipped.len(), 1, "{line}");
        assert_eq!(got.skipped[0].reason, reason, "{line}");
        assert_eq!(got.skipped[0].line, 1);
    }
}

#[test]
fn whole_file_with_ipv6_section() {
    let text = "\
1700000000 52:54:00:aa:bb:cc 192.168.122.10 web 01:52:54:00:aa:bb:cc

this line is broken
0 52:54:00:aa:bb:cd 192.168.122.11 * *
duid 00:01:00:01:2c:5f:1a:2b:52:54:00:12:34:56
1700000100 1234567 fd00:122::10 web 00:04:aa:bb
1700000200 T42 fd00:122::99 * 00:04:cc:dd
1700000300 99 fd00:122::11 *
";
    let file: LeaseFile = parse_leases(text);
    assert_eq!(
        file.server_duid.as_deref(),
        Some("00:01:00:01:2c:5f:1a:2b:52:54:00:12:34:56")
    );
    assert_eq!(file.skipped.len(), 1);
    assert_eq!(file.skipped[0].line, 3);
    assert_eq!(
        file.skipped[0].to_string(),
        "lease file line 3: expiry is not a number"
    );
    let ips: Vec<String> = file.leases.iter().map(|l| l.ip.to_string()).collect();
    assert_eq!(
        ips,
        [
            "192.168.122.10",
            "192.168.122.11",
            "fd00:122::10",
            "fd00:122::99",
            "fd00:122::11"
        ]
    );
    let v6 = &file.leases[2];
    assert_eq!(v6.mac, None, "IPv6 leases carry an IAID, not a MAC");
    assert_eq!(v6.hostname.as_deref(), Some("web"));
    assert_eq!(v6.client_id.as_deref(), Some("00:04:aa:bb"));
    assert_eq!(file.leases[3].hostname, None);
    assert_eq!(file.leases[4].client_id, None);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let inputs = [
        "\u{0}\u{1}\u{2}",
        "1 2 3 4 5 6 7 8 9",
        "18446744073709551616 52:54:00:00:00:01 10.0.0.2 * *",
        "1 - 10.0.0.2 * *",
        "1 -- 10.0.0.2 * *",
        "1 : 10.0.0.2 * *",
        "1 T fd00::1 * *",
        "   \t  ",
        "é ü 10.0.0.1 ☃ *",
    ];
    for input in inputs {
        let got = parse_leases(input);
        assert!(got.leases.is_empty(), "{input:?} gave {:?}", got.leases);
    }
}

#[test]
fn read_missing_file_is_empty_and_real_file_parses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = read_leases(&dir.path().join("absent.leases")).expect("missing reads empty");
    assert_eq!(missing, LeaseFile::default());
    let path = dir.path().join("net.leases");
    std::fs::write(&path, "0 52:54:00:00:00:01 10.0.0.2 a *\n").expect("write");
    let file = read_leases(&path).expect("read");
    assert_eq!(file.leases.len(), 1);
    assert_eq!(file.leases[0].hostname.as_deref(), Some("a"));
}
