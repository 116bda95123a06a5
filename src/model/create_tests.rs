//! Table tests for `build_definition`: defaults picked, options honoured, bad requests
//! rejected with the right field paths.

use super::*;

pub(super) fn rng() -> impl FnMut() -> u64 {
    let mut n = 42u64;
    move || {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        n
    }
}

pub(super) fn req(name: &str, mode: &str) -> CreateRequest {
    CreateRequest {
        name: name.into(),
        mode: mode.into(),
        ..CreateRequest::default()
    }
}

fn build(r: &CreateRequest) -> Result<NetworkDef, Vec<Problem>> {
    build_definition(r, &[], &HostFacts::default(), &mut rng())
}

pub(super) fn ok(r: &CreateRequest) -> NetworkDef {
    build(r).unwrap_or_else(|p| panic!("{r:?} rejected: {p:?}"))
}

#[test]
fn nat_with_only_a_name_picks_subnet_dhcp_bridge_mac_uuid() {
    let def = ok(&req("lab", "nat"));
    assert_eq!(def.mode_name(), "nat");
    assert_eq!(def.ipv4(), Some("192.168.100.1/24".parse().expect("net")));
    let (_, range) = def.dhcp_ranges()[0];
    assert_eq!(
        (range.start.to_string(), range.end.to_string()),
        ("192.168.100.2".into(), "192.168.100.254".into())
    );
    assert_eq!(def.bridge_name(), Some("sybr0"));
    assert_eq!(def.mac.expect("mac").0[..3], [0x52, 0x54, 0x00]);
    assert!(def.uuid.is_some());
}

#[test]
fn picks_around_other_networks_and_host() {
    let first = ok(&req("a", "nat"));
    let host = HostFacts {
        ifnames: vec!["eth0".into(), "sybr1".into()],
        taken_subnets: vec![
            "192.168.101.0/24".parse().expect("net"),
            "0.0.0.0/0".parse().expect("net"),
        ],
    };
    let def = build_definition(&req("b", "nat"), &[first], &host, &mut rng()).expect("builds");
    assert_eq!(def.ipv4(), Some("192.168.102.1/24".parse().expect("net")));
    assert_eq!(def.bridge_name(), Some("sybr2"));
}

#[test]
fn options_are_honoured() {
    let def = ok(&CreateRequest {
        dhcp: Some("off".into()),
        ipv4: Some("10.9.0.1/24".into()),
        ..req("a", "nat")
    });
    assert!(def.dhcp_ranges().is_empty());
    let def = ok(&CreateRequest {
        ipv4: Some("none".into()),
        ..req("a", "isolated")
    });
    assert!(def.ips.is_empty());
    let def = ok(&CreateRequest {
        ipv4: Some("10.9.0.1/31".into()),
        ..req("a", "route")
    });
    assert!(def.dhcp_ranges().is_empty(), "no DHCP pool fits a /31");
    let def = ok(&CreateRequest {
        ipv6: Some("auto".into()),
        ..req("a", "nat")
    });
    let v6 = def.ipv6().expect("ipv6");
    assert!(
        v6.to_string().starts_with("fd") && v6.to_string().ends_with("::1/64"),
        "{v6}"
    );
    let def = ok(&CreateRequest {
        bridge: Some("virbr9".into()),
        stp: Some(false),
        forward_dev: Some("eth0".into()),
        ..req("a", "nat")
    });
    assert_eq!((def.bridge_name(), def.stp()), (Some("virbr9"), false));
    assert_eq!(def.forward.as_ref().and_then(|f| f.dev()), Some("eth0"));
    let def = ok(&CreateRequest {
        devs: vec!["br0".into()],
        ..req("a", "bridge")
    });
    assert!(def.is_host_bridge() && def.mac.is_none() && def.ips.is_empty());
    let def = ok(&CreateRequest {
        devs: vec!["eth1".into()],
        ..req("a", "macvtap-bridge")
    });
    assert!(def.is_macvtap());
}

#[test]
fn deterministic() {
    assert_eq!(ok(&req("lab", "nat")), ok(&req("lab", "nat")));
}

