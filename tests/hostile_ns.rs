//! Hostile definitions against the real binary, each in namespaces of its own: strings built to
//! inject nft syntax or dnsmasq options, takeover of a bridge or a subnet that are not ours, a
//! huge definition, and definitions whose start is interrupted. Each case shows that nothing
//! outside the network changed (a snapshot of the namespace and of the home folder), with a
//! clear message where the definition is refused.

mod support;

use std::path::Path;

use support::world::{dhcp, World};
use support::{run_ok, stdout, Guest};

/// Every file under `dir` with its contents, for "nothing on disk changed".
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if !path.ends_with(".lock") {
                let bytes = std::fs::read(&path).unwrap_or_default();
                out.push((path.display().to_string(), bytes));
            }
        }
    }
    out.sort();
    out
}

/// Defines `xml` and expects a refusal naming `field`; nothing in the namespace or the home
/// changes.
fn refused(world: &World, tag: &str, xml: &str, field: &str) {
    let before = (world.snapshot(), tree(world.home.path()));
    let file = std::env::temp_dir().join(format!("sy-hostile-{}-{tag}.xml", std::process::id()));
    std::fs::write(&file, xml).expect("write");
    let out = world.sy(&["define", file.to_str().expect("utf8")]);
    let _ = std::fs::remove_file(&file);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{tag}: accepted");
    assert!(err.contains(field), "{tag}: {field:?} not named in: {err}");
    assert_eq!(
        (world.snapshot(), tree(world.home.path())),
        before,
        "{tag}: a refused definition changes nothing"
    );
}

fn nat(name: &str, bridge: &str, extra: &str) -> String {
    format!(
        "<network><name>{name}</name><forward mode='nat'/><bridge name='{bridge}' stp='off'/>\
         {extra}<ip address='10.91.0.1' prefix='24'><dhcp><range start='10.91.0.10' \
         end='10.91.0.20'/></dhcp></ip></network>"
    )
}

#[test]
fn strings_built_to_inject_are_refused_with_their_field_named() {
    let Some(world) = World::new("inj") else {
        return;
    };
    let cases: &[(&str, String, &str)] = &[
        (
            "bridge-nft",
            nat("a", "x\";flush ruleset", ""),
            "bridge.name",
        ),
        ("bridge-list", nat("a", "sybr1,eth0", ""), "bridge.name"),
        ("bridge-glob", nat("a", "sy*", ""), "bridge.name"),
        ("bridge-space", nat("a", "sy br", ""), "bridge.name"),
        ("bridge-nft-word", nat("a", "icmpv6", ""), "bridge.name"),
        (
            "forward-dev",
            nat("a", "sybr1", "").replace(
                "<forward mode='nat'/>",
                "<forward mode='nat' dev='eth0\";drop'/>",
            ),
            "forward",
        ),
        (
            "domain-newline",
            nat("a", "sybr1", "<domain name='x&#10;server=6.6.6.6'/>"),
            "domain.name",
        ),
        (
            "domain-comma",
            nat("a", "sybr1", "<domain name='x,interface=eth0'/>"),
            "domain.name",
        ),
        (
            "dns-host",
            nat(
                "a",
                "sybr1",
                "<dns><host ip='10.91.0.5'><hostname>a#b</hostname></host></dns>",
            ),
            "dns.host[0].hostname[0]",
        ),
        (
            "dhcp-host-name",
            nat("a", "sybr1", "").replace(
                "</dhcp>",
                "<host mac='52:54:00:00:00:05' name='x,set:evil' ip='10.91.0.5'/></dhcp>",
            ),
            "ip[0].dhcp.host[0].name",
        ),
        (
            "tftp-newline",
            nat("a", "sybr1", "").replace(
                "<dhcp>",
                "<tftp root='/srv&#10;dhcp-script=/bin/sh'/><dhcp>",
            ),
            "ip[0].tftp",
        ),
        (
            "name-slash",
            nat("../../etc/x", "sybr1", ""),
            "not a valid network name",
        ),
        ("name-dash", nat("-rf", "sybr1", ""), "name"),
        ("name-bidi", nat("ab\u{202e}cd", "sybr1", ""), "name"),
    ];
    for (tag, xml, field) in cases {
        refused(&world, tag, xml, field);
    }
}

#[test]
fn a_name_full_of_syntax_stays_data_everywhere() {
    let Some(world) = World::new("nam") else {
        return;
    };
    let before = world.snapshot();
    let name = "x\"; add table inet evil { } ;# ü";
    let txt = "<dns><txt name='t' value='a \"quoted\", #not a comment'/></dns>";
    let xml = nat(&name.replace('"', "&quot;"), "sybr7", txt);
    let file = world.home.path().join("hostile.xml");
    std::fs::write(&file, xml).expect("write");
    world.sy_ok(&["define", file.to_str().expect("utf8")]);
    world.sy_ok(&["start", name]);
    assert!(world.link_exists("sybr7"));
    let nft = stdout(&run_ok(
        "ip",
        &["netns", "exec", world.host.name(), "nft", "list", "tables"],
    ));
    assert_eq!(
        nft.trim(),
        "table inet switchyard",
        "no table of the name's making"
    );
    let files: Vec<String> = std::fs::read_dir(world.dnsmasq_dir())
        .expect("dnsmasq dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.iter().all(|f| !f.contains(' ') && !f.contains('"')),
        "file names are encoded: {files:?}"
    );
    assert!(
        world.drift_of(name).is_empty(),
        "{:?}",
        world.drift_of(name)
    );
    {
        let guest = Guest::attach(&world.host, "sybr7", "namg");
        let addr = dhcp(&guest, "g").expect("dnsmasq serves the oddly named network");
        assert!(addr.starts_with("10.91.0."), "{addr}");
    }
    world.wait_link_gone("ve-namg");
    world.sy_ok(&["stop", name]);
    assert_eq!(world.snapshot(), before);
}

