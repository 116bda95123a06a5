//! libvirt's own `net-update` cases (libvirt 9.0.0 networkxml2xmlupdatetest): every update
//! libvirt applies gives libvirt's output byte for byte, and every update it refuses is
//! refused. See tests/fixtures/networkxml-update/README.md.

use std::fs;
use std::path::{Path, PathBuf};

use switchyard::model::{
    apply_update, format_network_xml, parse_network_xml, update_section, MacAddr, NetworkDef,
    Reason, Section, UpdateCommand, UpdateError, UpdateRequest,
};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/networkxml-update")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One line of CASES.
struct Case {
    name: String,
    section: Section,
    command: UpdateCommand,
    update: String,
    base: String,
    expected: Option<String>,
}

fn cases() -> Vec<Case> {
    let table = read(&dir().join("CASES"));
    let lines = table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    lines.map(parse_case).collect()
}

fn parse_case(line: &str) -> Case {
    let cols: Vec<&str> = line.split('\t').collect();
    let [name, section, command, update, base, expected] = cols[..] else {
        panic!("CASES line without six columns: {line:?}");
    };
    Case {
        name: name.to_string(),
        section: section.parse().unwrap_or_else(|e| panic!("{name}: {e}")),
        command: command.parse().unwrap_or_else(|e| panic!("{name}: {e}")),
        update: update.to_string(),
        base: base.to_string(),
        expected: (expected != "fail").then(|| expected.to_string()),
    }
}

/// Cases libvirt's update test accepts but the definition that results is refused as a
/// whole, by libvirt's own final format-and-parse step of `virNetworkObjUpdate` and by our
/// `validate`: the update must then be refused at this path.
const REFUSED_AS_A_WHOLE: [(&str, &str); 1] = [
    // libvirt's parser: "multiple forwarding interfaces specified for network 'default',
    // only one is supported" (NAT forwards through one device).
    ("insert-forward-interface", "forward.interface[1]"),
];

fn request(case: &Case) -> UpdateRequest {
    UpdateRequest {
        section: case.section,
        command: case.command,
        xml: read(&dir().join("updatein").join(format!("{}.xml", case.update))),
        parent_index: Some(0),
    }
}

/// Why a case fails, or `None` when it passes. The section's change is compared with
/// libvirt's output; the whole update must agree with it, or be refused where listed.
fn run(case: &Case) -> Option<String> {
    let base_xml = read(&dir().join("base").join(format!("{}.xml", case.base)));
    let base = match parse_network_xml(&base_xml) {
        Ok(def) => def,
        Err(e) => return Some(format!("{}: base rejected: {e}", case.name)),
    };
    let req = request(case);
    let section = update_section(&base, &req);
    let whole = apply_update(&base, &req);
    match (&case.expected, section) {
        (None, Err(e)) => check_refusal(case, &e, whole.is_ok()),
        (None, Ok(def)) => Some(format!(
            "{}: applied, but libvirt refuses it\n{}",
            case.name,
            format_network_xml(&def)
        )),
        (Some(_), Err(e)) => Some(format!("{}: refused: {e}", case.name)),
        (Some(out), Ok(def)) => {
            let want = read(&dir().join("updateout").join(format!("{out}.xml")));
            let got = format_network_xml(&def);
            if got != want {
                return Some(format!(
                    "{}: differs\n--- ours\n{got}--- libvirt\n{want}",
                    case.name
                ));
            }
            check_whole(case, &def, whole)
        }
    }
}

