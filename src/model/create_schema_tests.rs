//! `build_definition` per mode: golden files, libvirt's RELAX NG schema (via xmllint), and
//! a proptest that whatever is typed never panics and always round-trips.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::tests::{ok, req, rng};
use super::*;
use crate::model::xml::{format_network_xml, parse_network_xml};

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
