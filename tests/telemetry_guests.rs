//! Table tests for the pure guest-mapping parsers.

use std::path::Path;

use switchyard::telemetry::guests::{
    guest_name_from_cmdline, parse_fdinfo_iff, parse_libvirt_runtime_xml, parse_tap_dev_path,
    qemu_guest_name,
};

fn argv(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_string).collect()
}

#[test]
fn fdinfo_iff() {
    let cases: &[(&str, Option<&str>)] = &[
        (
            "pos:\t0\nflags:\t0104002\nmnt_id:\t25\nino:\t1055\niff:\tvnet3\n",
            Some("vnet3"),
        ),
        ("pos:\t0\nflags:\t02\niff:\tsytap0", Some("sytap0")),
        ("pos:\t0\nflags:\t0104002\nmnt_id:\t25\n", None),
        ("iff:\t\n", None),
        ("xiff:\tvnet1\n", None),
        ("", None),
    ];
    for &(text, want) in cases {
        assert_eq!(parse_fdinfo_iff(text).as_deref(), want, "{text:?}");
    }
}

#[test]
fn tap_dev_path() {
    let cases: &[(&str, Option<u32>)] = &[
        ("/dev/tap12", Some(12)),
        ("/dev/tap0", Some(0)),
        ("/dev/tap4294967295", Some(u32::MAX)),
        ("/dev/tap4294967296", None),
        ("/dev/tap", None),
        ("/dev/tap+3", None),
        ("/dev/tap12 (deleted)", None),
        ("/dev/net/tun", None),
        ("/dev/tapx", None),
        ("/tmp/dev/tap3", None),
        ("socket:[12345]", None),
    ];
    for &(path, want) in cases {
        assert_eq!(parse_tap_dev_path(Path::new(path)), want, "{path}");
    }
}

#[test]
fn qemu_names() {
    let cases: &[(&str, Option<&str>)] = &[
        (
            "qemu-system-x86_64 -name guest=web1,debug-threads=on -S",
            Some("web1"),
        ),
        ("qemu-system-x86_64 -name web2", Some("web2")),
        (
            "qemu-system-x86_64 -name web3,process=qemu-web3",
            Some("web3"),
        ),
        ("qemu-system-x86_64 --name guest=web4", Some("web4")),
        (
            "qemu-system-x86_64 -name debug-threads=on,guest=web5",
            Some("web5"),
        ),
        (
            "qemu-system-x86_64 -name guest=a,,b,debug-threads=on",
            Some("a,b"),
        ),
        ("qemu-system-x86_64 -name debug-threads=on", None),
        ("qemu-system-x86_64 -name guest=", None),
        ("qemu-system-x86_64 -name", None),
        ("qemu-system-x86_64 -m 1024", None),
        ("qemu-system-x86_64 -device name=x", None),
    ];
    for &(cmd, want) in cases {
        assert_eq!(qemu_guest_name(&argv(cmd)).as_deref(), want, "{cmd}");
    }
}

#[test]
fn guest_name_falls_back_to_comm_and_pid() {
    let qemu = argv("/usr/bin/qemu-system-x86_64 -name guest=db,debug-threads=on");
    assert_eq!(guest_name_from_cmdline(&qemu, "qemu-system-x86", 41), "db");
    let other = argv("/usr/sbin/openvpn --dev tap0");
    assert_eq!(
        guest_name_from_cmdline(&other, "openvpn\n", 77),
        "openvpn (pid 77)"
    );
    assert_eq!(
        guest_name_from_cmdline(&[], "kworker", 3),
        "kworker (pid 3)"
    );
}

const DOMSTATUS: &str = r#"<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST.
-->
<domstatus state='running' reason='booted' pid='4321'>
  <taint flag='high-privileges'/>
  <monitor path='/var/lib/libvirt/qemu/domain-3-web&amp;db/monitor.sock' type='unix'/>
  <vcpus>
    <vcpu id='0' pid='4350'/>
  </vcpus>
  <domain type='kvm' id='3'>
    <name>web&amp;db</name>
    <uuid>9a3c2f8e-5b1d-4c7e-8f20-1d2e3f4a5b6c</uuid>
    <metadata><app:name xmlns:app='urn:x'>not this</app:name></metadata>
    <cpu><model>host</model><name>not this either</name></cpu>
    <devices>
      <emulator>/usr/bin/qemu-system-x86_64</emulator>
      <interface type='network'>
        <mac address='52:54:00:11:22:33'/>
        <source network='default' bridge='virbr0'/>
        <target dev='vnet7'/>
        <model type='virtio'/>
        <alias name='net0'/>
      </interface>
      <interface type='direct'>
        <source dev='eth0' mode='bridge'/>
        <target dev='macvtap2'></target>
      </interface>
      <interface type='hostdev' managed='yes'>
        <source><address type='pci' domain='0x0000' bus='0x03' slot='0x00'/></source>
      </interface>
      <disk type='file'><target dev='vda' bus='virtio'/></disk>
    </devices>
  </domain>
</domstatus>
"#;

#[test]
fn libvirt_runtime_xml() {
    let (name, devs) = parse_libvirt_runtime_xml(DOMSTATUS).expect("valid domstatus");
    assert_eq!(name, "web&db");
    assert_eq!(
        devs,
        vec!["vnet7", "macvtap2"],
        "disk targets are not interfaces"
    );
}

#[test]
fn libvirt_xml_edge_cases() {
    type Want = Option<(&'static str, &'static [&'static str])>;
    let cases: &[(&str, Want)] = &[
        ("<domain><name>bare</name></domain>", Some(("bare", &[]))),
        (
            "<domain><name> sp&#97;ced </name><devices><interface><target dev=\"v&amp;1\"/></interface></devices></domain>",
            Some(("spaced", &["v&1"])),
        ),
        ("<domstatus><domain><name></name></domain></domstatus>", None),
        ("<domstatus><name>outer</name></domstatus>", None),
        ("<other><domain><name>nested</name></domain></other>", None),
        ("<domstatus><domain><name>x</name></domstatus>", None),
        ("<domain><name>x</nam></domain>", None),
        ("<domain><devices><interface><target dev='vnet1'/></interface></devices></domain>", None),
        ("not xml at all", None),
        ("", None),
    ];
    for &(xml, want) in cases {
        let got = parse_libvirt_runtime_xml(xml);
        let want = want.map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect()));
        assert_eq!(got, want, "{xml}");
    }
}
