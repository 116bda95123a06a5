//! The property behind "every string is hostile data", end to end through the planner: for
//! arbitrary text in every text field of a definition (name, bridge, forward device, domain,
//! DNS records, DHCP host name, TFTP root, boot file, forwarder domain, title), every
//! definition that passes validation plans a start whose
//!
//! * nftables transaction nft accepts, loaded for real inside a throwaway namespace, leaving
//!   exactly one table with exactly the planned chains, rules and map elements (no drift
//!   against [`expected_table`], nothing else in the ruleset);
//! * dnsmasq configuration `dnsmasq --test` accepts, and that reads back (by our reader of
//!   dnsmasq's syntax) as exactly the planned options and hosts.
//!
//! 2,000 cases per run; PROPTEST_CASES sets another number (the release run uses 20,000).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use support::{require_tool, run_ok, stdout, TestNetns};
use switchyard::model::{parse_network_xml, validate, NetworkDef};
use switchyard::plan::dnsmasq::{plan as dnsmasq_plan, DnsmasqFiles, DnsmasqPaths};
use switchyard::plan::firewall::{expected_table, network_drift, parse_table, table_drift};
use switchyard::plan::{plan_start, Observed, Step};

const BASE: &str = "<network><name>prop</name><title>t</title>\
<forward mode='nat' dev='eth0'/><bridge name='sybr7' stp='off'/><domain name='base.example'/>\
<dns><forwarder domain='fwd.example' addr='192.0.2.53'/><txt name='t' value='v'/>\
<srv service='s' protocol='tcp' domain='d.example' target='t.example' port='1'/>\
<host ip='192.168.77.5'><hostname>h</hostname></host></dns>\
<ip address='192.168.77.1' prefix='24'><tftp root='/srv/tftp'/><dhcp>\
<range start='192.168.77.10' end='192.168.77.99'/>\
<host mac='52:54:00:00:00:07' name='g4' ip='192.168.77.7'/><bootp file='pxe.img'/></dhcp></ip>\
<ip family='ipv6' address='fd00:77::1' prefix='64'/></network>";

const FIELDS: usize = 14;

/// Sets text field `i` of `def`.
fn set(def: &mut NetworkDef, i: usize, text: String) {
    let dns = def.dns.as_mut().expect("base has <dns>");
    match i {
        0 => def.name = text,
        1 => def.bridge.as_mut().expect("bridge").name = Some(text),
        2 => def.forward.as_mut().expect("forward").interfaces = vec![text],
        3 => def.domain.as_mut().expect("domain").name = text,
        4 => dns.hosts[0].hostnames[0] = text,
        5 => dns.txts[0].name = text,
        6 => dns.txts[0].value = text,
        7 => dns.srvs[0].service = text,
        8 => dns.srvs[0].target = Some(text),
        9 => dns.forwarders[0].domain = Some(text),
        10 => def.ips[0].dhcp.as_mut().expect("dhcp").hosts[0].name = Some(text),
        11 => def.ips[0].tftp_root = Some(text),
        12 => {
            let dhcp = def.ips[0].dhcp.as_mut().expect("dhcp");
            dhcp.bootp.as_mut().expect("bootp").file = text;
        }
        _ => def.title = Some(text),
    }
}

/// Text aimed at nft's and dnsmasq's syntax, at interface-name rules, and at nothing at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9_-]{0,7}[a-z](\\.[a-z0-9_]{1,8}){0,2}",
        3 => "[A-Za-z0-9_.@*,;{}\"' -]{1,16}",
        2 => "[ -~]{0,24}",
        2 => "\\PC{0,12}",
        1 => "[a-z0-9 #,\"'\\\\=/:;{}.\\t\\n\\r\\x00-]{0,12}",
        1 => prop::sample::select(vec![
            "x\"; flush ruleset; \"".to_owned(),
            "} table inet evil { chain c { type filter hook input priority 0; policy drop; } }"
                .to_owned(),
            "@set".to_owned(),
            "eth*".to_owned(),
            "icmpv6".to_owned(),
            "a,interface=eth0".to_owned(),
            "x\ndhcp-script=/bin/sh".to_owned(),
            "#comment".to_owned(),
            "\"".to_owned(),
        ]),
    ]
}

/// Each field: new text about one time in seven (two fields a case), else the base's.
fn edits() -> impl Strategy<Value = Vec<Option<String>>> {
    prop::collection::vec(prop::option::weighted(0.15, text()), FIELDS)
}

/// What happened to one case.
enum Case {
    Refused,
    Checked,
}

struct Checker<'a> {
    ns: &'a TestNetns,
    dir: &'a Path,
}

