//! Table of invalid definitions: each must produce problems at the expected field paths
//! (all of them, not just the first), with the expected words. A second table holds dubious
//! definitions: valid (libvirt defines and starts them), but each with a warning from
//! `dubious` at the expected path.

use switchyard::model::{
    dubious, macvtap_name_problem, parse_network_xml, validate, ForwardDef, ForwardMode,
    NetworkDef, Problem,
};

/// A valid NAT network; rows replace pieces of it.
const BASE: &str = "<network><name>t</name><forward mode='nat'/><bridge name='sybr9'/>\
<ip address='192.168.100.1' prefix='24'><dhcp><range start='192.168.100.2' end='192.168.100.254'/></dhcp></ip></network>";

fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "row edits text not in BASE: {from}");
    BASE.replacen(from, to, 1)
}

fn parse(xml: &str) -> NetworkDef {
    parse_network_xml(xml).unwrap_or_else(|e| panic!("row XML must parse: {e}\n{xml}"))
}

fn nat_ip(addr_prefix: &str) -> String {
    with("<ip address='192.168.100.1' prefix='24'><dhcp><range start='192.168.100.2' end='192.168.100.254'/></dhcp></ip>", addr_prefix)
}

struct Row {
    what: &'static str,
    xml: String,
    /// (path, fragment of the message) pairs that must all appear.
    expect: Vec<(&'static str, &'static str)>,
}

fn row(what: &'static str, xml: String, expect: &[(&'static str, &'static str)]) -> Row {
    Row {
        what,
        xml,
        expect: expect.to_vec(),
    }
}

fn other(name: &str, bridge: &str, subnet_ip: &str) -> NetworkDef {
    parse(&format!("<network><name>{name}</name><forward/><bridge name='{bridge}'/><ip address='{subnet_ip}' prefix='24'/></network>"))
}

