//! Definitions libvirt defines and starts although they are dubious, written the way
//! virt-manager's and terraform-provider-libvirt's test networks are: the define path
//! (`validate`) accepts them and `dubious` warns at the expected paths; the create path
//! (`build_definition`, shared by the CLI and the wizard) refuses the same values.

use std::path::PathBuf;

use switchyard::model::{
    build_definition, dubious, parse_network_xml, validate, CreateRequest, HostFacts, NetworkDef,
};

fn fixture(name: &str) -> NetworkDef {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/model/dubious")
        .join(format!("{name}.xml"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_network_xml(&text).unwrap_or_else(|e| panic!("{name} must parse: {e}"))
}

/// Fixture, then (path, fragment) of every warning it must get — and no other.
const CASES: &[(&str, &[(&str, &str)])] = &[
    (
        "isolated-network-address",
        &[(
            "ip[0].address",
            "192.168.100.0 is the network address of 192.168.100.0/24",
        )],
    ),
    (
        "nat-broadcast-gateway",
        &[(
            "ip[0].address",
            "10.10.10.255 is the broadcast address of 10.10.10.0/24",
        )],
    ),
    (
        "nat-static-hosts",
        &[
            ("ip[0].dhcp.range[1]", "overlaps range[0]"),
            (
                "ip[0].dhcp.host[1].ip",
                "192.168.125.12 is outside 192.168.124.0/24",
            ),
            ("ip[0].dhcp.host[2].mac", "also used by host[0]"),
        ],
    ),
    (
        "route-virtualport",
        &[("virtualport", "does not work with mode 'route'")],
    ),
    (
        "ovs-bridge-without-name",
        &[("bridge.name", "no guest can be connected")],
    ),
];

#[test]
fn define_path_accepts_with_warnings() {
    for (name, expected) in CASES {
        let def = fixture(name);
        let problems = validate(&def, &[]);
        assert!(problems.is_empty(), "{name}: refused: {problems:?}");
        let warnings = dubious(&def);
        let listed: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert_eq!(warnings.len(), expected.len(), "{name}: {listed:#?}");
        for (path, fragment) in *expected {
            assert!(
                warnings
                    .iter()
                    .any(|w| w.path == *path && w.message.contains(fragment)),
                "{name}: expected `{path}: …{fragment}…` in {listed:#?}"
            );
        }
    }
}

fn rng() -> impl FnMut() -> u64 {
    let mut n = 7u64;
    move || {
        n = n.wrapping_mul(6364136223846793005).wrapping_add(1);
        n
    }
}

fn create(mode: &str, ipv4: &str, dhcp: Option<&str>) -> Result<NetworkDef, Vec<String>> {
    let req = CreateRequest {
        name: "new".into(),
        mode: mode.into(),
        ipv4: Some(ipv4.into()),
        dhcp: dhcp.map(str::to_string),
        ..CreateRequest::default()
    };
    build_definition(&req, &[], &HostFacts::default(), &mut rng())
        .map_err(|ps| ps.iter().map(ToString::to_string).collect())
}

#[test]
fn create_path_refuses_the_same_values() {
    let cases = [
        (
            "isolated",
            "192.168.100.0/24",
            None,
            "ip[0].address: 192.168.100.0 is the network address",
        ),
        (
            "nat",
            "10.10.10.255/24",
            Some("10.10.10.10-10.10.10.100"),
            "ip[0].address: 10.10.10.255 is the broadcast address",
        ),
        (
            "route",
            "10.17.3.0/24",
            Some("off"),
            "ip[0].address: 10.17.3.0 is the network address",
        ),
    ];
    for (mode, ipv4, dhcp, want) in cases {
        let problems = create(mode, ipv4, dhcp).expect_err(ipv4);
        assert!(
            problems.iter().any(|p| p.starts_with(want)),
            "{mode} {ipv4}: expected {want:?} in {problems:#?}"
        );
    }
    let fine = create("isolated", "192.168.100.1/24", None).expect("a host address is fine");
    assert!(dubious(&fine).is_empty());
}

/// What `create` builds is never dubious, whatever the mode.
#[test]
fn created_definitions_are_not_dubious() {
    for mode in ["nat", "route", "isolated", "open"] {
        let def = create(mode, "10.20.30.1/24", None).expect(mode);
        assert!(dubious(&def).is_empty(), "{mode}: {:?}", dubious(&def));
    }
}
