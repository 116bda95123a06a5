//! The dnsmasq writer against arbitrary text: every definition that passes validation renders,
//! reads back (by dnsmasq's rules) as exactly the planned entries and hosts, and is accepted by
//! `dnsmasq --test` (which only parses; nothing binds a socket). The raw `<dnsmasq:options>`
//! are left out of the arbitrary text and checked to stay one line each.
//!
//! 256 cases per run unless PROPTEST_CASES says otherwise.

mod support;

use std::cell::Cell;
use std::fs;
use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use switchyard::model::{parse_network_xml, validate, NetworkDef};
use switchyard::plan::dnsmasq::{plan, DnsmasqFiles, DnsmasqPaths};

const BASE: &str = "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>\
<name>prop</name><forward mode='nat'/><bridge name='sybr7'/><domain name='base.example'/>\
<dns><forwarder domain='fwd.example' addr='192.0.2.53'/><txt name='t' value='v'/>\
<srv service='s' protocol='tcp' domain='d.example' target='t.example' port='1'/>\
<host ip='192.168.77.5'><hostname>h</hostname></host></dns>\
<ip address='192.168.77.1' prefix='24'><tftp root='/srv/tftp'/><dhcp>\
<range start='192.168.77.10' end='192.168.77.99'/>\
<host mac='52:54:00:00:00:07' name='g4' ip='192.168.77.7'/><bootp file='pxe.img'/></dhcp></ip>\
<ip family='ipv6' address='fd00:77::1' prefix='64'><dhcp>\
<range start='fd00:77::10' end='fd00:77::99'/><host id='0:1:2:3' name='g6' ip='fd00:77::7'/>\
</dhcp></ip><dnsmasq:options><dnsmasq:option value='cname=alias.base.example,h.base.example'/>\
</dnsmasq:options></network>";

/// The text fields the property varies, in the order [`apply`] sets them.
const FIELDS: usize = 12;

fn base() -> NetworkDef {
    parse_network_xml(BASE).expect("base parses")
}

/// Sets field `i` of `def` to `text`.
fn apply(def: &mut NetworkDef, i: usize, text: String) {
    let dns = def.dns.as_mut().expect("base has <dns>");
    let dhcp = |def: &mut NetworkDef, ip: usize| {
        def.ips[ip].dhcp.as_mut().expect("base has <dhcp>").hosts[0].name = Some(text.clone());
    };
    match i {
        0 => def.domain.as_mut().expect("base has <domain>").name = text,
        1 => dns.hosts[0].hostnames[0] = text,
        2 => dns.txts[0].name = text,
        3 => dns.txts[0].value = text,
        4 => dns.srvs[0].service = text,
        5 => dns.srvs[0].domain = Some(text),
        6 => dns.srvs[0].target = Some(text),
        7 => dhcp(def, 0),
        8 => dhcp(def, 1),
        9 => def.ips[0].tftp_root = Some(text),
        10 => {
            let dhcp = def.ips[0].dhcp.as_mut().expect("base has <dhcp>");
            dhcp.bootp.as_mut().expect("base has <bootp>").file = text;
        }
        _ => dns.forwarders[0].domain = Some(text),
    }
}

/// Arbitrary text, biased towards what is nearly valid and towards dnsmasq's special
/// characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z][a-z0-9_-]{0,7}[a-z](\\.[a-z0-9_]{1,8}){0,3}",
        1 => "[a-z0-9_-]{1,8}(\\.[a-z0-9_-]{1,8}){0,3}",
        1 => "\\PC{0,12}",
        2 => "[ -~]{0,16}",
        2 => "[a-z0-9 #,\"'\\\\=/:.\\t\\n\\r\\x00\\x0b\\x1b\\x7f-]{0,10}",
        1 => "[a-z]{60,70}(\\.[a-z]{60,70}){0,4}",
        1 => "[ -~]{300,1100}",
        1 => Just(String::new()),
    ]
}

