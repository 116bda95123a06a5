//! Unit tests of `pin` and `unpin`, one rule each.

use std::net::IpAddr;

use super::*;
use crate::model::mac::MacAddr;
use crate::model::xml::{format_network_xml, parse_network_xml};

const BASE: &str = "<network>
  <name>net</name>
  <forward mode='nat'/>
  <ip address='192.168.100.1' prefix='24'>
    <dhcp>
      <range start='192.168.100.100' end='192.168.100.200'/>
      <host mac='52:54:00:AA:00:01' name='web' ip='192.168.100.10'>
        <lease expiry='1' unit='hours'/>
      </host>
      <host name='db' ip='192.168.100.11'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00::1' prefix='64'>
    <dhcp>
      <host name='six' ip='fd00::10'/>
    </dhcp>
  </ip>
</network>";

fn base() -> NetworkDef {
    parse_network_xml(BASE).expect("base parses")
}

fn mac(n: u8) -> MacAddr {
    MacAddr([0x52, 0x54, 0x00, 0xaa, 0x00, n])
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an address")
}

fn hosts(def: &NetworkDef, block: usize) -> Vec<(Option<MacAddr>, Option<&str>, Option<IpAddr>)> {
    let h = def.ips[block].hosts().iter();
    h.map(|h| (h.mac, h.name.as_deref(), h.ip)).collect()
}

/// The refusal's kind and field.
fn refusal<T: std::fmt::Debug>(
    r: Result<T, UpdateError>,
) -> (Option<Reason>, Option<&'static str>) {
    let e = r.expect_err("refused");
    (e.reason(), e.field())
}

fn pinned(outcome: &PinOutcome) -> (usize, usize) {
    match outcome {
        PinOutcome::Pinned { previous, replaced } => (previous.len(), replaced.len()),
        PinOutcome::Unchanged => panic!("expected a change"),
    }
}

#[test]
fn adds_a_new_host_last() {
    let (def, outcome) = pin(
        &base(),
        Some(mac(3)),
        Some("new"),
        ip("192.168.100.12"),
        false,
    )
    .expect("pinned");
    assert_eq!(pinned(&outcome), (0, 0));
    assert_eq!(
        hosts(&def, 0)[2],
        (Some(mac(3)), Some("new"), Some(ip("192.168.100.12")))
    );
}

#[test]
fn pinning_what_is_there_is_a_no_op() {
    let def = base();
    let (same, outcome) =
        pin(&def, Some(mac(1)), Some("web"), ip("192.168.100.10"), true).expect("pinned");
    assert_eq!(outcome, PinOutcome::Unchanged);
    assert_eq!(same, def);
    let (_, by_name) = pin(&def, None, Some("db"), ip("192.168.100.11"), false).expect("pinned");
    assert_eq!(by_name, PinOutcome::Unchanged);
}

#[test]
fn an_address_held_by_another_host_needs_replace() {
    let r = pin(&base(), Some(mac(3)), None, ip("192.168.100.10"), false);
    assert_eq!(refusal(r), (Some(Reason::Duplicate), Some("ip")));
    let (def, outcome) =
        pin(&base(), Some(mac(3)), None, ip("192.168.100.10"), true).expect("replaced");
    let PinOutcome::Pinned { previous, replaced } = outcome else {
        panic!("changed")
    };
    assert!(previous.is_empty());
    assert_eq!(
        replaced
            .iter()
            .map(|h| h.name.as_deref())
            .collect::<Vec<_>>(),
        [Some("web")]
    );
    assert_eq!(
        hosts(&def, 0),
        [
            (None, Some("db"), Some(ip("192.168.100.11"))),
            (Some(mac(3)), None, Some(ip("192.168.100.10")))
        ]
    );
}

#[test]
fn a_mac_pinned_elsewhere_moves_only_with_replace() {
    let r = pin(
        &base(),
        Some(mac(1)),
        Some("web"),
        ip("192.168.100.20"),
        false,
    );
    assert_eq!(refusal(r), (Some(Reason::Duplicate), Some("mac")));
    let (def, outcome) = pin(
        &base(),
        Some(mac(1)),
        Some("web"),
        ip("192.168.100.20"),
        true,
    )
    .expect("moved");
    assert_eq!(pinned(&outcome), (1, 0));
    let moved = &def.ips[0].hosts()[0];
    assert_eq!(
        (moved.ip, moved.name.as_deref()),
        (Some(ip("192.168.100.20")), Some("web")),
        "in its place"
    );
    assert_eq!(
        moved.lease,
        base().ips[0].hosts()[0].lease,
        "its lease kept"
    );
    assert!(
        format_network_xml(&def).contains("mac='52:54:00:AA:00:01'"),
        "its spelling kept"
    );
}

#[test]
fn a_name_used_by_another_host_needs_replace() {
    let r = pin(
        &base(),
        Some(mac(3)),
        Some("db"),
        ip("192.168.100.30"),
        false,
    );
    assert_eq!(refusal(r), (Some(Reason::Duplicate), Some("hostname")));
    let (def, outcome) = pin(
        &base(),
        Some(mac(3)),
        Some("db"),
        ip("192.168.100.30"),
        true,
    )
    .expect("replaced");
    assert_eq!(pinned(&outcome), (0, 1));
    assert_eq!(hosts(&def, 0).len(), 2);
    let r = pin(&base(), None, Some("db"), ip("192.168.100.31"), false);
    assert_eq!(
        refusal(r),
        (Some(Reason::Duplicate), Some("hostname")),
        "moving a name-only host"
    );
}

#[test]
fn a_name_alone_never_takes_over_a_mac_reservation() {
    let r = pin(&base(), None, Some("web"), ip("192.168.100.10"), false);
    assert_eq!(refusal(r), (Some(Reason::Duplicate), Some("ip")));
}