fn rows() -> Vec<Row> {
    let range = |s: &str, e: &str| {
        with(
            "<range start='192.168.100.2' end='192.168.100.254'/>",
            &format!("<range start='{s}' end='{e}'/>"),
        )
    };
    let hosts = |h: &str| with("</dhcp>", &format!("{h}</dhcp>"));
    let extra = |x: &str| with("</network>", &format!("{x}</network>"));
    let macvtap = |x: &str| {
        format!("<network><name>m</name><forward mode='private'><interface dev='eth1'/></forward>{x}</network>")
    };
    let hostbr = |x: &str| {
        format!("<network><name>h</name><forward mode='bridge'/><bridge name='br0'/>{x}</network>")
    };
    vec![
        row("name with a slash", with("<name>t</name>", "<name>a/b</name>"), &[("name", "'/'")]),
        row("name too long", with("<name>t</name>", &format!("<name>{}</name>", "n".repeat(65))), &[("name", "limit is 64")]),
        row("name with a tab", with("<name>t</name>", "<name>a&#9;b</name>"), &[("name", "control characters")]),
        row("name with DEL", with("<name>t</name>", "<name>a&#127;b</name>"), &[("name", "U+007F")]),
        row("name with a line separator", with("<name>t</name>", "<name>a&#x2028;b</name>"), &[("name", "U+2028")]),
        row("name with a right-to-left override", with("<name>t</name>", "<name>evil&#x202E;gpj.exe</name>"), &[("name", "U+202E, an invisible formatting character")]),
        row("name with a left-to-right mark", with("<name>t</name>", "<name>a&#x200E;b</name>"), &[("name", "U+200E")]),
        row("name with an Arabic letter mark", with("<name>t</name>", "<name>a&#x61C;b</name>"), &[("name", "U+061C")]),
        row("name with a bidi isolate", with("<name>t</name>", "<name>a&#x2066;b&#x2069;</name>"), &[("name", "U+2066")]),
        row("name with a zero-width space", with("<name>t</name>", "<name>a&#x200B;b</name>"), &[("name", "U+200B")]),
        row("name with a byte order mark", with("<name>t</name>", "<name>&#xFEFF;ab</name>"), &[("name", "U+FEFF")]),
        row("name with a soft hyphen", with("<name>t</name>", "<name>a&#xAD;b</name>"), &[("name", "U+00AD")]),
        row("name with a tag character", with("<name>t</name>", "<name>a&#xE0041;</name>"), &[("name", "U+E0041")]),
        row("name starting with '-'", with("<name>t</name>", "<name>-rf</name>"), &[("name", "starts with '-'")]),
        row("name '.'", with("<name>t</name>", "<name>.</name>"), &[("name", "cannot be used as a network name")]),
        row("name '..'", with("<name>t</name>", "<name>..</name>"), &[("name", "cannot be used as a network name")]),
        row("name of 65 bytes in 33 characters", with("<name>t</name>", &format!("<name>a{}</name>", "é".repeat(32))), &[("name", "65 bytes long; the limit is 64")]),
        row("bridge name too long", with("sybr9", "abcdefghijklmnop"), &[("bridge.name", "16 bytes long")]),
        row("bridge name with space", with("sybr9", "br 0"), &[("bridge.name", "a space")]),
        row("bridge name dot-dot", with("sybr9", ".."), &[("bridge.name", "reserved")]),
        row("bridge name slash", with("sybr9", "a/b"), &[("bridge.name", "'/'")]),
        row("bridge name with a quote", with("sybr9", "br\"0"), &[("bridge.name", "'\"'")]),
        row("bridge name with ';'", with("sybr9", "br;0"), &[("bridge.name", "';'")]),
        row("bridge name with '$'", with("sybr9", "br$x"), &[("bridge.name", "'$'")]),
        row("bridge name with '%'", with("sybr9", "virbr%d"), &[("bridge.name", "'%'")]),
        row("bridge name with ','", with("sybr9", "br,0"), &[("bridge.name", "','")]),
        row("bridge name with '='", with("sybr9", "br=0"), &[("bridge.name", "'='")]),
        row("bridge name with '#'", with("sybr9", "br#0"), &[("bridge.name", "'#'")]),
        row("bridge name with '@'", with("sybr9", "br@0"), &[("bridge.name", "'@'")]),
        row("bridge name with a bidi override", with("sybr9", "br&#x202E;0"), &[("bridge.name", "U+202E")]),
        row("bridge name not ASCII", with("sybr9", "brü0"), &[("bridge.name", "'ü'")]),
        row("bridge name empty", with("sybr9", ""), &[("bridge.name", "it is empty")]),
        row("nat forward dev with '{'", with("<forward mode='nat'/>", "<forward mode='nat' dev='eth{0}'/>"), &[("forward.dev", "'{'")]),
        row("route forward dev with a newline", with("<forward mode='nat'/>", "<forward mode='route' dev='eth&#10;0'/>"), &[("forward.dev", "a newline")]),
        row("second pool interface with a quote", macvtap("").replace("<interface dev='eth1'/>", "<interface dev='eth1'/><interface dev='e\"x'/>"), &[("forward.interface[1].dev", "'\"'")]),
        row("bridge pool interface too long", "<network><name>p</name><forward mode='bridge'><interface dev='eth0'/><interface dev='a-very-long-name0'/></forward></network>".into(), &[("forward.interface[1].dev", "17 bytes long")]),
        row("pf dev with ';'", "<network><name>p</name><forward mode='passthrough'><pf dev='eth0;x'/></forward></network>".into(), &[("forward.pf.dev", "';'")]),
        row("host bridge name with a space", hostbr("").replace("name='br0'", "name='br 0'"), &[("bridge.name", "a space")]),
        row("dhcp range outside subnet", range("10.0.1.5", "192.168.100.20"), &[("ip[0].dhcp.range[0]", "10.0.1.5 is outside 192.168.100.0/24")]),
        row("dhcp range backwards", range("192.168.100.200", "192.168.100.10"), &[("ip[0].dhcp.range[0]", "start 192.168.100.200 is after end 192.168.100.10")]),
        row("IPv4 prefix 33", with("prefix='24'", "prefix='33'"), &[("ip[0].prefix", "33 is out of range for IPv4")]),
        row("IPv6 prefix 129", extra("<ip family='ipv6' address='fd00::1' prefix='129'/>"), &[("ip[1].prefix", "129 is out of range for IPv6")]),
        row("holey netmask", with("prefix='24'", "netmask='255.0.255.0'"), &[("ip[0].netmask", "contiguous")]),
        row("family mismatch", with("<ip address", "<ip family='ipv6' address"), &[("ip[0].family", "does not match")]),
        row("multicast bridge MAC", extra("<mac address='01:00:5E:00:00:01'/>"), &[("mac", "multicast")]),
        row(
            "third static host has a multicast MAC",
            hosts("<host mac='52:54:00:00:00:01' ip='192.168.100.10'/><host mac='52:54:00:00:00:02' ip='192.168.100.11'/><host mac='03:00:00:00:00:01' ip='192.168.100.12'/>"),
            &[("ip[0].dhcp.host[2].mac", "not a unicast MAC")],
        ),
        row("static host without mac or name", hosts("<host ip='192.168.100.9'/>"), &[("ip[0].dhcp.host[0]", "needs a mac or a name")]),
        row("ip on macvtap", macvtap("<ip address='10.0.0.1' prefix='24'/>"), &[("ip[0]", "not supported with mode 'private'")]),
        row("dns records on host bridge", hostbr("<dns><host ip='10.0.0.1'><hostname>a</hostname></host></dns>"), &[("dns", "not supported with mode 'bridge'")]),
        row("domain on host bridge", hostbr("<domain name='example.com'/>"), &[("domain", "not supported with mode 'bridge'")]),
        row("mtu on host bridge", hostbr("<mtu size='9000'/>"), &[("mtu", "not supported with mode 'bridge'")]),
        row("stp on host bridge", hostbr("").replace("<bridge name='br0'/>", "<bridge name='br0' stp='off'/>"), &[("bridge.stp", "only for nat, route, open and isolated")]),
        row("bridge name on macvtap", macvtap("<bridge name='br0'/>"), &[("bridge.name", "not allowed with mode 'private'")]),
        row("nat settings on route", with("<forward mode='nat'/>", "<forward mode='route'><nat><address start='10.0.0.1' end='10.0.0.2'/></nat></forward>"), &[("forward.nat", "only apply to mode 'nat'")]),
        row("nat address range backwards", with("<forward mode='nat'/>", "<forward mode='nat'><nat><address start='10.0.0.9' end='10.0.0.2'/></nat></forward>"), &[("forward.nat.address", "after end")]),
        row("nat without ip", "<network><name>n</name><forward mode='nat'/></network>".into(), &[("ip", "needs at least one <ip>")]),
        row("two nat devices", with("<forward mode='nat'/>", "<forward mode='nat'><interface dev='eth0'/><interface dev='eth1'/></forward>"), &[("forward.interface[1]", "single outgoing device")]),
        row("bad forward dev", with("<forward mode='nat'/>", "<forward mode='nat' dev='eth 0'/>"), &[("forward.dev", "not a valid interface name")]),
        row("mtu out of range", extra("<mtu size='70000'/>"), &[("mtu", "70000 is out of range")]),
        row("two IPv4 DHCP blocks", extra("<ip address='192.168.101.1' prefix='24'><dhcp><range start='192.168.101.2' end='192.168.101.9'/></dhcp></ip>"), &[("ip[1].dhcp", "only one IPv4")]),
        row("unreachable route gateway", extra("<route address='10.1.0.0' prefix='16' gateway='10.2.0.1'/>"), &[("route[0].gateway", "not on any of this network's subnets")]),
        row("lease too short", with("end='192.168.100.254'/>", "end='192.168.100.254'><lease expiry='30' unit='seconds'/></range>"), &[("ip[0].dhcp.range[0].lease", "minimum lease")]),
        row("srv port without target", extra("<dns><srv service='ldap' protocol='tcp' port='389'/></dns>"), &[("dns.srv[0].port", "needs a target")]),
        row("srv bad protocol", extra("<dns><srv service='ldap' protocol='sctp'/></dns>"), &[("dns.srv[0].protocol", "tcp or udp")]),
        row("vlan id out of range", "<network><name>d</name><forward mode='hostdev'><pf dev='eth0'/></forward><vlan><tag id='5000'/></vlan></network>".into(), &[("vlan.tag[0].id", "5000 is out of range")]),
        row("vlan on nat", extra("<vlan><tag id='10'/></vlan>"), &[("vlan", "only supported with hostdev")]),
        row(
            "duplicate port groups and two defaults",
            hostbr("<portgroup name='a' default='yes'/><portgroup name='a' default='yes'/>"),
            &[("portgroup[1].name", "also the name of portgroup[0]"), ("portgroup[1].default", "already the default")],
        ),
        // Values dnsmasq reads, by its rules: DNS names by DNS rules, free text without line
        // breaks or control characters, nothing dnsmasq would read as something else.
        row("static host name with '='", hosts("<host mac='52:54:00:00:00:01' name='a=b' ip='192.168.100.9'/>"), &[("ip[0].dhcp.host[0].name", "'='")]),
        row("static host name read as a lease time", hosts("<host mac='52:54:00:00:00:01' name='infinite' ip='192.168.100.9'/>"), &[("ip[0].dhcp.host[0].name", "as a lease time")]),
        row("static host name of digits", hosts("<host mac='52:54:00:00:00:01' name='3600' ip='192.168.100.9'/>"), &[("ip[0].dhcp.host[0].name", "as a lease time")]),
        row("static host name with a unit", hosts("<host mac='52:54:00:00:00:01' name='12h' ip='192.168.100.9'/>"), &[("ip[0].dhcp.host[0].name", "as a lease time")]),
        row("static host named ignore", hosts("<host mac='52:54:00:00:00:01' name='ignore' ip='192.168.100.9'/>"), &[("ip[0].dhcp.host[0].name", "'ignore'")]),
        row("static host name that is an address", hosts("<host mac='52:54:00:00:00:01' name='10.1.2.3' ip='192.168.100.9'/>"), &[("ip[0].dhcp.host[0].name", "an IPv4 address")]),
        row("static host name starting with '_'", hosts("<host mac='52:54:00:00:00:01' name='_h' ip='192.168.100.9'/>"), &[("ip[0].dhcp.host[0].name", "start with a letter or digit")]),
        row("static host name with an empty label", hosts("<host mac='52:54:00:00:00:01' name='h..x' ip='192.168.100.9'/>"), &[("ip[0].dhcp.host[0].name", "empty label")]),
        row("domain with ','", extra("<domain name='a,b'/>"), &[("domain.name", "','")]),
        row("domain with an empty label", extra("<domain name='ex..com'/>"), &[("domain.name", "empty label")]),
        row("domain with a trailing dot", extra("<domain name='example.com.'/>"), &[("domain.name", "empty label")]),
        row("domain label starting with '-'", extra("<domain name='-ex.com'/>"), &[("domain.name", "starts or ends with '-'")]),
        row("domain label of 64", extra(&format!("<domain name='{}.com'/>", "a".repeat(64))), &[("domain.name", "longer than 63")]),
        row("domain of 254", extra(&format!("<domain name='{}'/>", ["a".repeat(63).as_str(); 4].join("."))), &[("domain.name", "longer than 253")]),
        row("domain with a space", extra("<domain name='a b'/>"), &[("domain.name", "a space")]),
        row("tftp root with a newline", with("<dhcp>", "<tftp root='/srv/tftp&#10;x'/><dhcp>"), &[("ip[0].tftp.root", "a newline")]),
        row("tftp root with a control character", with("<dhcp>", "<tftp root='/srv/&#27;x'/><dhcp>"), &[("ip[0].tftp.root", "U+001B")]),
        row("empty tftp root", with("<dhcp>", "<tftp root=''/><dhcp>"), &[("ip[0].tftp.root", "empty")]),
        row("tftp root too long for a dnsmasq line", with("<dhcp>", &format!("<tftp root='/{}'/><dhcp>", "\"".repeat(600))), &[("ip[0].tftp.root", "at most 1024 bytes")]),
        row("bootp file with a carriage return", with("</dhcp>", "<bootp file='pxe.img&#13;x'/></dhcp>"), &[("ip[0].dhcp.bootp.file", "a carriage return")]),
        row("txt value with newline", extra("<dns><txt name='k' value='a&#10;dhcp-script=/x'/></dns>"), &[("dns.txt[0].value", "a newline")]),
        row("txt value with a vertical tab", extra("<dns><txt name='k' value='a&#11;b'/></dns>"), &[("dns.txt[0].value", "U+000B")]),
        row("txt value too long for a dnsmasq line", extra(&format!("<dns><txt name='k' value='{}'/></dns>", "x".repeat(1100))), &[("dns.txt[0].value", "at most 1024 bytes")]),
        row("txt name with a space", extra("<dns><txt name='a b' value='v'/></dns>"), &[("dns.txt[0].name", "a space")]),
        row("txt name with ','", extra("<dns><txt name='a,b' value='v'/></dns>"), &[("dns.txt[0].name", "','")]),
        row("dns hostname with '='", extra("<dns><host ip='192.168.100.5'><hostname>a=b</hostname></host></dns>"), &[("dns.host[0].hostname[0]", "'='")]),
        row("dns hostname with '#'", extra("<dns><host ip='192.168.100.5'><hostname>a#b</hostname></host></dns>"), &[("dns.host[0].hostname[0]", "'#'")]),
        row("dns forwarder domain with ','", extra("<dns><forwarder domain='a,b' addr='1.1.1.1'/></dns>"), &[("dns.forwarder[0].domain", "','")]),
        row("dns forwarder domain '#'", extra("<dns><forwarder domain='#' addr='1.1.1.1'/></dns>"), &[("dns.forwarder[0].domain", "'#'")]),
        row("dns forwarder domain with '/'", extra("<dns><forwarder domain='a/b'/></dns>"), &[("dns.forwarder[0].domain", "'/'")]),
        row("srv service too long", extra(&format!("<dns><srv service='{}' protocol='tcp'/></dns>", "s".repeat(63))), &[("dns.srv[0].service", "longer than 62")]),
        row("srv target with ','", extra("<dns><srv service='s' protocol='tcp' target='a,b' port='1'/></dns>"), &[("dns.srv[0].target", "','")]),
        row("srv domain with an empty label", extra("<dns><srv service='s' protocol='tcp' domain='a..b'/></dns>"), &[("dns.srv[0].domain", "empty label")]),
        // Found by the property test: dnsmasq folds names with capitals through IDNA, which refuses these.
        row("srv service with capitals and a trailing '-'", extra("<dns><srv service='A-' protocol='tcp'/></dns>"), &[("dns.srv[0].service", "IDNA")]),
        row("domain with capitals and '--' in places 3-4", extra("<domain name='Ab--c.example'/>"), &[("domain.name", "IDNA")]),
        row("lease longer than dnsmasq counts", with("end='192.168.100.254'/>", "end='192.168.100.254'><lease expiry='600000' unit='hours'/></range>"), &[("ip[0].dhcp.range[0].lease", "more than dnsmasq can count")]),
        row("localPtr on a /20", with("prefix='24'", "prefix='20' localPtr='yes'").replace("192.168.100.254", "192.168.100.200"), &[("ip[0].localPtr", "/20 cannot be served")]),
        row("DHCPv6 on a /48", extra("<ip family='ipv6' address='fd00::1' prefix='48'><dhcp><range start='fd00::10' end='fd00::20'/></dhcp></ip>"), &[("ip[1].prefix", "at least 64")]),
        row(
            "DUID too long for a dnsmasq line",
            extra(&format!("<ip family='ipv6' address='fd00::1' prefix='64'><dhcp><host id='{}' ip='fd00::5'/></dhcp></ip>", "ab:".repeat(400))),
            &[("ip[1].dhcp.host[0].id", "at most 1024 bytes")],
        ),
        row(
            "dnsmasq option longer than a dnsmasq line",
            BASE.replace("<network>", "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>")
                .replace("</network>", &format!("<dnsmasq:options><dnsmasq:option value='cname={}'/></dnsmasq:options></network>", "a".repeat(1100))),
            &[("dnsmasq.option[0]", "longer than the 1024 bytes")],
        ),
        row(
            "dnsmasq option with an unbalanced quote",
            BASE.replace("<network>", "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>")
                .replace("</network>", "<dnsmasq:options><dnsmasq:option value='txt-record=a,&quot;b'/></dnsmasq:options></network>"),
            &[("dnsmasq.option[0]", "missing closing")],
        ),
        row(
            "dnsmasq option with carriage return",
            BASE.replace("<network>", "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>")
                .replace("</network>", "<dnsmasq:options><dnsmasq:option value='a&#13;b'/></dnsmasq:options></network>"),
            &[("dnsmasq.option[0]", "a carriage return")],
        ),
        row(
            "every problem is reported, not just the first",
            with("sybr9", "abcdefghijklmnopq").replace("start='192.168.100.2'", "start='10.0.0.2'").replace("</dhcp>", "<host mac='01:00:00:00:00:01' ip='192.168.100.7'/></dhcp>"),
            &[("bridge.name", "bytes long"), ("ip[0].dhcp.range[0]", "10.0.0.2 is outside"), ("ip[0].dhcp.host[0].mac", "unicast")],
        ),
        row("class E address without prefix", nat_ip("<ip address='240.0.0.1'/>"), &[("ip[0].prefix", "needs an explicit prefix")]),
    ]
}