/// How each refused case must be refused: the kind and the field named.
const REFUSALS: [(&str, Reason, &str); 20] = [
    ("add-host-incomplete", Reason::Incomplete, "ip"),
    ("add-host-new-incomplete", Reason::Incomplete, "ip"),
    ("add-host-existing", Reason::Duplicate, "mac"),
    ("modify-host-missing", Reason::NotFound, "host"),
    ("modify-host-incomplete", Reason::Incomplete, "ip"),
    ("delete-host-missing", Reason::NotFound, "host"),
    ("add-dhcp-range-outside-net", Reason::Invalid, "start"),
    ("delete-dhcp-range-missing", Reason::NotFound, "start"),
    ("delete-forward-interface-missing", Reason::NotFound, "dev"),
    ("append-duplicate-portgroup", Reason::Duplicate, "name"),
    ("modify-missing-portgroup", Reason::NotFound, "name"),
    ("delete-missing-portgroup", Reason::NotFound, "name"),
    ("insert-incomplete-host", Reason::Incomplete, "ip"),
    (
        "delete-missing-unparsable-dns-host",
        Reason::Incomplete,
        "ip",
    ),
    ("append-duplicate-dns-txt-record", Reason::Duplicate, "name"),
    ("delete-missing-dns-txt-record", Reason::NotFound, "name"),
    ("add-existing-dns-srv-record", Reason::Duplicate, "service"),
    (
        "delete-missing-srv-record-service",
        Reason::NotFound,
        "record",
    ),
    ("delete-srv-record-invalid", Reason::NotFound, "record"),
    (
        "delete-ambiguous-srv-record-service",
        Reason::Ambiguous,
        "record",
    ),
];

fn check_refusal(case: &Case, e: &UpdateError, whole_ok: bool) -> Option<String> {
    if whole_ok {
        return Some(format!("{}: apply_update accepts", case.name));
    }
    let want = REFUSALS.iter().find(|(n, _, _)| *n == case.name);
    match want {
        Some((_, reason, field)) if e.reason() == Some(*reason) && e.field() == Some(field) => None,
        Some((_, reason, field)) => Some(format!(
            "{}: expected a refusal {reason:?} at {field}, got: {e}",
            case.name
        )),
        None => Some(format!("{}: not in REFUSALS ({e})", case.name)),
    }
}

/// `apply_update` gives the section's result, or is refused where libvirt refuses too.
fn check_whole(
    case: &Case,
    def: &NetworkDef,
    whole: Result<NetworkDef, UpdateError>,
) -> Option<String> {
    let refused = REFUSED_AS_A_WHOLE.iter().find(|(n, _)| *n == case.name);
    match (refused, whole) {
        (None, Ok(w)) => (&w != def).then(|| format!("{}: apply_update differs", case.name)),
        (None, Err(e)) => Some(format!("{}: apply_update refuses: {e}", case.name)),
        (Some(_), Ok(_)) => Some(format!("{}: apply_update accepts", case.name)),
        (Some((_, path)), Err(UpdateError::Invalid(problems))) => {
            let named = problems.iter().any(|p| p.path == *path);
            (!named).then(|| format!("{}: refused, but not at {path}: {problems:?}", case.name))
        }
        (Some(_), Err(e)) => Some(format!("{}: refused for another reason: {e}", case.name)),
    }
}

#[test]
fn libvirt_update_cases() {
    let cases = cases();
    assert_eq!(cases.len(), 41, "CASES should hold libvirt's 41 cases");
    let failures: Vec<String> = cases.iter().filter_map(run).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases fail\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// libvirt writes a static host's MAC as written (only the bridge's `<mac>` is lower-cased),
/// and compares MACs whatever their case.
#[test]
fn host_mac_keeps_its_case() {
    let base_xml = read(&dir().join("base/dhcp6host-routed-network.xml"));
    let base = parse_network_xml(&base_xml).expect("base parses");
    let add = UpdateRequest {
        section: Section::IpDhcpHost,
        command: UpdateCommand::AddLast,
        xml: "<host mac='52:54:00:AB:CD:EF' name='upper' ip='192.168.122.20'/>".into(),
        parent_index: None,
    };
    let def = apply_update(&base, &add).expect("added");
    let xml = format_network_xml(&def);
    assert!(
        xml.contains("<host mac='52:54:00:AB:CD:EF' name='upper'"),
        "{xml}"
    );
    assert!(xml.contains("<mac address='12:34:56:78:9a:bc'/>"), "{xml}");
    let again = parse_network_xml(&xml).expect("reads back");
    assert_eq!(format_network_xml(&again), xml, "round trip");
    let mac: MacAddr = "52:54:00:ab:cd:ef".parse().expect("mac");
    assert_eq!(again.ips[0].hosts()[2].mac, Some(mac));
    let dup = UpdateRequest {
        xml: "<host mac='52:54:00:ab:cd:ef' name='lower' ip='192.168.122.21'/>".into(),
        ..add
    };
    let err = apply_update(&def, &dup).expect_err("the same MAC in another case");
    assert_eq!(err.field(), Some("mac"), "{err}");
}
