//! Unit tests of `net-update` beyond libvirt's own cases (those are in tests/net_update.rs).

use super::*;
use crate::model::xml::{format_network_xml, parse_network_xml};

const BASE: &str = "<network>
  <name>net</name>
  <forward mode='nat'/>
  <ip address='192.168.100.1' prefix='24'>
    <dhcp>
      <range start='192.168.100.100' end='192.168.100.200'/>
      <host mac='52:54:00:00:00:01' name='web' ip='192.168.100.10'/>
      <host name='db' ip='192.168.100.11'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00::1' prefix='64'>
  </ip>
</network>";

fn base() -> NetworkDef {
    parse_network_xml(BASE).expect("base parses")
}

fn req(section: Section, command: UpdateCommand, xml: &str) -> UpdateRequest {
    UpdateRequest {
        section,
        command,
        xml: xml.to_string(),
        parent_index: None,
    }
}

fn apply(
    def: &NetworkDef,
    section: Section,
    command: UpdateCommand,
    xml: &str,
) -> Result<NetworkDef, UpdateError> {
    apply_update(def, &req(section, command, xml))
}

/// The refusal's kind and field.
fn refusal(r: Result<NetworkDef, UpdateError>) -> (Option<Reason>, Option<&'static str>) {
    let e = r.expect_err("refused");
    (e.reason(), e.field())
}

#[test]
fn section_and_command_names() {
    for s in Section::ALL {
        assert_eq!(s.to_string().parse::<Section>(), Ok(s));
    }
    let err = "bridge".parse::<Section>().expect_err("not updatable");
    assert!(
        err.to_string()
            .starts_with("can't update 'bridge' section of network"),
        "{err}"
    );
    for name in ["domain", "ip", "forward", "forward-pf"] {
        assert!(matches!(
            name.parse::<Section>(),
            Err(ParseSectionError::NotUpdatable(_))
        ));
    }
    let err = "dns\n".parse::<Section>().expect_err("unknown");
    assert!(!err.to_string().contains('\n'), "{err}");
    for c in UpdateCommand::ALL {
        assert_eq!(c.to_string().parse::<UpdateCommand>(), Ok(c));
    }
    assert!("insert".parse::<UpdateCommand>().is_err());
    assert_eq!(
        UpdateCommand::Add.insert_at(3),
        UpdateCommand::AddLast.insert_at(3)
    );
}

#[test]
fn default_parent_is_libvirts_choice() {
    let pick = |xml: &str| {
        let def = parse_network_xml(xml).expect("parses");
        dhcp::target_ip(&def, Section::IpDhcpHost, None).map_err(|e| e.field())
    };
    let v6_dhcp = "<network><name>n</name><ip address='10.0.0.1' prefix='24'/>
        <ip family='ipv6' address='fd00::1' prefix='64'><dhcp><host name='a' ip='fd00::5'/></dhcp></ip></network>";
    assert_eq!(pick(v6_dhcp), Ok(1), "the first <ip> with DHCP");
    let no_dhcp = "<network><name>n</name><ip family='ipv6' address='fd00::1' prefix='64'/>
        <ip address='10.0.0.1' prefix='24'/></network>";
    assert_eq!(pick(no_dhcp), Ok(1), "else the first IPv4 one");
    let only_v6 =
        "<network><name>n</name><ip family='ipv6' address='fd00::1' prefix='64'/></network>";
    assert_eq!(pick(only_v6), Ok(0), "else the first IPv6 one");
    assert_eq!(
        pick("<network><name>n</name></network>"),
        Err(Some("parent-index"))
    );
    let def = base();
    let err = dhcp::target_ip(&def, Section::IpDhcpRange, Some(2)).expect_err("no ip[2]");
    assert_eq!(err.reason(), Some(Reason::NotFound));
}

#[test]
fn hosts_go_first_or_last() {
    let new = "<host mac='52:54:00:00:00:09' ip='192.168.100.9'/>";
    let first = apply(&base(), Section::IpDhcpHost, UpdateCommand::AddFirst, new).expect("added");
    assert_eq!(
        first.ips[0].hosts()[0].ip,
        Some("192.168.100.9".parse().expect("ip"))
    );
    let last = apply(&base(), Section::IpDhcpHost, UpdateCommand::Add, new).expect("added");
    assert_eq!(last.ips[0].hosts()[2].ip, first.ips[0].hosts()[0].ip);
}