/// Valid definitions libvirt defines and starts, each with a warning at `expect`.
fn dubious_rows() -> Vec<Row> {
    let hosts = |h: &str| with("</dhcp>", &format!("{h}</dhcp>"));
    let extra = |x: &str| with("</network>", &format!("{x}</network>"));
    let route = |x: &str| {
        with("<forward mode='nat'/>", "<forward mode='route'/>")
            .replace("</network>", &format!("{x}</network>"))
    };
    let options = "<dnsmasq:options xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><dnsmasq:option value='log-queries'/></dnsmasq:options>";
    vec![
        row("gateway is network address", with("address='192.168.100.1'", "address='192.168.100.0'"), &[("ip[0].address", "is the network address of 192.168.100.0/24")]),
        row("gateway is broadcast", with("address='192.168.100.1'", "address='192.168.100.255'").replace("end='192.168.100.254'", "end='192.168.100.250'"), &[("ip[0].address", "is the broadcast address of 192.168.100.0/24")]),
        row("gateway is network address of a netmask block", with("address='192.168.100.1' prefix='24'", "address='10.0.0.0' netmask='255.0.0.0'").replace("start='192.168.100.2' end='192.168.100.254'", "start='10.0.0.2' end='10.0.0.9'"), &[("ip[0].address", "network address of 10.0.0.0/8")]),
        row("IPv6 gateway is the subnet-router anycast address", extra("<ip family='ipv6' address='fd00:1::' prefix='64'/>"), &[("ip[1].address", "fd00:1:: is the subnet-router anycast address of fd00:1::/64")]),
        row("static host outside subnet", hosts("<host mac='52:54:00:00:00:01' ip='10.9.9.9'/>"), &[("ip[0].dhcp.host[0].ip", "10.9.9.9 is outside 192.168.100.0/24")]),
        row("static host on the gateway", hosts("<host mac='52:54:00:00:00:01' ip='192.168.100.1'/>"), &[("ip[0].dhcp.host[0].ip", "own (gateway) address")]),
        row("duplicate static host MAC", hosts("<host mac='52:54:00:00:00:01' ip='192.168.100.9'/><host mac='52:54:00:00:00:01' ip='192.168.100.8'/>"), &[("ip[0].dhcp.host[1].mac", "also used by host[0]")]),
        row("duplicate static host ip", hosts("<host mac='52:54:00:00:00:01' ip='192.168.100.9'/><host mac='52:54:00:00:00:02' ip='192.168.100.8'/><host mac='52:54:00:00:00:03' ip='192.168.100.9'/>"), &[("ip[0].dhcp.host[2].ip", "also used by host[0]")]),
        row("duplicate static host name", hosts("<host name='a' ip='192.168.100.9'/><host name='a' ip='192.168.100.8'/>"), &[("ip[0].dhcp.host[1].name", "also used by host[0]")]),
        row("overlapping ranges", with("end='192.168.100.254'/>", "end='192.168.100.254'/><range start='192.168.100.100' end='192.168.100.120'/>"), &[("ip[0].dhcp.range[1]", "overlaps range[0]")]),
        row("overlapping ranges written in reverse", with("<range start='192.168.100.2' end='192.168.100.254'/>", "<range start='192.168.100.100' end='192.168.100.254'/><range start='192.168.100.2' end='192.168.100.100'/>"), &[("ip[0].dhcp.range[1]", "overlaps range[0]")]),
        row("overlapping own blocks", extra("<ip address='192.168.100.129' prefix='25'/>"), &[("ip[1]", "overlaps ip[0]")]),
        row("virtualport on route", route("<virtualport type='openvswitch'/>"), &[("virtualport", "does not work with mode 'route'")]),
        row("virtualport on isolated", with("<forward mode='nat'/>", "").replace("</network>", "<virtualport type='802.1Qbh'/></network>"), &[("virtualport", "does not work with mode 'isolated'")]),
        row("port group virtualport on nat", extra("<portgroup name='a'><virtualport type='openvswitch'/></portgroup>"), &[("portgroup[0].virtualport", "does not work with mode 'nat'")]),
        row("pf on nat", with("<forward mode='nat'/>", "<forward mode='nat'><pf dev='eth0'/></forward>"), &[("forward.pf", "ignored with mode 'nat'")]),
        row("dnsmasq options on a host bridge", format!("<network><name>h</name><forward mode='bridge'/><bridge name='br0'/>{options}</network>"), &[("dnsmasq.option[0]", "no dnsmasq runs")]),
        row("host bridge mode without a bridge", "<network><name>h</name><forward mode='bridge'/></network>".into(), &[("bridge.name", "needs the name of an existing host bridge")]),
        row("macvtap without devices", "<network><name>v</name><forward mode='vepa'/></network>".into(), &[("forward.interface", "needs at least one <interface dev>")]),
        row("hostdev without devices", "<network><name>d</name><forward mode='hostdev'/></network>".into(), &[("forward.address", "PCI <address>")]),
        row("zero average rate", extra("<bandwidth><inbound average='0'/><outbound average='10' peak='0'/></bandwidth>"), &[("bandwidth.inbound.average", "no limit"), ("bandwidth.outbound.peak", "no limit")]),
        row("zero port group rate", "<network><name>h</name><forward mode='bridge'/><bridge name='br0'/><portgroup name='p'><bandwidth><inbound average='10' burst='0'/></bandwidth></portgroup></network>".into(), &[("portgroup[0].bandwidth.inbound.burst", "no limit")]),
    ]
}

