//! macvtap networks and attachments on the real kernel, inside a namespace: a veth stands in
//! for the physical NIC (this kernel has no dummy driver).

mod support;

use support::stdout;
use support::world::World;

fn parent(world: &World, name: &str) {
    let peer = format!("{name}p");
    world
        .host
        .ip(&["link", "add", name, "type", "veth", "peer", "name", &peer]);
    world.host.ip(&["link", "set", name, "up"]);
    world.host.ip(&["link", "set", &peer, "up"]);
}

fn link_details(world: &World, ifname: &str) -> String {
    stdout(&world.host.ip(&["-d", "link", "show", ifname]))
}

fn attach(world: &World, net: &str) -> serde_json::Value {
    serde_json::from_str(&world.sy_ok(&["attach", net, "--json"])).expect("json")
}

#[test]
fn attach_and_detach_in_each_mode() {
    let Some(world) = World::new("mvt") else {
        return;
    };
    for (i, (mode, kernel_mode)) in [
        ("macvtap-bridge", "bridge"),
        ("vepa", "vepa"),
        ("private", "private"),
        ("passthrough", "passthru"),
    ]
    .iter()
    .enumerate()
    {
        let dev = format!("nic{i}");
        parent(&world, &dev);
        let net = format!("mv{i}");
        world.sy_ok(&["create", "--name", &net, "--mode", mode, "--dev", &dev]);
        world.sy_ok(&["start", &net]);
        let att = attach(&world, &net);
        let ifname = att["ifname"].as_str().expect("ifname").to_owned();
        let ifindex = att["ifindex"].as_u64().expect("ifindex");
        assert_eq!(att["tap_device"], format!("/dev/tap{ifindex}"));
        let qemu = att["qemu"].as_str().expect("the QEMU line");
        assert!(
            qemu.starts_with("-netdev tap,id=net0,fd=3 ")
                && qemu.ends_with(&format!("3<>/dev/tap{ifindex}")),
            "{qemu}"
        );
        assert_eq!(att["parent"], dev.as_str());
        let details = link_details(&world, &ifname);
        assert!(
            details.contains(&format!("macvtap mode {kernel_mode}")),
            "{mode}: {details}"
        );
        assert!(details.contains(&format!("@{dev}")), "{details}");
        if *mode == "passthrough" {
            let second = world.sy(&["attach", &net]);
            assert!(
                !second.status.success(),
                "passthrough allows one attachment per device"
            );
            let err = String::from_utf8_lossy(&second.stderr);
            assert!(err.contains("already has its one attachment"), "{err}");
        }
        world.sy_ok(&["detach", &ifname]);
        assert!(!world.link_exists(&ifname), "detach removed it");
        world.sy_ok(&["stop", &net]);
    }
}

#[test]
fn detach_refuses_links_it_did_not_make() {
    let Some(world) = World::new("mvx") else {
        return;
    };
    parent(&world, "nicx");
    let out = world.sy(&["detach", "nicx"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not made by switchyard attach"));
    assert!(world.link_exists("nicx"), "nicx untouched");
}

#[test]
fn attach_with_name_and_mac_and_bad_mac() {
    let Some(world) = World::new("mvn") else {
        return;
    };
    parent(&world, "nicn");
    world.sy_ok(&["create", "--name", "mv", "--mode", "vepa", "--dev", "nicn"]);
    let out = world.sy(&["attach", "mv", "--mac", "01:00:5e:00:00:01"]);
    assert!(!out.status.success(), "multicast MAC refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mac"));
    let att: serde_json::Value = serde_json::from_str(&world.sy_ok(&[
        "attach",
        "mv",
        "--name",
        "vm1tap",
        "--mac",
        "52:54:00:aa:bb:cc",
        "--json",
    ]))
    .expect("json");
    assert_eq!(att["ifname"], "vm1tap");
    assert!(link_details(&world, "vm1tap").contains("52:54:00:aa:bb:cc"));
    world.sy_ok(&["detach", "vm1tap"]);
}