#[test]
fn host_values_libvirt_refuses() {
    let add = |xml: &str| refusal(apply(&base(), Section::IpDhcpHost, UpdateCommand::Add, xml));
    let invalid = |field| (Some(Reason::Invalid), Some(field));
    assert_eq!(
        add("<host mac='01:00:5e:00:00:01' ip='192.168.100.20'/>"),
        invalid("mac")
    );
    assert_eq!(
        add("<host name='-x' ip='192.168.100.20'/>"),
        invalid("name")
    );
    assert_eq!(
        add("<host name='x' id='0:1:zz' ip='192.168.100.20'/>"),
        invalid("id")
    );
    assert_eq!(
        add("<host name='x' ip='fd00::20'/>"),
        invalid("ip"),
        "family"
    );
    let v6 = UpdateRequest {
        parent_index: Some(1),
        ..req(
            Section::IpDhcpHost,
            UpdateCommand::Add,
            "<host mac='52:54:00:00:00:09' name='x' ip='fd00::9'/>",
        )
    };
    assert_eq!(
        refusal(apply_update(&base(), &v6)),
        invalid("mac"),
        "no MAC in IPv6"
    );
    let v6_anonymous = UpdateRequest {
        xml: "<host id='0:1' ip='fd00::9'/>".into(),
        ..v6.clone()
    };
    assert!(
        apply_update(&base(), &v6_anonymous).is_ok(),
        "an id is enough for IPv6"
    );
    assert_eq!(
        add("<host name='new'/>"),
        (Some(Reason::Incomplete), Some("ip"))
    );
    assert_eq!(
        add("<host ip='192.168.100.20'/>"),
        (Some(Reason::Incomplete), Some("mac"))
    );
    assert_eq!(
        add("<host name='db' ip='192.168.100.20'/>"),
        (Some(Reason::Duplicate), Some("name"))
    );
    assert_eq!(
        add("<host name='x' ip='192.168.100.11'/>"),
        (Some(Reason::Duplicate), Some("ip"))
    );
}

#[test]
fn second_dhcp_block_of_a_family_is_refused() {
    let mut def = base();
    def.ips.push(crate::model::ip::IpDef::with_prefix(
        "10.9.0.1".parse().expect("ip"),
        24,
    ));
    let add = UpdateRequest {
        parent_index: Some(2),
        ..req(
            Section::IpDhcpRange,
            UpdateCommand::Add,
            "<range start='10.9.0.2' end='10.9.0.9'/>",
        )
    };
    assert_eq!(
        refusal(apply_update(&def, &add)),
        (Some(Reason::Invalid), Some("parent-index"))
    );
}

#[test]
fn delete_and_modify_match_like_libvirt() {
    let del = |xml: &str| apply(&base(), Section::IpDhcpHost, UpdateCommand::Delete, xml);
    let by_ip = del("<host ip='192.168.100.11'/>").expect("deleted by ip");
    assert_eq!(by_ip.ips[0].hosts().len(), 1);
    let by_name = del("<host name='web'/>").expect("deleted by name");
    assert_eq!(by_name.ips[0].hosts()[0].name.as_deref(), Some("db"));
    // A host without a MAC matches whatever mac the pattern gives (libvirt's rule).
    let any_mac = del("<host mac='52:54:00:00:00:77' name='db'/>").expect("deleted");
    assert_eq!(any_mac.ips[0].hosts().len(), 1);
    assert_eq!(
        refusal(del("<host id='0:1'/>")),
        (Some(Reason::Incomplete), Some("host"))
    );
    assert_eq!(
        refusal(del("<host name='web' ip='192.168.100.11'/>")).0,
        Some(Reason::NotFound)
    );
    let modify = "<host mac='52:54:00:00:00:01' name='www' ip='192.168.100.12'/>";
    let def = apply(&base(), Section::IpDhcpHost, UpdateCommand::Modify, modify).expect("modified");
    assert_eq!(
        def.ips[0].hosts()[0].name.as_deref(),
        Some("www"),
        "found by mac, in place"
    );
}

