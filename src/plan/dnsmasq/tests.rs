//! Golden files: libvirt's networkxml2confdata definitions (and a few of our own) rendered to
//! dnsmasq files; every one read back by dnsmasq's rules gives exactly the plan.

use std::path::{Path, PathBuf};

use super::*;
use crate::model::parse_network_xml;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/networkxml2confdata")
}

fn paths() -> DnsmasqPaths {
    DnsmasqPaths::new(Path::new("/run/sy"), Path::new("/var/lib/sy"), "net")
}

/// The files of `def` as one golden text, after checking that they read back as planned.
fn golden(def: &NetworkDef, paths: &DnsmasqPaths) -> String {
    let bridge = def.bridge_name().unwrap_or("sybr0");
    let plan = plan(def, bridge, paths).unwrap_or_else(|e| panic!("{}: {e}", def.name));
    let files = plan
        .write(&def.name)
        .unwrap_or_else(|e| panic!("{}: {e}", def.name));
    if let Err(e) = plan.verify(&files) {
        panic!("{}: {e}\n{}", def.name, files.conf);
    }
    format!(
        "# conf\n{}# hostsfile\n{}# addnhosts\n{}",
        files.conf, files.hosts, files.addn_hosts
    )
}

fn libvirt_case(name: &str) -> NetworkDef {
    let path = fixtures().join(format!("{name}.xml"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} is missing: {e}", path.display()));
    parse_network_xml(&text).unwrap_or_else(|e| panic!("{name} parses: {e}"))
}

fn libvirt_cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .expect("fixture folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".xml").map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[test]
fn libvirt_configs() {
    let names = libvirt_cases();
    assert!(names.len() >= 27, "only {} fixtures", names.len());
    for case in &names {
        insta::assert_snapshot!(case.as_str(), golden(&libvirt_case(case), &paths()));
    }
}

fn xml(body: &str) -> NetworkDef {
    let text = format!("<network><name>t</name><bridge name='sybr1'/>{body}</network>");
    parse_network_xml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn conf_of(def: &NetworkDef) -> String {
    render(def, "sybr1", &paths()).expect("renders").conf
}

#[test]
fn static_hosts_alone_are_all_served() {
    let def = xml("<forward/><ip address='10.1.0.1' prefix='24'><dhcp>\
        <host mac='52:54:00:00:00:01' ip='10.1.0.5'/><host mac='52:54:00:00:00:02' ip='10.1.0.6'/>\
        </dhcp></ip>");
    let conf = conf_of(&def);
    assert!(conf.contains("dhcp-range=10.1.0.1,static\n"), "{conf}");
    assert!(
        !conf.contains("dhcp-lease-max"),
        "dnsmasq's default limit serves them:\n{conf}"
    );
}

#[test]
fn isolated_networks_stay_inside() {
    let def = xml(
        "<ip address='10.1.0.1' prefix='24'/><ip family='ipv6' address='fd00::1' prefix='64'/>",
    );
    let conf = conf_of(&def);
    for line in [
        "dhcp-option=3\n",
        "no-resolv\n",
        "ra-param=*,0,0\n",
        "dhcp-range=fd00::1,ra-only\n",
    ] {
        assert!(conf.contains(line), "missing {line:?}:\n{conf}");
    }
    let nat = conf_of(&xml("<forward/><ip address='10.1.0.1' prefix='24'/>"));
    assert!(
        !nat.contains("no-resolv") && !nat.contains("ra-param"),
        "{nat}"
    );
}

#[test]
fn mtu_is_offered_by_dhcp() {
    let conf = conf_of(&xml(
        "<forward/><mtu size='9000'/><ip address='10.1.0.1' prefix='24'/>",
    ));
    assert!(conf.contains("dhcp-option=option:mtu,9000\n"), "{conf}");
}

#[test]
fn local_ptr_answers_reverse_lookups_locally() {
    let def = xml(
        "<forward/><ip address='10.1.0.1' prefix='16' localPtr='yes'/>\
        <ip family='ipv6' address='fd00:1:2:3::1' prefix='64' localPtr='yes'/>",
    );
    let conf = conf_of(&def);
    assert!(conf.contains("local=/1.10.in-addr.arpa/\n"), "{conf}");
    assert!(
        conf.contains("local=/3.0.0.0.2.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa/\n"),
        "{conf}"
    );
    let odd = xml("<forward/><ip address='10.1.0.1' prefix='20' localPtr='yes'/>");
    assert_eq!(
        render(&odd, "sybr1", &paths()).unwrap_err().path,
        "ip[0].localPtr"
    );
}

#[test]
fn srv_without_a_port_is_served_on_port_1() {
    let def = xml(
        "<forward/><dns><srv service='s' protocol='tcp' target='t.example' priority='5'/></dns>\
        <ip address='10.1.0.1' prefix='24'/>",
    );
    assert!(conf_of(&def).contains("srv-host=_s._tcp,t.example,1,5\n"));
}

#[test]
fn dhcpv6_alone_is_not_authoritative() {
    let def = xml(
        "<forward/><ip family='ipv6' address='fd00::1' prefix='64'><dhcp>\
        <range start='fd00::10' end='fd00::20'/></dhcp></ip>",
    );
    let conf = conf_of(&def);
    assert!(
        !conf.contains("dhcp-authoritative") && !conf.contains("no-ping"),
        "{conf}"
    );
    assert!(conf.contains("dhcp-range=fd00::10,fd00::20,64\n") && conf.contains("enable-ra\n"));
}

/// Text that needs dnsmasq's quoting, and a user line.
#[test]
fn hostile_text_is_quoted() {
    let def = xml(
        "<forward/><dns><txt name='k' value=' lead,&quot;q&quot;\\x, a #b,&#9;'/></dns>\
        <ip address='10.1.0.1' prefix='24'><tftp root='/srv/tftp root,1'/>\
        <dhcp><range start='10.1.0.2' end='10.1.0.9'/><bootp file='tag:pxe,1.img'/></dhcp></ip>",
    );
    let mut paths = paths();
    paths.user = Some("root".into());
    insta::assert_snapshot!("hostile-text", golden(&def, &paths));
    paths.user = Some("Root; x".into());
    assert_eq!(plan(&def, "sybr1", &paths).unwrap_err().path, "paths.user");
}

#[test]
fn file_names_are_encoded() {
    let p = DnsmasqPaths::new(Path::new("/r"), Path::new("/s"), "a b/../c");
    assert_eq!(p.conf, Path::new("/r/a%20b%2F..%2Fc.conf"));
    assert_eq!(p.lease_file, Path::new("/s/a%20b%2F..%2Fc.leases"));
    assert_eq!(p.user, None);
}

#[test]
fn which_networks_need_dnsmasq() {
    let parse = |xml: &str| parse_network_xml(xml).expect("parses");
    let nat = parse("<network><name>a</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip></network>");
    assert!(needs_dnsmasq(&nat));
    let no_ip = parse("<network><name>a</name><forward mode='nat'/></network>");
    assert!(!needs_dnsmasq(&no_ip));
    let host_bridge =
        parse("<network><name>a</name><forward mode='bridge'/><bridge name='br0'/></network>");
    assert!(!needs_dnsmasq(&host_bridge));
}