fn assert_has(problems: &[Problem], path: &str, fragment: &str, what: &str) {
    let hit = problems
        .iter()
        .any(|p| p.path == path && p.message.contains(fragment));
    let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        hit,
        "{what}: expected `{path}: …{fragment}…`, got:\n  {}",
        listed.join("\n  ")
    );
}

#[test]
fn base_definition_is_valid() {
    let problems = validate(&parse(BASE), &[]);
    assert!(problems.is_empty(), "{problems:?}");
    let warnings = dubious(&parse(BASE));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn invalid_definitions_name_their_fields() {
    let rows = rows();
    for r in &rows {
        let problems = validate(&parse(&r.xml), &[]);
        for (path, fragment) in &r.expect {
            assert_has(&problems, path, fragment, r.what);
        }
    }
    println!("validate table: {} rows", rows.len());
}

/// Text that dnsmasq reads back once quoted is fine, as libvirt accepts it; so are names with
/// '_' and an SRV target of "." (no such service).
#[test]
fn values_the_writer_quotes_are_accepted() {
    let xml = with("<dhcp>", "<tftp root='/srv/tftp #1,x'/><dhcp>")
        .replace("</dhcp>", "<bootp file='pxe,&quot;1&quot;.img'/></dhcp>")
        .replace(
            "</network>",
            "<domain name='lab_1.example'/><dns><txt name='_dmarc.lab' value=' a#b, &quot;c&quot; \\'/>\
             <srv service='ldap' protocol='tcp' target='.'/></dns></network>",
        );
    let problems = validate(&parse(&xml), &[]);
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn dubious_definitions_are_valid_with_warnings() {
    let rows = dubious_rows();
    for r in &rows {
        let def = parse(&r.xml);
        let problems = validate(&def, &[]);
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            problems.is_empty(),
            "{}: libvirt accepts it, but: {listed:?}",
            r.what
        );
        let warnings = dubious(&def);
        for (path, fragment) in &r.expect {
            assert_has(&warnings, path, fragment, r.what);
        }
    }
    println!("dubious table: {} rows", rows.len());
}

/// `a`, `a.b`, `a[0].b_c`, …: dot-separated names, each with an optional `[index]`, the
/// first naming an element or attribute of `<network>` (or the `attach` verb's macvtap).
fn is_field_path(path: &str) -> bool {
    const TOP: [&str; 18] = [
        "name",
        "uuid",
        "title",
        "bridge",
        "mac",
        "mtu",
        "forward",
        "ip",
        "route",
        "dns",
        "domain",
        "vlan",
        "virtualport",
        "portgroup",
        "bandwidth",
        "dnsmasq",
        "port",
        "macvtap",
    ];
    let segment_ok = |seg: &str| {
        let (word, index) = match seg.split_once('[') {
            Some((w, rest)) => (w, rest.strip_suffix(']')),
            None => (seg, Some("0")),
        };
        let index_ok =
            index.is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()));
        let word_ok = word.starts_with(|c: char| c.is_ascii_alphabetic())
            && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        word_ok && index_ok
    };
    let head = path.split(['.', '[']).next().unwrap_or_default();
    TOP.contains(&head) && path.split('.').all(segment_ok)
}