#[test]
fn ranges() {
    let add = |xml: &str| apply(&base(), Section::IpDhcpRange, UpdateCommand::AddFirst, xml);
    let invalid = |field| (Some(Reason::Invalid), Some(field));
    assert_eq!(
        refusal(add("<range start='192.168.100.0' end='192.168.100.5'/>")),
        invalid("start")
    );
    assert_eq!(
        refusal(add("<range start='192.168.100.2' end='192.168.100.255'/>")),
        invalid("end")
    );
    assert_eq!(
        refusal(add("<range start='192.168.100.9' end='192.168.100.2'/>")),
        invalid("end")
    );
    assert_eq!(
        refusal(add("<range start='192.168.100.2' end='fd00::9'/>")),
        invalid("end")
    );
    let wide =
        parse_network_xml("<network><name>n</name><ip address='10.0.0.1' prefix='8'/></network>")
            .expect("parses");
    let too_large = apply(
        &wide,
        Section::IpDhcpRange,
        UpdateCommand::Add,
        "<range start='10.0.0.2' end='10.1.0.1'/>",
    );
    assert_eq!(refusal(too_large), invalid("end"));
    let modify = apply(
        &base(),
        Section::IpDhcpRange,
        UpdateCommand::Modify,
        "<range start='192.168.100.2' end='192.168.100.5'/>",
    );
    assert!(matches!(modify, Err(UpdateError::NotSupported { .. })));
    let v6 = UpdateRequest {
        parent_index: Some(1),
        ..req(
            Section::IpDhcpRange,
            UpdateCommand::Add,
            "<range start='fd00::100' end='fd00::1ff'/>",
        )
    };
    let def = apply_update(&base(), &v6).expect("an IPv6 range");
    assert_eq!(def.ips[1].ranges().len(), 1);
}

#[test]
fn emptied_containers_are_dropped() {
    let range = "<range start='192.168.100.100' end='192.168.100.200'/>";
    let mut def =
        apply(&base(), Section::IpDhcpRange, UpdateCommand::Delete, range).expect("deleted");
    for xml in ["<host name='web'/>", "<host name='db'/>"] {
        def = apply(&def, Section::IpDhcpHost, UpdateCommand::Delete, xml).expect("deleted");
    }
    assert_eq!(def.ips[0].dhcp, None);
    let txt = "<txt name='k' value='v'/>";
    let with_dns = apply(&def, Section::DnsTxt, UpdateCommand::Add, txt).expect("added");
    assert!(format_network_xml(&with_dns).contains("<txt name='k' value='v'/>"));
    let without = apply(
        &with_dns,
        Section::DnsTxt,
        UpdateCommand::Delete,
        "<txt name='k'/>",
    )
    .expect("deleted");
    assert_eq!(without.dns, None);
    assert!(!format_network_xml(&without).contains("<dns"));
}

#[test]
fn dns_records() {
    for section in [Section::DnsHost, Section::DnsTxt, Section::DnsSrv] {
        let r = apply(&base(), section, UpdateCommand::Modify, "<x/>");
        assert!(
            matches!(r, Err(UpdateError::NotSupported { .. })),
            "{section}"
        );
    }
    let host = "<host ip='192.168.100.50'><hostname>a</hostname><hostname>b</hostname></host>";
    let def = apply(&base(), Section::DnsHost, UpdateCommand::Add, host).expect("added");
    let host2 = "<host ip='192.168.100.51'><hostname>b</hostname></host>";
    let def =
        apply(&def, Section::DnsHost, UpdateCommand::Add, host2).expect("a name twice is fine");
    let del = |xml: &str| refusal(apply(&def, Section::DnsHost, UpdateCommand::Delete, xml));
    assert_eq!(
        del("<host><hostname>b</hostname></host>"),
        (Some(Reason::Ambiguous), Some("record"))
    );
    assert_eq!(del("<host/>"), (Some(Reason::Incomplete), Some("ip")));
    let add_txt = |xml: &str| refusal(apply(&base(), Section::DnsTxt, UpdateCommand::Add, xml));
    assert_eq!(
        add_txt("<txt name='a,b' value='v'/>"),
        (Some(Reason::Invalid), Some("name"))
    );
    assert_eq!(
        add_txt("<txt name='a'/>"),
        (Some(Reason::Incomplete), Some("value"))
    );
    let add_srv = |xml: &str| refusal(apply(&base(), Section::DnsSrv, UpdateCommand::Add, xml));
    assert_eq!(
        add_srv("<srv service='ldap' protocol='tcp' port='389'/>"),
        (Some(Reason::Invalid), Some("port"))
    );
    assert_eq!(
        add_srv("<srv service='ld ap' protocol='tcp'/>"),
        (Some(Reason::Invalid), Some("service"))
    );
    assert_eq!(
        add_srv("<srv service='ldap'/>"),
        (Some(Reason::Incomplete), Some("protocol"))
    );
    assert_eq!(
        add_srv("<srv service='ldap' protocol='t.p'/>"),
        (Some(Reason::Invalid), Some("protocol"))
    );
}

