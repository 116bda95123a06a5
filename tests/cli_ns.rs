//! The CLI's words about a network that really runs, the real binary in a namespace world.

mod support;

use support::world::World;

#[test]
fn start_counts_its_steps_in_the_right_number() {
    let Some(world) = World::new("cliw") else {
        return;
    };
    let started = world.sy_ok(&[
        "create",
        "--name",
        "lab",
        "--mode",
        "isolated",
        "--ipv4",
        "10.66.0.1/24",
        "--dhcp",
        "off",
        "--start",
    ]);
    let many = started
        .lines()
        .find(|l| l.starts_with("Network lab started ("))
        .expect("started");
    assert!(many.ends_with(" steps)"), "{started}");
    // One thing drifted: the repair is one step, and says so in the singular.
    support::run_ok(
        "ip",
        &["-n", world.host.name(), "link", "set", "sybr0", "down"],
    );
    assert_eq!(
        world.sy_ok(&["start", "lab"]),
        "Network lab started (1 step)\n"
    );
    assert_eq!(
        world.sy_ok(&["start", "lab"]),
        "Network lab is already running as defined\n"
    );
    world.sy_ok(&["stop", "lab"]);
}
