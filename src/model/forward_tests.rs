use super::*;
use crate::model::{format_network_xml, parse_network_xml, validate::validate};

const NAT: &str = "<network><name>lab</name><uuid>0b7c4e4e-1d2f-4a51-9b44-2f0f4f7e2a11</uuid>\
    <forward mode='nat'/><bridge name='sybr0'/>\
    <ip address='192.168.100.1' prefix='24'><dhcp><range start='192.168.100.100' end='192.168.100.200'/>\
    <host mac='52:54:00:12:34:56' name='web' ip='192.168.100.10'/></dhcp></ip></network>";

fn lab() -> NetworkDef {
    parse_network_xml(NAT).expect("parses")
}

fn fwd(proto: Proto, port: &str, target: Target, to_port: Option<&str>) -> Forward {
    Forward {
        proto,
        port: port.parse().expect("port"),
        address: None,
        target,
        to_port: to_port.map(|p| p.parse().expect("to-port")),
        comment: None,
    }
}

fn to(a: &str) -> Target {
    Target::Addr(a.parse().expect("addr"))
}

#[test]
fn ports_parse_and_refuse_with_the_reason() {
    type Case = (&'static str, Result<(u16, u16), &'static str>);
    let table: &[Case] = &[
        ("80", Ok((80, 80))),
        ("8000-8009", Ok((8000, 8009))),
        ("65535", Ok((65535, 65535))),
        ("0", Err("port 0 is out of range 1-65535")),
        ("70000", Err("port 70000 is out of range 1-65535")),
        ("9-8", Err("range 9-8 ends before it starts")),
        ("http", Err("\"http\" is not a port number")),
        ("", Err("\"\" is not a port number")),
    ];
    for (text, want) in table {
        let got = text.parse::<PortRange>().map(|r| (r.first, r.last));
        assert_eq!(got, want.map_err(str::to_owned), "{text}");
    }
    assert_eq!("tcp".parse::<Proto>(), Ok(Proto::Tcp));
    assert!("sctp"
        .parse::<Proto>()
        .unwrap_err()
        .contains("use tcp or udp"));
}

#[test]
fn forwards_round_trip_through_the_metadata_and_libvirts_other_metadata_stays() {
    let mut def = lab();
    def.metadata = Some(XmlElement {
        name: "metadata".into(),
        attrs: vec![],
        children: vec![XmlNode::Element(XmlElement {
            name: "app1:foo".into(),
            attrs: vec![("xmlns:app1".into(), "http://app1.org/app1/".into())],
            children: vec![],
        })],
    });
    let list = vec![
        Forward {
            address: Some(Ipv4Addr::new(203, 0, 113, 5)),
            comment: Some("web <\"quoted\"> & more".into()),
            ..fwd(Proto::Tcp, "8080", to("192.168.100.10"), Some("80"))
        },
        fwd(
            Proto::Udp,
            "5000-5009",
            Target::Guest(GuestRef::Mac("52:54:00:12:34:56".parse().unwrap())),
            None,
        ),
        fwd(
            Proto::Tcp,
            "2222",
            Target::Guest(GuestRef::Name("web".into())),
            Some("22"),
        ),
    ];
    let with = with_forwards(&def, &list);
    let xml = format_network_xml(&with);
    assert!(xml.contains(FORWARDS_NS), "{xml}");
    assert!(xml.contains("app1:foo"), "{xml}");
    let back = parse_network_xml(&xml).expect("reparses");
    assert_eq!(forwards(&back).expect("reads"), list);
    assert!(
        validate(&back, &[]).is_empty(),
        "{:?}",
        validate(&back, &[])
    );
    let resolved = resolved(&back);
    assert_eq!(resolved.len(), 3);
    assert_eq!(resolved[1].to, Ipv4Addr::new(192, 168, 100, 10));
    assert_eq!(resolved[2].to_port, PortRange::single(22));
    // Removing every forward leaves the other metadata as it was.
    let none = with_forwards(&back, &[]);
    assert_eq!(none.metadata, def.metadata);
    assert_eq!(with_forwards(&lab(), &[]).metadata, None);
}

