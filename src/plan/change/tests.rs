use std::path::Path;

use super::*;
use crate::model::parse_network_xml;

fn paths() -> DnsmasqPaths {
    DnsmasqPaths::new(Path::new("/run/sy"), Path::new("/var/lib/sy"), "lab")
}

fn def(inner: &str) -> NetworkDef {
    let base = "<network><name>lab</name><uuid>11111111-2222-3333-4444-555555555555</uuid>\
        <forward mode='nat'/><bridge name='sybr0' stp='off' delay='0'/>\
        <mac address='52:54:00:00:00:01'/>";
    let xml = format!("{base}{inner}</network>");
    parse_network_xml(&xml).expect("parses")
}

const IP: &str = "<ip address='10.1.0.1' prefix='24'><dhcp>\
    <range start='10.1.0.10' end='10.1.0.99'/></dhcp></ip>";

fn kinds(change: &Change) -> Vec<&'static str> {
    match change {
        Change::Live(plan) => plan.steps.iter().map(Step::kind).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn a_title_changes_nothing_on_the_host() {
    let old = def(IP);
    let new = def(&format!("<title>lab network</title>{IP}"));
    assert_eq!(classify(&old, &new, &paths()), Ok(Change::Nothing));
}

#[test]
fn a_dhcp_host_is_a_reload_and_a_domain_a_dnsmasq_restart() {
    let old = def(IP);
    let host = IP.replace(
        "</dhcp>",
        "<host mac='52:54:00:00:00:09' ip='10.1.0.9'/></dhcp>",
    );
    let change = classify(&old, &def(&host), &paths()).expect("classify");
    assert_eq!(kinds(&change), ["update-dnsmasq"]);
    let Change::Live(plan) = &change else {
        panic!("{change:?}")
    };
    assert!(matches!(
        plan.steps[0],
        Step::UpdateDnsmasq { restart: false, .. }
    ));
    let domain = classify(
        &old,
        &def(&format!("<domain name='lab.test'/>{IP}")),
        &paths(),
    );
    let Ok(Change::Live(plan)) = domain else {
        panic!("{domain:?}")
    };
    assert!(matches!(
        plan.steps[0],
        Step::UpdateDnsmasq { restart: true, .. }
    ));
    assert_eq!(
        plan.steps[0].undo().map(|u| u.kind()),
        Some("update-dnsmasq"),
        "undone by writing the old files back"
    );
}

#[test]
fn a_forward_device_or_mode_replaces_only_the_rules() {
    let old = def(IP);
    let mut new = def(IP);
    new.forward.as_mut().expect("forward").interfaces = vec!["eth1".into()];
    assert_eq!(
        kinds(&classify(&old, &new, &paths()).expect("ok")),
        ["replace-firewall"]
    );
    let mut routed = def(IP);
    routed.forward.as_mut().expect("forward").mode = crate::model::ForwardMode::Route;
    assert_eq!(
        kinds(&classify(&old, &routed, &paths()).expect("ok")),
        ["replace-firewall"]
    );
}

#[test]
fn addresses_and_the_bridge_itself_need_a_restart() {
    let old = def(IP);
    let moved = def(&IP.replace("10.1.0.", "10.2.0."));
    let Ok(Change::Restart(reasons)) = classify(&old, &moved, &paths()) else {
        panic!("a new subnet restarts the bridge")
    };
    assert!(
        reasons
            .iter()
            .any(|r| r == "needs: add address 10.2.0.1/24 to sybr0"),
        "{reasons:?}"
    );
    let mut mtu = def(IP);
    mtu.mtu = Some(1400);
    assert!(matches!(
        classify(&old, &mtu, &paths()),
        Ok(Change::Restart(_))
    ));
}

#[test]
fn dns_and_dhcp_off_stops_dnsmasq() {
    let old = def(IP);
    let quiet = def("<dns enable='no'/><ip address='10.1.0.1' prefix='24'/>");
    let change = classify(&old, &quiet, &paths()).expect("classify");
    assert_eq!(kinds(&change), ["replace-firewall", "stop-dnsmasq"]);
    let back = classify(&quiet, &old, &paths()).expect("classify");
    assert_eq!(
        kinds(&back),
        [
            "replace-firewall",
            "write-file",
            "write-file",
            "write-file",
            "start-dnsmasq"
        ]
    );
}