/// For each field, new text (about one field in five) or the base's.
fn edits() -> impl Strategy<Value = Vec<Option<String>>> {
    prop::collection::vec(prop::option::weighted(0.2, text()), FIELDS)
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let file = "tests/fixtures/dnsmasq_conf.proptest-regressions";
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}

/// `dnsmasq --test` on `conf`, and on the hosts file's lines as `dhcp-host` options (dnsmasq
/// reads both with the same line reader and the same parser).
/// The raw `<dnsmasq:options>` are the user's to get right (libvirt's own fixture passes
/// `foo=bar`), so they are left out.
fn dnsmasq_accepts(dir: &Path, files: &DnsmasqFiles, raw: &[String]) -> Result<(), String> {
    let hosts: String = files
        .hosts
        .lines()
        .map(|l| format!("dhcp-host={l}\n"))
        .collect();
    let conf: String = files
        .conf
        .lines()
        .filter(|l| !raw.iter().any(|r| r == l))
        .map(|l| format!("{l}\n"))
        .collect();
    for (name, text) in [("dnsmasq.conf", &conf), ("hosts.conf", &hosts)] {
        let path = dir.join(name);
        fs::write(&path, text).map_err(|e| e.to_string())?;
        let out = Command::new(support::find_tool("dnsmasq").ok_or("no dnsmasq")?)
            .arg("--test")
            .arg(format!("--conf-file={}", path.display()))
            .output()
            .map_err(|e| format!("cannot run dnsmasq: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!("dnsmasq refuses {name}: {err}\n{text}"));
        }
    }
    Ok(())
}

/// Renders a valid `def` and checks it every way; `Ok(false)` when `def` is not valid.
fn check(def: &NetworkDef, with_dnsmasq: bool) -> Result<bool, String> {
    if !validate(def, &[]).is_empty() {
        return Ok(false);
    }
    let paths = DnsmasqPaths::new(Path::new("/run/sy"), Path::new("/var/lib/sy"), &def.name);
    let plan = plan(def, "sybr7", &paths).map_err(|e| format!("valid, yet: {e}"))?;
    let files = plan
        .write(&def.name)
        .map_err(|e| format!("valid, yet: {e}"))?;
    plan.verify(&files)?;
    for raw in &def.dnsmasq_options {
        if files.conf.lines().filter(|l| l == raw).count() != 1 {
            return Err(format!("raw option {raw:?} is not one line of its own"));
        }
    }
    if with_dnsmasq {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        dnsmasq_accepts(dir.path(), &files, &def.dnsmasq_options)?;
    }
    Ok(true)
}

#[test]
fn arbitrary_text_is_written_so_dnsmasq_reads_it_back() {
    let with_dnsmasq = support::require_tool("dnsmasq");
    let (valid, total) = (Cell::new(0u32), Cell::new(0u32));
    let mut runner = TestRunner::new(config());
    let result = runner.run(&edits(), |edits| {
        let mut def = base();
        for (i, text) in edits.into_iter().enumerate() {
            if let Some(text) = text {
                apply(&mut def, i, text);
            }
        }
        total.set(total.get() + 1);
        let ok = check(&def, with_dnsmasq).map_err(TestCaseError::fail)?;
        valid.set(valid.get() + u32::from(ok));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    println!(
        "dnsmasq writer: {} of {} arbitrary definitions valid and checked",
        valid.get(),
        total.get()
    );
    assert!(
        valid.get() * 10 >= total.get(),
        "too few valid cases to mean much"
    );
}

/// The untouched base, and every libvirt fixture, pass all the checks.
#[test]
fn base_and_libvirt_cases_are_accepted() {
    let with_dnsmasq = support::require_tool("dnsmasq");
    assert_eq!(check(&base(), with_dnsmasq), Ok(true));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/networkxml2confdata");
    let mut count = 0;
    for entry in fs::read_dir(&dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "xml") {
            let def = parse_network_xml(&fs::read_to_string(&path).expect("read")).expect("parses");
            assert_eq!(check(&def, with_dnsmasq), Ok(true), "{}", path.display());
            count += 1;
        }
    }
    assert!(count >= 27);
}
