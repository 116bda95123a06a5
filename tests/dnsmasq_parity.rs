//! Parity with libvirt's dnsmasq configuration: for every case of libvirt 9.0's
//! `networkxml2confdata` (tests/fixtures/networkxml2confdata), the files switchyard writes mean
//! what libvirt's mean, read by dnsmasq's rules: the same options with the same values in the
//! same order (ranges, masks, lease times, `static`/`ra-only`, server/local/domain, records,
//! raw options), the same DHCP hosts, the same DNS hosts. The only differences are the ones
//! listed below, each made on purpose.

use std::fs;
use std::path::{Path, PathBuf};

use switchyard::model::{parse_network_xml, validate, NetworkDef};
use switchyard::plan::dnsmasq::{
    parse_addn_hosts, parse_conf, parse_dhcp_hosts, render, DnsmasqFiles, DnsmasqPaths,
};

/// Options only switchyard writes, and why.
const OURS_ONLY: &[(&str, &str)] = &[
    (
        "pid-file",
        "libvirt's test passes no pid file (a running libvirt writes its own); ours lives in \
         switchyard's run folder",
    ),
    (
        "no-ping",
        "switchyard owns the subnet, and dnsmasq's ping before each DHCPv4 offer costs seconds \
         per lease",
    ),
    (
        "dhcp-leasefile",
        "leases live in switchyard's state folder, where libvirt keeps them through its lease \
         helper (--leasefile-ro --dhcp-script)",
    ),
];

/// Options both write whose value is a path of one's own, and why.
const OWN_PATHS: &[(&str, &str)] = &[
    (
        "dhcp-hostsfile",
        "switchyard's run folder, named by the network's file_component, never its raw name",
    ),
    ("addn-hosts", "switchyard's run folder, as dhcp-hostsfile"),
];

/// The one option switchyard writes differently, and why: a network with only IPv4 addresses
/// gets `bind-interfaces` where libvirt writes `bind-dynamic`; with IPv6 both write
/// `bind-dynamic`.
const BIND_MODE: &str = "with bind-dynamic every dnsmasq re-reads all of the host's interfaces \
    on every address event (one start with 99 networks running woke 99 dnsmasqs that each walked \
    100 bridges); IPv4 addresses are never tentative, so binding them once at start serves the \
    same addresses";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/networkxml2confdata")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(fixtures())
        .expect("fixture folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".xml").map(str::to_owned))
        .collect();
    names.sort();
    names
}

type Options = Vec<(String, Option<String>)>;

/// Whether switchyard writes `bind-interfaces` for `def` (see [`BIND_MODE`]).
fn binds_once(def: &NetworkDef) -> bool {
    !def.ipv6_no_gateway && def.ips.iter().all(|ip| ip.address.is_ipv4())
}

/// The options of `conf` with the listed differences taken out. `ours` names the definition
/// when the file is switchyard's.
fn meaning(conf: &str, ours: Option<&NetworkDef>) -> Result<Options, String> {
    let options = parse_conf(conf).map_err(|e| e.to_string())?;
    let bind_once = ours.is_some_and(binds_once);
    let ours = ours.is_some();
    Ok(options
        .into_iter()
        .filter(|(k, _)| !(ours && OURS_ONLY.iter().any(|(o, _)| o == k)))
        .map(|(k, v)| match k.as_str() {
            "bind-interfaces" if bind_once => ("bind-dynamic".to_owned(), v),
            "bind-dynamic" if bind_once => ("bind-dynamic written for IPv4 only".to_owned(), v),
            _ => (k, v),
        })
        .map(|(k, v)| match OWN_PATHS.iter().any(|(p, _)| *p == k) {
            true => (k, Some("<own path>".to_owned())),
            false => (k, v),
        })
        .collect())
}

fn ours(def: &NetworkDef) -> DnsmasqFiles {
    let paths = DnsmasqPaths::new(Path::new("/run/sy"), Path::new("/var/lib/sy"), &def.name);
    let bridge = def.bridge_name().expect("every case names its bridge");
    render(def, bridge, &paths).unwrap_or_else(|e| panic!("{}: {e}", def.name))
}