#[test]
fn an_existing_bridge_is_never_taken_over() {
    let Some(world) = World::new("tko") else {
        return;
    };
    // The host's own LAN bridge, with an address and a port.
    world.host.ip(&["link", "add", "lanbr", "type", "bridge"]);
    world
        .host
        .ip(&["addr", "add", "10.93.0.254/24", "dev", "lanbr"]);
    world.host.ip(&["link", "set", "lanbr", "up"]);
    let before = world.snapshot();
    let file = world.home.path().join("tko.xml");
    let xml = nat("grab", "lanbr", "").replace("10.91.0", "10.94.0");
    std::fs::write(&file, xml).expect("write");
    let out = world.sy(&["define", file.to_str().expect("utf8")]);
    assert!(out.status.success(), "define only warns");
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(warning.contains("lanbr already exists"), "{warning}");
    let out = world.sy(&["start", "grab"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "start refuses");
    assert!(
        err.contains("interface lanbr already exists and was not created by this network"),
        "{err}"
    );
    assert_eq!(world.snapshot(), before, "nothing touched lanbr");
    let list = world.sy_ok(&["list", "--all", "--json"]);
    assert!(list.contains("\"active\": false"), "{list}");
}

#[test]
fn a_subnet_in_use_on_a_host_interface_is_refused() {
    let Some(world) = World::new("sub") else {
        return;
    };
    // 10.95.0.0/24 is reachable through the uplink: a LAN behind the upstream router.
    world
        .host
        .ip(&["route", "add", "10.95.0.0/24", "via", "203.0.113.1"]);
    let before = world.snapshot();
    let xml = nat("clash", "sybr8", "").replace("10.91.0", "10.95.0");
    let file = world.home.path().join("clash.xml");
    std::fs::write(&file, xml).expect("write");
    world.sy_ok(&["define", file.to_str().expect("utf8")]);
    let out = world.sy(&["start", "clash"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("subnet 10.95.0.0/24 overlaps route 10.95.0.0/24 on uplink"),
        "{err}"
    );
    assert_eq!(world.snapshot(), before);
    // An address on a host NIC is refused the same way.
    world.host.ip(&["route", "del", "10.95.0.0/24"]);
    world
        .host
        .ip(&["addr", "add", "10.95.0.7/16", "dev", "uplink"]);
    let out = world.sy(&["start", "clash"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("overlaps address 10.95.0.7/16 on uplink"),
        "{err}"
    );
}

#[test]
fn a_huge_definition_is_refused_before_parsing() {
    let Some(world) = World::new("big") else {
        return;
    };
    let before = tree(world.home.path());
    let file = std::env::temp_dir().join(format!("sy-big-{}.xml", std::process::id()));
    let mut xml = String::from("<network><name>big</name><description>");
    xml.push_str(&"x".repeat(20 << 20));
    xml.push_str("</description></network>");
    std::fs::write(&file, &xml).expect("write");
    let started = std::time::Instant::now();
    let out = world.sy(&["define", file.to_str().expect("utf8")]);
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(&file);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("larger than"), "{err}");
    eprintln!("20 MB definition refused in {elapsed:?}");
    assert_eq!(tree(world.home.path()), before);
}

#[test]
fn concurrent_pins_all_land() {
    let Some(world) = World::new("pnc") else {
        return;
    };
    let xml = nat("pins", "sybr9", "").replace("10.91.0.20", "10.91.0.99");
    let file = world.home.path().join("pins.xml");
    std::fs::write(&file, xml).expect("write");
    world.sy_ok(&["define", file.to_str().expect("utf8")]);
    world.sy_ok(&["start", "pins"]);
    std::thread::scope(|s| {
        for t in 0..2u8 {
            let world = &world;
            s.spawn(move || {
                for i in 0..20u8 {
                    let mac = format!("52:54:00:77:{t:02x}:{i:02x}");
                    let ip = format!("10.91.0.{}", 100 + u16::from(t) * 50 + u16::from(i));
                    world.sy_ok(&["pin", "pins", &mac, &ip]);
                }
            });
        }
    });
    let xml = world.sy_ok(&["dumpxml", "pins"]);
    let hosts = xml.matches("<host ").count();
    assert_eq!(hosts, 40, "every pin landed:\n{xml}");
    let hostsfile = std::fs::read_dir(world.dnsmasq_dir())
        .expect("dir")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".hostsfile"))
        .map(|e| std::fs::read_to_string(e.path()).expect("read"))
        .expect("hosts file");
    assert_eq!(hostsfile.lines().count(), 40, "dnsmasq was given all 40");
    world.sy_ok(&["stop", "pins"]);
}