#[test]
fn every_problem_names_its_field_path() {
    let mut seen = 0;
    let all_rows = rows().into_iter().chain(dubious_rows());
    for r in all_rows {
        let def = parse(&r.xml);
        let found = validate(&def, std::slice::from_ref(&def))
            .into_iter()
            .chain(dubious(&def));
        for p in found {
            seen += 1;
            assert!(
                is_field_path(&p.path),
                "{}: `{}` is not a field path ({p})",
                r.what,
                p.path
            );
            assert!(
                !p.message.trim().is_empty(),
                "{}: empty message at {}",
                r.what,
                p.path
            );
            assert!(
                !p.message.starts_with(&p.path),
                "{}: message repeats the path: {p}",
                r.what
            );
        }
    }
    let attach = macvtap_name_problem("tap\"0").expect("refused");
    assert!(is_field_path(&attach.path), "{attach}");
    assert!(!is_field_path("") && !is_field_path("ip[x]") && !is_field_path("bogus.path"));
    println!("{seen} problems, each at a field path");
}

#[test]
fn clashes_with_other_networks() {
    let others = [
        other("other", "sybr9", "192.168.100.1"),
        other("third", "virbr3", "10.0.0.1"),
    ];
    let def = parse(&with("<name>t</name>", "<name>third</name>"));
    let problems = validate(&def, &others);
    assert_has(
        &problems,
        "name",
        "a network named 'third' is already defined",
        "duplicate name",
    );
    assert_has(
        &problems,
        "bridge.name",
        "already used by network 'other'",
        "bridge clash",
    );
    assert_has(
        &problems,
        "ip[0]",
        "192.168.100.0/24 overlaps 192.168.100.0/24 of network 'other'",
        "subnet overlap",
    );
}