#[test]
fn forward_interfaces_and_portgroups() {
    let isolated =
        parse_network_xml("<network><name>n</name><ip address='10.0.0.1' prefix='24'/></network>")
            .expect("parses");
    let add_if = apply(
        &isolated,
        Section::ForwardInterface,
        UpdateCommand::Add,
        "<interface dev='eth0'/>",
    );
    assert_eq!(refusal(add_if), (Some(Reason::Invalid), Some("dev")));
    let def = apply(
        &base(),
        Section::ForwardInterface,
        UpdateCommand::Add,
        "<interface dev='eth0'/>",
    )
    .expect("added");
    let again = apply(
        &def,
        Section::ForwardInterface,
        UpdateCommand::AddFirst,
        "<interface dev='eth0'/>",
    );
    assert_eq!(refusal(again), (Some(Reason::Duplicate), Some("dev")));
    let modify = apply(
        &def,
        Section::ForwardInterface,
        UpdateCommand::Modify,
        "<interface dev='eth0'/>",
    );
    assert!(matches!(modify, Err(UpdateError::NotSupported { .. })));
    let pg = |def: &NetworkDef, command, xml: &str| apply(def, Section::Portgroup, command, xml);
    let def = pg(
        &base(),
        UpdateCommand::Add,
        "<portgroup name='a' default='yes'/>",
    )
    .expect("added");
    let second = pg(
        &def,
        UpdateCommand::Add,
        "<portgroup name='b' default='yes'/>",
    );
    assert_eq!(refusal(second), (Some(Reason::Invalid), Some("default")));
    let same = pg(
        &def,
        UpdateCommand::Modify,
        "<portgroup name='a' default='yes' trustGuestRxFilters='yes'/>",
    );
    assert_eq!(
        same.expect("still the default").portgroups[0].trust_guest_rx_filters,
        Some(true)
    );
}

#[test]
fn the_result_is_validated() {
    let host = "<host ip='192.168.100.50'><hostname>bad name</hostname></host>";
    match apply(&base(), Section::DnsHost, UpdateCommand::Add, host) {
        Err(UpdateError::Invalid(problems)) => {
            assert!(
                problems.iter().any(|p| p.path == "dns.host[0].hostname[0]"),
                "{problems:?}"
            )
        }
        other => panic!("expected a validation refusal, got {other:?}"),
    }
    let section = update_section(&base(), &req(Section::DnsHost, UpdateCommand::Add, host));
    assert!(
        section.is_ok(),
        "the section's own checks take it, as libvirt's do"
    );
}

#[test]
fn fragments_are_read_and_messages_escaped() {
    let r = apply(
        &base(),
        Section::DnsTxt,
        UpdateCommand::Add,
        "<srv service='a' protocol='tcp'/>",
    );
    match r {
        Err(UpdateError::Fragment { section, source }) => {
            assert_eq!(section, Section::DnsTxt);
            assert!(source.message.contains("expecting <txt>"), "{source}");
        }
        other => panic!("expected a fragment error, got {other:?}"),
    }
    let hostile = "<host name='x&#10;y&apos;z' ip='192.168.100.77'/>";
    let e = apply(&base(), Section::IpDhcpHost, UpdateCommand::Delete, hostile)
        .expect_err("no such host");
    let text = e.to_string();
    assert!(!text.contains('\n') && text.contains("x\\ny"), "{text}");
    let big = format!(
        "<host name='{}' ip='192.168.100.9'/>",
        "a".repeat(crate::model::MAX_XML_BYTES)
    );
    assert!(matches!(
        apply(&base(), Section::IpDhcpHost, UpdateCommand::Add, &big),
        Err(UpdateError::Fragment { .. })
    ));
}

#[test]
fn the_input_is_never_changed() {
    let def = base();
    let before = def.clone();
    let _ = apply(
        &def,
        Section::IpDhcpHost,
        UpdateCommand::Delete,
        "<host name='web'/>",
    );
    let _ = apply(
        &def,
        Section::IpDhcpHost,
        UpdateCommand::Add,
        "<host name='web' ip='192.168.100.99'/>",
    );
    assert_eq!(def, before);
}