#[test]
fn the_own_entry_at_the_address_changes_in_place() {
    let (def, outcome) = pin(
        &base(),
        Some(mac(1)),
        Some("www"),
        ip("192.168.100.10"),
        false,
    )
    .expect("renamed");
    assert_eq!(pinned(&outcome), (1, 0));
    assert_eq!(hosts(&def, 0)[0].1, Some("www"));
}

#[test]
fn a_pin_needs_a_mac_or_a_name() {
    let r = pin(&base(), None, None, ip("192.168.100.12"), false);
    assert_eq!(refusal(r), (Some(Reason::Incomplete), Some("mac")));
}

#[test]
fn only_host_addresses_of_a_subnet() {
    for bad in [
        "10.0.0.5",
        "192.168.100.1",
        "192.168.100.0",
        "192.168.100.255",
        "fd00::",
        "fd00::1",
    ] {
        let r = pin(&base(), None, Some("x"), ip(bad), false);
        assert_eq!(refusal(r), (Some(Reason::Invalid), Some("ip")), "{bad}");
    }
}

#[test]
fn ipv6_hosts_are_pinned_by_name() {
    let (def, _) = pin(&base(), None, Some("seven"), ip("fd00::11"), false).expect("pinned");
    assert_eq!(
        hosts(&def, 1)[1],
        (None, Some("seven"), Some(ip("fd00::11")))
    );
    let r = pin(&base(), Some(mac(3)), Some("seven"), ip("fd00::11"), false);
    assert_eq!(refusal(r), (Some(Reason::Invalid), Some("mac")));
    let (_, same_name) =
        pin(&base(), None, Some("web"), ip("fd00::12"), false).expect("one name, two families");
    assert_eq!(pinned(&same_name), (0, 0));
}

#[test]
fn a_moved_ipv6_host_keeps_its_id() {
    let xml = "<network><name>n</name><ip family='ipv6' address='fd00::1' prefix='64'><dhcp>
        <host id='0:1:0:1:aa' name='six' ip='fd00::20'/></dhcp></ip></network>";
    let def = parse_network_xml(xml).expect("parses");
    let (same, outcome) = pin(&def, None, Some("six"), ip("fd00::20"), false).expect("pinned");
    assert_eq!((outcome, same), (PinOutcome::Unchanged, def.clone()));
    let r = pin(&def, None, Some("six"), ip("fd00::21"), false);
    assert_eq!(refusal(r), (Some(Reason::Duplicate), Some("hostname")));
    let (moved, _) = pin(&def, None, Some("six"), ip("fd00::21"), true).expect("moved");
    let host = &moved.ips[0].hosts()[0];
    assert_eq!(
        (host.id.as_deref(), host.ip),
        (Some("0:1:0:1:aa"), Some(ip("fd00::21")))
    );
}

#[test]
fn host_names_dnsmasq_would_misread_are_refused() {
    for bad in ["123", "-x", "a b", "ignore", "a\nb", "x,set:y"] {
        let r = pin(
            &base(),
            Some(mac(3)),
            Some(bad),
            ip("192.168.100.12"),
            false,
        );
        assert_eq!(
            refusal(r),
            (Some(Reason::Invalid), Some("hostname")),
            "{bad}"
        );
    }
}

#[test]
fn a_second_dhcp_block_of_a_family_fails_validation() {
    let mut def = base();
    def.ips
        .push(crate::model::ip::IpDef::with_prefix(ip("10.9.0.1"), 24));
    let r = pin(&def, Some(mac(3)), None, ip("10.9.0.5"), false);
    assert!(matches!(r, Err(UpdateError::Invalid(_))), "{r:?}");
}

#[test]
fn unpin_by_mac_ip_or_name() {
    let (def, removed) = unpin(&base(), PinKey::Mac(mac(1))).expect("unpinned");
    assert_eq!(removed.name.as_deref(), Some("web"));
    assert_eq!(hosts(&def, 0).len(), 1);
    let (_, removed) = unpin(&base(), PinKey::Ip(ip("192.168.100.11"))).expect("unpinned");
    assert_eq!(removed.name.as_deref(), Some("db"));
    let (def, _) = unpin(&base(), PinKey::Name("six".into())).expect("unpinned");
    assert_eq!(def.ips[1].dhcp, None, "an emptied <dhcp> goes");
    let r = unpin(&base(), PinKey::Mac(mac(9)));
    assert_eq!(refusal(r), (Some(Reason::NotFound), Some("mac")));
    let r = unpin(&base(), PinKey::Name("nobody".into()));
    assert_eq!(refusal(r), (Some(Reason::NotFound), Some("hostname")));
    let (twice, _) = pin(&base(), None, Some("db"), ip("fd00::12"), false).expect("pinned");
    let r = unpin(&twice, PinKey::Name("db".into()));
    assert_eq!(refusal(r), (Some(Reason::Ambiguous), Some("hostname")));
}

#[test]
fn pin_keys_read_as_mac_then_ip_then_name() {
    assert_eq!(
        "52:54:00:aa:00:01".parse::<PinKey>(),
        Ok(PinKey::Mac(mac(1)))
    );
    assert_eq!("fd00::5".parse::<PinKey>(), Ok(PinKey::Ip(ip("fd00::5"))));
    assert_eq!("web".parse::<PinKey>(), Ok(PinKey::Name("web".into())));
    assert!("".parse::<PinKey>().is_err());
    assert_eq!(PinKey::Ip(ip("fd00::5")).field(), "ip");
}

#[test]
fn unchanged_input() {
    let def = base();
    let _ = pin(&def, Some(mac(1)), None, ip("192.168.100.50"), true);
    let _ = unpin(&def, PinKey::Name("web".into()));
    assert_eq!(def, base());
}