#[test]
fn redefining_with_another_uuid_is_refused() {
    let uuid = |s: &str| s.parse().expect("uuid");
    let mut stored = parse(BASE);
    stored.uuid = Some(uuid("81ff0d90-c91e-6742-64da-4a736edb9a9b"));
    let mut def = stored.clone();
    def.uuid = Some(uuid("0b4f3c8e-9f7a-4e1c-8d1a-2c3b4a5d6e7f"));
    let problems = validate(&def, std::slice::from_ref(&stored));
    assert_has(
        &problems,
        "uuid",
        "network 't' is already defined with UUID 81ff0d90-c91e-6742-64da-4a736edb9a9b",
        "another UUID",
    );
    let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems.len(),
        1,
        "its own bridge and subnet are no clash: {listed:?}"
    );

    // The same UUID under another name.
    let mut renamed = stored.clone();
    renamed.name = "u".into();
    renamed.bridge = None;
    renamed.ips.clear();
    renamed.forward = None;
    assert_has(
        &validate(&renamed, std::slice::from_ref(&stored)),
        "uuid",
        "already used by network 't'",
        "UUID of another network",
    );

    // Without a UUID the name counts as taken (callers fill the stored UUID in first).
    def.uuid = None;
    assert_has(
        &validate(&def, std::slice::from_ref(&stored)),
        "name",
        "a network named 't' is already defined",
        "no UUID",
    );
}