/// Why `case` differs from libvirt, or `None` when it means the same.
fn compare(case: &str) -> Option<String> {
    let dir = fixtures();
    let def = parse_network_xml(&read(&dir.join(format!("{case}.xml")))).expect("parses");
    let files = ours(&def);
    let theirs = meaning(&read(&dir.join(format!("{case}.conf"))), None);
    let mine = meaning(&files.conf, Some(&def));
    if mine != theirs {
        return Some(format!(
            "{case}: options differ\n--- ours\n{mine:#?}\n--- libvirt\n{theirs:#?}"
        ));
    }
    let hostsfile = dir.join(format!("{case}.hostsfile"));
    let their_hosts = if hostsfile.exists() {
        read(&hostsfile)
    } else {
        String::new()
    };
    let (a, b) = (
        parse_dhcp_hosts(&files.hosts),
        parse_dhcp_hosts(&their_hosts),
    );
    if a != b {
        return Some(format!(
            "{case}: DHCP hosts differ\n--- ours\n{a:?}\n--- libvirt\n{b:?}"
        ));
    }
    dns_hosts_differ(case, &def, &files)
}

/// libvirt's test data has no addn-hosts files; libvirt writes each `<dns><host>` name for its
/// address, so the (address, name) pairs in document order must be the definition's.
fn dns_hosts_differ(case: &str, def: &NetworkDef, files: &DnsmasqFiles) -> Option<String> {
    let read = parse_addn_hosts(&files.addn_hosts).map_err(|e| e.to_string());
    let mut pairs: Vec<_> = read
        .iter()
        .flatten()
        .flat_map(|h| h.names.iter().map(move |n| (h.ip, n.clone())))
        .collect();
    let mut wanted: Vec<_> = def
        .dns
        .iter()
        .flat_map(|d| &d.hosts)
        .flat_map(|h| h.hostnames.iter().map(move |n| (h.ip, n.clone())))
        .collect();
    pairs.sort();
    wanted.sort();
    (pairs != wanted).then(|| format!("{case}: DNS hosts differ: {pairs:?} vs {wanted:?}"))
}

#[test]
fn every_case_means_what_libvirt_means() {
    let cases = cases();
    assert!(cases.len() >= 27, "only {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| compare(c)).collect();
    println!(
        "dnsmasq parity: {} of {} cases mean what libvirt's files mean",
        cases.len() - failures.len(),
        cases.len()
    );
    for (key, why) in OURS_ONLY.iter().chain(OWN_PATHS) {
        println!("  on purpose: {key}: {why}");
    }
    println!("  on purpose: bind-interfaces for IPv4-only networks: {BIND_MODE}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// libvirt accepts every one of these definitions; so must validation.
#[test]
fn every_case_is_valid() {
    for case in cases() {
        let def =
            parse_network_xml(&read(&fixtures().join(format!("{case}.xml")))).expect("parses");
        let problems = validate(&def, &[]);
        assert!(problems.is_empty(), "{case}: {problems:?}");
    }
}

/// The comparison sees real differences.
#[test]
fn meaning_tells_options_apart() {
    let a = meaning("dhcp-range=10.0.0.2,10.0.0.9,255.255.255.0\n", None);
    let b = meaning("dhcp-range=10.0.0.2,10.0.0.9,255.255.0.0\n", None);
    assert_ne!(a, b);
    let v4: NetworkDef =
        parse_network_xml("<network><name>a</name><ip address='10.0.0.1' prefix='24'/></network>")
            .expect("parses");
    let v6: NetworkDef = parse_network_xml(
        "<network><name>a</name><ip family='ipv6' address='fd00::1' prefix='64'/></network>",
    )
    .expect("parses");
    let with_ping = meaning("no-ping\nstrict-order\n", Some(&v4));
    assert_eq!(with_ping, meaning("strict-order\n", None));
    assert_ne!(meaning("no-ping\n", None), meaning("", None));
    // bind-interfaces stands for bind-dynamic only where switchyard writes it on purpose.
    let libvirt = meaning("bind-dynamic\n", None);
    assert_eq!(meaning("bind-interfaces\n", Some(&v4)), libvirt);
    assert_ne!(meaning("bind-dynamic\n", Some(&v4)), libvirt);
    assert_ne!(meaning("bind-interfaces\n", Some(&v6)), libvirt);
    assert_eq!(meaning("bind-dynamic\n", Some(&v6)), libvirt);
}