impl Checker<'_> {
    fn nft(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", self.ns.name(), "nft"])
            .args(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn nft");
        if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
            use std::io::Write;
            input.write_all(text.as_bytes()).expect("write to nft");
        }
        child.wait_with_output().expect("nft")
    }

    fn check(&self, edits: Vec<Option<String>>) -> Result<Case, TestCaseError> {
        let mut def = parse_network_xml(BASE).expect("base parses");
        for (i, text) in edits.into_iter().enumerate() {
            if let Some(text) = text {
                set(&mut def, i, text);
            }
        }
        if !validate(&def, &[]).is_empty() {
            return Ok(Case::Refused);
        }
        let paths = DnsmasqPaths::new(self.dir, self.dir, &def.name);
        let host = Default::default();
        let obs = Observed {
            host: &host,
            firewall: None,
            other_firewall: &[],
            dnsmasq_running: false,
            ipv4_forward: Some(false),
            ipv6_forward: Some(false),
            own_bridge: None,
        };
        let plan = plan_start(&def, &obs, &paths)
            .map_err(|e| TestCaseError::fail(format!("a valid definition must plan: {e}")))?;
        self.check_firewall(&plan.steps)?;
        self.check_dnsmasq(&def, &paths, &plan.steps)?;
        Ok(Case::Checked)
    }

    fn check_firewall(&self, steps: &[Step]) -> Result<(), TestCaseError> {
        let net = steps
            .iter()
            .find_map(|s| match s {
                Step::AddFirewall { net, .. } => Some(net.clone()),
                _ => None,
            })
            .ok_or_else(|| TestCaseError::fail("a NAT network plans its rules"))?;
        let doc = switchyard::plan::firewall::add_network(&net).to_string();
        let out = self.nft(&["-j", "-f", "-"], Some(&doc));
        prop_assert!(
            out.status.success(),
            "nft refused: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tables = stdout(&self.nft(&["list", "tables"], None));
        prop_assert_eq!(tables.trim(), "table inet switchyard");
        let listing = stdout(&self.nft(&["-j", "list", "table", "inet", "switchyard"], None));
        let table = parse_table(&listing).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut drift = network_drift(&net, Some(&table));
        drift.extend(table_drift(&table, std::slice::from_ref(&net)));
        prop_assert!(drift.is_empty(), "drift right after loading: {drift:?}");
        let want = expected_table(std::slice::from_ref(&net));
        let names = |t: &switchyard::plan::firewall::ObservedTable| {
            t.chains
                .iter()
                .map(|(n, c)| (n.clone(), c.rules.len()))
                .collect::<Vec<_>>()
        };
        prop_assert_eq!(
            names(&table),
            names(&want),
            "exactly the planned chains and rules"
        );
        let flush = self.nft(&["flush", "ruleset"], None);
        prop_assert!(flush.status.success());
        Ok(())
    }

    fn check_dnsmasq(
        &self,
        def: &NetworkDef,
        paths: &DnsmasqPaths,
        steps: &[Step],
    ) -> Result<(), TestCaseError> {
        let written = |path: &Path| {
            steps.iter().find_map(|s| match s {
                Step::WriteFile {
                    path: p, contents, ..
                } if p == path => Some(contents.clone()),
                _ => None,
            })
        };
        let files = DnsmasqFiles {
            conf: written(&paths.conf).ok_or_else(|| TestCaseError::fail("no conf step"))?,
            hosts: written(&paths.hosts_file).unwrap_or_default(),
            addn_hosts: written(&paths.addn_hosts).unwrap_or_default(),
        };
        let bridge = def.bridge_name().unwrap_or_default();
        let planned = dnsmasq_plan(def, bridge, paths)
            .map_err(|e| TestCaseError::fail(format!("render: {e}")))?;
        planned
            .verify(&files)
            .map_err(|e| TestCaseError::fail(format!("reads back differently: {e}")))?;
        std::fs::write(&paths.conf, &files.conf).expect("write conf");
        let out = Command::new("dnsmasq")
            .arg("--test")
            .arg(format!("--conf-file={}", paths.conf.display()))
            .output()
            .expect("dnsmasq");
        prop_assert!(
            out.status.success(),
            "dnsmasq refused:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            files.conf
        );
        Ok(())
    }
}

#[test]
fn every_valid_definition_plans_rules_nft_loads_and_a_config_dnsmasq_reads_as_planned() {
    let Some(ns) = TestNetns::new("prop") else {
        return;
    };
    if !require_tool("nft") || !require_tool("dnsmasq") {
        return;
    }
    run_ok(
        "ip",
        &["netns", "exec", ns.name(), "nft", "flush", "ruleset"],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let checker = Checker {
        ns: &ns,
        dir: dir.path(),
    };
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let (checked, refused) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    runner
        .run(&edits(), |e| {
            match checker.check(e)? {
                Case::Checked => checked.set(checked.get() + 1),
                Case::Refused => refused.set(refused.get() + 1),
            }
            Ok(())
        })
        .expect("the property holds");
    eprintln!(
        "{} definitions validated and checked, {} refused by validation",
        checked.get(),
        refused.get()
    );
    assert!(
        checked.get() * 5 >= cases,
        "at least a fifth of the cases must pass validation to test anything"
    );
}