#[test]
fn macvtap_names_follow_the_interface_rule() {
    assert_eq!(macvtap_name_problem("macvtap0"), None);
    let p = macvtap_name_problem("tap;rm").expect("refused");
    assert_eq!(p.path, "macvtap.name");
    assert!(p.message.contains("';'"), "{p}");
    assert!(macvtap_name_problem("../x").is_some());
    assert!(macvtap_name_problem("sixteen-bytes-xx").is_some());
}

#[test]
fn redefining_the_same_network_is_not_a_clash() {
    let mut def = parse(BASE);
    def.uuid = Some(
        "81ff0d90-c91e-6742-64da-4a736edb9a9b"
            .parse()
            .expect("uuid"),
    );
    let problems = validate(&def, std::slice::from_ref(&def));
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn model_only_problems() {
    let mut open = parse(&with("<forward mode='nat'/>", "<forward mode='open'/>"));
    open.forward = Some(ForwardDef {
        interfaces: vec!["eth0".into()],
        ..ForwardDef::new(ForwardMode::Open)
    });
    assert_has(
        &validate(&open, &[]),
        "forward.dev",
        "mode 'open' does not take a forward device",
        "dev on open",
    );

    let mut nul = parse(BASE);
    nul.name = "a\0b".into();
    assert_has(
        &validate(&nul, &[]),
        "name",
        "control characters",
        "NUL in name",
    );
    nul.name = String::new();
    assert_has(&validate(&nul, &[]), "name", "needs a name", "empty name");
}

#[test]
fn problem_display_is_path_colon_message() {
    let p = Problem::new(
        "ip[0].dhcp.range[0]",
        "10.0.1.5 is outside 192.168.100.0/24",
    );
    assert_eq!(
        p.to_string(),
        "ip[0].dhcp.range[0]: 10.0.1.5 is outside 192.168.100.0/24"
    );
}