#[test]
fn bad_forwards_are_refused_naming_the_field() {
    let cases: Vec<(Forward, &str, &str)> = vec![
        (
            fwd(Proto::Tcp, "8080", to("10.0.0.5"), None),
            "forward[0] (tcp/8080).to",
            "outside the network's subnet 192.168.100.0/24",
        ),
        (
            fwd(Proto::Tcp, "8080", to("192.168.100.1"), None),
            ".to",
            "gateway",
        ),
        (
            fwd(Proto::Tcp, "8080", to("192.168.100.255"), None),
            ".to",
            "not a host address",
        ),
        (
            fwd(Proto::Tcp, "8000-8009", to("192.168.100.10"), Some("80")),
            ".to-port",
            "covers 1 ports but the host side 8000-8009 covers 10",
        ),
        (
            fwd(
                Proto::Tcp,
                "1000-2000",
                to("192.168.100.10"),
                Some("3000-4000"),
            ),
            ".to-port",
            "at most 256",
        ),
        (
            fwd(
                Proto::Tcp,
                "8080",
                Target::Guest(GuestRef::Name("nosuch".into())),
                None,
            ),
            ".guest",
            "nosuch has no IPv4 reservation in network lab; pin it first",
        ),
        (
            Forward {
                comment: Some("a\nb".into()),
                ..fwd(Proto::Tcp, "8080", to("192.168.100.10"), None)
            },
            ".comment",
            "control character",
        ),
        (
            Forward {
                address: Some(Ipv4Addr::LOCALHOST),
                ..fwd(Proto::Tcp, "8080", to("192.168.100.10"), None)
            },
            ".address",
            "cannot be a forward's host address",
        ),
    ];
    for (f, path, msg) in cases {
        let def = with_forwards(&lab(), std::slice::from_ref(&f));
        let problems = validate(&def, &[]);
        assert!(
            problems
                .iter()
                .any(|p| p.path.ends_with(path) && p.message.contains(msg)),
            "{f:?}: {problems:?}"
        );
    }
}

#[test]
fn overlapping_forwards_are_refused_here_and_across_networks() {
    let a = fwd(Proto::Tcp, "8000-8010", to("192.168.100.10"), None);
    let b = fwd(Proto::Tcp, "8010", to("192.168.100.11"), None);
    let udp = fwd(Proto::Udp, "8010", to("192.168.100.11"), None);
    let def = with_forwards(&lab(), &[a.clone(), b.clone()]);
    let problems = validate(&def, &[]);
    assert!(
        problems
            .iter()
            .any(|p| p.message == "overlaps the forward tcp/8000-8010 of this network"),
        "{problems:?}"
    );
    assert!(validate(&with_forwards(&lab(), &[a.clone(), udp]), &[]).is_empty());

    let other_xml = NAT
        .replace("<name>lab</name>", "<name>web</name>")
        .replace(
            "0b7c4e4e-1d2f-4a51-9b44-2f0f4f7e2a11",
            "1b7c4e4e-1d2f-4a51-9b44-2f0f4f7e2a11",
        )
        .replace("sybr0", "sybr1")
        .replace("192.168.100.", "192.168.101.");
    let other = with_forwards(
        &parse_network_xml(&other_xml).unwrap(),
        &[fwd(Proto::Tcp, "8005", to("192.168.101.10"), None)],
    );
    let problems = validate(&with_forwards(&lab(), &[a]), &[other]);
    assert!(
        problems
            .iter()
            .any(|p| p.message == "overlaps the forward tcp/8005 of network web"),
        "{problems:?}"
    );
}

#[test]
fn only_nat_networks_take_forwards() {
    let routed = NAT.replace("mode='nat'", "mode='route'");
    let def = with_forwards(
        &parse_network_xml(&routed).unwrap(),
        &[fwd(Proto::Tcp, "80", to("192.168.100.10"), None)],
    );
    let problems = validate(&def, &[]);
    assert!(
        problems
            .iter()
            .any(|p| p.message.starts_with("port forwards need a NAT network")),
        "{problems:?}"
    );
}

#[test]
fn a_malformed_stored_forward_is_named() {
    let xml = NAT.replace(
        "<forward mode='nat'/>",
        "<metadata><sy:forwards xmlns:sy='https://switchyard.dev/xmlns/forwards/1'>\
         <sy:forward proto='icmp' port='1' to='192.168.100.10'/></sy:forwards></metadata>\
         <forward mode='nat'/>",
    );
    let def = parse_network_xml(&xml).expect("parses");
    let err = forwards(&def).unwrap_err();
    assert_eq!(err.path, "metadata.forwards.forward[0].proto");
    assert!(err.message.contains("unknown protocol \"icmp\""), "{err}");
    // Another prefix for our namespace is ours too, and is kept when writing.
    let fixed = with_forwards(&def, &[fwd(Proto::Tcp, "80", to("192.168.100.10"), None)]);
    assert!(format_network_xml(&fixed).contains("<sy:forward proto"));
}