/// Bad requests: every expected path must be among the problems.
#[test]
fn bad_requests_name_their_fields() {
    let others = [ok(&req("taken", "nat"))];
    let host = HostFacts {
        ifnames: vec!["eth0".into(), "br0".into(), "virbr0".into()],
        taken_subnets: vec!["10.1.0.0/16".parse().expect("net")],
    };
    let d = |s: &str| Some(s.to_string());
    let devs = |d: &[&str]| d.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let table: Vec<(CreateRequest, &[&str])> = vec![
        (req("x", "bogus"), &["forward.mode"]),
        (
            CreateRequest {
                ipv4: d("300.1.1.1/24"),
                ..req("x", "nat")
            },
            &["ip[0].address"],
        ),
        (
            CreateRequest {
                ipv4: d("10.0.0.1"),
                ..req("x", "nat")
            },
            &["ip[0].prefix"],
        ),
        (
            CreateRequest {
                ipv4: d("10.0.0.1/40"),
                ..req("x", "nat")
            },
            &["ip[0].prefix"],
        ),
        (
            CreateRequest {
                ipv4: d("10.0.0.0/24"),
                ..req("x", "nat")
            },
            &["ip[0].address"],
        ),
        (
            CreateRequest {
                dhcp: d("a-b"),
                ..req("x", "nat")
            },
            &["ip[0].dhcp.range[0]"],
        ),
        (
            CreateRequest {
                ipv4: d("10.0.0.1/24"),
                dhcp: d("10.0.0.9-10.0.0.2"),
                ..req("x", "nat")
            },
            &["ip[0].dhcp.range[0]"],
        ),
        (
            CreateRequest {
                ipv4: d("10.0.0.1/24"),
                dhcp: d("10.0.1.2-10.0.0.9"),
                ..req("x", "nat")
            },
            &["ip[0].dhcp.range[0]"],
        ),
        (
            CreateRequest {
                ipv4: d("none"),
                dhcp: d("10.0.0.2-10.0.0.9"),
                ..req("x", "isolated")
            },
            &["ip[0].dhcp.range[0]"],
        ),
        (
            CreateRequest {
                ipv6: d("zz/64"),
                ..req("x", "nat")
            },
            &["ip[1].address"],
        ),
        (
            CreateRequest {
                ipv6: d("fd00::1/200"),
                ..req("x", "nat")
            },
            &["ip[1].prefix"],
        ),
        (req("x", "bridge"), &["bridge.name"]),
        (
            CreateRequest {
                devs: devs(&["br0", "br1"]),
                ..req("x", "bridge")
            },
            &["forward.interface[1]"],
        ),
        (req("x", "private"), &["forward.interface"]),
        (
            CreateRequest {
                forward_dev: d("eth0"),
                ..req("x", "isolated")
            },
            &["forward.dev"],
        ),
        (
            CreateRequest {
                forward_dev: d("eth0"),
                ..req("x", "open")
            },
            &["forward.dev"],
        ),
        (
            CreateRequest {
                devs: devs(&["eth0"]),
                ..req("x", "nat")
            },
            &["forward.interface[0]"],
        ),
        (
            CreateRequest {
                devs: devs(&["eth0"]),
                stp: Some(true),
                ..req("x", "private")
            },
            &["bridge.stp"],
        ),
        (
            CreateRequest {
                devs: devs(&["eth0"]),
                ipv4: d("10.5.0.1/24"),
                ..req("x", "vepa")
            },
            &["ip[0]"],
        ),
        (req("", "nat"), &["name"]),
        (req("a/b", "nat"), &["name"]),
        (req("taken", "nat"), &["name"]),
        (
            CreateRequest {
                ipv4: d("192.168.100.1/24"),
                ..req("x", "nat")
            },
            &["ip[0]"],
        ),
        (
            CreateRequest {
                ipv4: d("10.1.2.1/24"),
                ..req("x", "nat")
            },
            &["ip[0].address"],
        ),
        (
            CreateRequest {
                bridge: d("virbr0"),
                ..req("x", "nat")
            },
            &["bridge.name"],
        ),
        (
            CreateRequest {
                bridge: d("averyveryverylongname"),
                ..req("x", "nat")
            },
            &["bridge.name"],
        ),
        (
            CreateRequest {
                devs: devs(&["br7"]),
                ..req("x", "bridge")
            },
            &["bridge.name"],
        ),
        (
            CreateRequest {
                devs: devs(&["eth0", "eth9"]),
                ..req("x", "private")
            },
            &["forward.interface[1]"],
        ),
        (
            CreateRequest {
                forward_dev: d("eth9"),
                ..req("x", "nat")
            },
            &["forward.dev"],
        ),
        (
            CreateRequest {
                mtu: Some(10),
                ..req("x", "nat")
            },
            &["mtu"],
        ),
        (
            CreateRequest {
                domain: d("a,b"),
                ..req("x", "nat")
            },
            &["domain.name"],
        ),
        (
            CreateRequest {
                ipv4: d("nonsense"),
                devs: devs(&["eth0"]),
                ..req("x", "nat")
            },
            &["ip[0].prefix", "forward.interface[0]"],
        ),
        (
            CreateRequest {
                bridge: d("br;0"),
                ..req("x", "nat")
            },
            &["bridge.name"],
        ),
        (
            CreateRequest {
                forward_dev: d("eth0\""),
                ..req("x", "route")
            },
            &["forward.dev"],
        ),
        (
            CreateRequest {
                devs: devs(&["eth0", "e th1"]),
                ..req("x", "private")
            },
            &["forward.interface[1].dev"],
        ),
        (
            CreateRequest {
                devs: devs(&["br$"]),
                ..req("x", "bridge")
            },
            &["bridge.name"],
        ),
        (
            CreateRequest {
                ipv4: d("10.5.0.0/24"),
                ..req("x", "nat")
            },
            &["ip[0].address"],
        ),
        (
            CreateRequest {
                ipv4: d("10.5.0.255/24"),
                dhcp: d("off"),
                ..req("x", "isolated")
            },
            &["ip[0].address"],
        ),
    ];
    for (r, paths) in &table {
        let problems = build_definition(r, &others, &host, &mut rng())
            .expect_err(&format!("{r:?} must be rejected"));
        for path in *paths {
            let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
            assert!(
                problems.iter().any(|p| p.path == *path),
                "{r:?}: expected a problem at {path}, got {listed:?}"
            );
        }
    }
}

/// A hostile interface name is refused for what it is, not looked up on the host.
#[test]
fn bad_interface_names_are_refused_once() {
    let host = HostFacts {
        ifnames: vec!["lo".into(), "eth0".into()],
        ..HostFacts::default()
    };
    let r = CreateRequest {
        devs: vec!["eth0".into(), "eth0;reboot".into()],
        ..req("x", "vepa")
    };
    let problems = build_definition(&r, &[], &host, &mut rng()).expect_err("refused");
    let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        listed,
        ["forward.interface[1].dev: 'eth0;reboot' is not a valid interface name: it contains ';'; use letters, digits, '-', '_' and '.' only"]
    );
}
