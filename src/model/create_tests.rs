//! Table tests for `build_definition`, golden files of each mode's output, and the libvirt
//! RELAX NG schema check of those outputs with xmllint.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::*;
use crate::model::xml::{format_network_xml, parse_network_xml};

fn rng() -> impl FnMut() -> u64 {
    let mut n = 42u64;
    move || {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        n
    }
}

fn req(name: &str, mode: &str) -> CreateRequest {
    CreateRequest {
        name: name.into(),
        mode: mode.into(),
        ..CreateRequest::default()
    }
}

fn build(r: &CreateRequest) -> Result<NetworkDef, Vec<Problem>> {
    build_definition(r, &[], &HostFacts::default(), &mut rng())
}

fn ok(r: &CreateRequest) -> NetworkDef {
    build(r).unwrap_or_else(|p| panic!("{r:?} rejected: {p:?}"))
}

/// One request per mode: these are the golden files and the schema-checked outputs.
fn per_mode() -> Vec<(&'static str, CreateRequest)> {
    let devs = |d: &[&str]| d.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        ("nat", req("lab", "nat")),
        (
            "route",
            CreateRequest {
                forward_dev: Some("eth0".into()),
                ipv4: Some("10.20.0.1/16".into()),
                ..req("routed", "route")
            },
        ),
        (
            "isolated",
            CreateRequest {
                ipv6: Some("auto".into()),
                domain: Some("iso.test".into()),
                stp: Some(false),
                ..req("iso", "isolated")
            },
        ),
        (
            "open",
            CreateRequest {
                ipv4: Some("172.30.5.1/24".into()),
                dhcp: Some("off".into()),
                mtu: Some(9000),
                ..req("open", "open")
            },
        ),
        (
            "bridge",
            CreateRequest {
                devs: devs(&["br0"]),
                ..req("lan", "bridge")
            },
        ),
        (
            "macvtap-bridge",
            CreateRequest {
                devs: devs(&["eth1", "eth2"]),
                ..req("mvt", "macvtap-bridge")
            },
        ),
        (
            "private",
            CreateRequest {
                devs: devs(&["eth1"]),
                ..req("priv", "private")
            },
        ),
        (
            "vepa",
            CreateRequest {
                devs: devs(&["eth1", "eth2", "eth3"]),
                ..req("vepa", "vepa")
            },
        ),
        (
            "passthrough",
            CreateRequest {
                devs: devs(&["eth4"]),
                ..req("pt", "passthrough")
            },
        ),
    ]
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

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/model/create")
}

/// Each mode's formatted output matches its golden file (UPDATE_GOLDEN=1 rewrites them) and
/// parses back to the same definition.
#[test]
fn golden_output_per_mode() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (mode, r) in per_mode() {
        let def = ok(&r);
        let xml = format_network_xml(&def);
        assert_eq!(
            parse_network_xml(&xml).as_ref(),
            Ok(&def),
            "{mode}: does not round-trip"
        );
        let path = golden_dir().join(format!("{mode}.xml"));
        if update {
            std::fs::create_dir_all(golden_dir()).expect("create golden dir");
            std::fs::write(&path, &xml).expect("write golden file");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with UPDATE_GOLDEN=1 to create)",
                path.display()
            )
        });
        assert_eq!(xml, want, "{mode}: output differs from {}", path.display());
    }
}

fn schema() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/compat/libvirt-networkxml/schemas/network.rng");
    assert!(
        path.is_file(),
        "libvirt schema not found at {} (shared/ must sit beside the checkout)",
        path.display()
    );
    path
}

/// Run `xmllint --noout --relaxng network.rng -` on `xml`; `None` when xmllint is missing.
fn xmllint(xml: &str) -> Option<Result<(), String>> {
    let child = Command::new("xmllint")
        .args(["--noout", "--relaxng"])
        .arg(schema())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(format!("cannot run xmllint: {e}"))),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(xml.as_bytes()).expect("write to xmllint");
    }
    let output = child.wait_with_output().expect("wait for xmllint");
    Some(if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    })
}

#[test]
fn created_definitions_validate_against_libvirt_schema() {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    for (mode, r) in per_mode() {
        let xml = format_network_xml(&ok(&r));
        match xmllint(&xml) {
            None if in_ci => panic!("xmllint is required in CI (Debian package libxml2-utils)"),
            None => {
                println!("skipped: xmllint not installed (Debian package libxml2-utils)");
                return;
            }
            Some(Err(e)) => panic!("{mode}: libvirt's schema rejects our output:\n{e}\n{xml}"),
            Some(Ok(())) => {}
        }
    }
}

#[test]
fn schema_check_can_fail() {
    if let Some(result) = xmllint("<network><name>x</name><forward mode='sideways'/></network>") {
        assert!(result.is_err(), "xmllint accepted an invalid mode");
    }
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn field() -> impl Strategy<Value = Option<String>> {
        let samples = prop::sample::select(vec![
            "",
            "none",
            "off",
            "auto",
            "10.0.0.1/24",
            "10.0.0.1/33",
            "fd00::1/64",
            "fd00::1/0",
            "1.2.3.4/0",
            "255.255.255.255/32",
            "0.0.0.0/1",
            "10.0.0.2-10.0.0.9",
            "10.0.0.9-10.0.0.2",
            "br0",
            "eth0",
            "a,b",
            "a\nb",
            "x/y",
            "192.168.100.1/24",
        ]);
        prop_oneof![
            Just(None),
            samples.prop_map(|s| Some(s.to_string())),
            ".{0,20}".prop_map(Some)
        ]
    }

    fn request() -> impl Strategy<Value = CreateRequest> {
        let modes = prop::sample::select(CREATE_MODES.to_vec()).prop_map(str::to_string);
        let devs = prop::collection::vec(
            prop::sample::select(vec!["eth0", "br0", "", "x y"]).prop_map(str::to_string),
            0..3,
        );
        (
            ".{0,10}",
            modes,
            (field(), field(), field(), field()),
            (field(), field(), field()),
            devs,
            any::<Option<bool>>(),
            any::<Option<u32>>(),
        )
            .prop_map(
                |(
                    name,
                    mode,
                    (bridge, ipv4, dhcp, ipv6),
                    (forward_dev, domain, _),
                    devs,
                    stp,
                    mtu,
                )| CreateRequest {
                    name,
                    mode,
                    bridge,
                    ipv4,
                    dhcp,
                    ipv6,
                    forward_dev,
                    devs,
                    domain,
                    stp,
                    mtu,
                    autostart: false,
                },
            )
    }

    proptest! {
        /// Whatever is typed, build_definition answers without panicking, and what it builds
        /// formats to XML that parses back to the same definition.
        #[test]
        fn build_never_panics(r in request()) {
            let others = [ok(&req("other", "nat"))];
            if let Ok(def) = build_definition(&r, &others, &HostFacts::default(), &mut rng()) {
                let xml = format_network_xml(&def);
                prop_assert_eq!(parse_network_xml(&xml), Ok(def));
            }
        }
    }
}
