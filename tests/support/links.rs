//! Small fixtures for netlink tests: literals, bridge specs and link look-ups.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use switchyard::host::{BridgeSpec, LinkInfo, Netlink};

/// Parses a network literal of a test.
pub fn net(s: &str) -> IpNet {
    s.parse().expect("test literal")
}

/// Parses an address literal of a test.
pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("test literal")
}

/// A bridge with no MAC/MTU and STP off.
pub fn bridge(name: &str) -> BridgeSpec {
    BridgeSpec {
        ifindex: None,
        name: name.to_string(),
        mac: None,
        mtu: None,
        stp: false,
        forward_delay_cs: 0,
    }
}

/// The dumped link called `name`; panics when absent.
pub async fn link(nl: &Netlink, name: &str) -> LinkInfo {
    let links = nl.dump_links().await.expect("dump links");
    links
        .into_iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("link {name} not in dump"))
}

/// Whether a link called `name` exists.
pub async fn has_link(nl: &Netlink, name: &str) -> bool {
    let links = nl.dump_links().await.expect("dump links");
    links.iter().any(|l| l.name == name)
}

/// Operational state reaches the dump asynchronously (linkwatch): polls up to 5 s and
/// returns the last observation, whatever its state.
pub async fn wait_oper_state(nl: &Netlink, name: &str, want: &str) -> LinkInfo {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let l = link(nl, name).await;
        if l.oper_state == want || Instant::now() > deadline {
            return l;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
