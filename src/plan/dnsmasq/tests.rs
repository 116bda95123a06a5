//! Golden files: the corpus' definitions rendered to dnsmasq configs, as libvirt's
//! networkxml2confdata does.

use std::path::Path;

use super::*;
use crate::model::parse_network_xml;

fn corpus_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/compat/libvirt-networkxml/in")
}

fn paths() -> DnsmasqPaths {
    DnsmasqPaths::new(Path::new("/run/sy"), Path::new("/var/lib/sy"), "net")
}

fn render_case(name: &str) -> String {
    let path = corpus_dir().join(format!("{name}.xml"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("corpus file {} is missing: {e}", path.display()));
    let def = parse_network_xml(&text).expect("corpus case parses");
    let files = render(&def, def.bridge_name().unwrap_or("sybr0"), &paths());
    format!(
        "# conf\n{}# hostsfile\n{}# addnhosts\n{}",
        files.conf, files.hosts, files.addn_hosts
    )
}

#[test]
fn corpus_configs() {
    let cases = [
        "nat-network",
        "isolated-network",
        "routed-network",
        "netboot-network",
        "netboot-proxy-network",
        "nat-network-dns-txt-record",
        "nat-network-dns-srv-record",
        "nat-network-dns-hosts",
        "nat-network-dns-forward-plain",
        "nat-network-dns-forwarders",
        "nat-network-dns-forwarder-no-resolv",
        "dhcp6host-routed-network",
        "dnsmasq-options",
        "leasetime-hours",
        "leasetime-infinite",
        "routed-network-no-dns",
    ];
    for case in cases {
        insta::assert_snapshot!(case, render_case(case));
    }
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
