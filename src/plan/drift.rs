//! How a running network differs from its definition: one [`Drift`] per difference. Typed so
//! the screens and the supervisor test what it is (`matches!(d, Drift::DnsmasqDown)`) rather
//! than its words; `Display` gives the words the list, the log and the detail pane show.

use std::fmt;

use ipnet::IpNet;

use super::firewall::FirewallDrift;

/// One difference between a network's definition and the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The runtime record could not be read (the reason).
    RecordUnreadable(String),
    /// The record still says `starting`: a start stopped half-way.
    StartInterrupted,
    /// The host bridge a bridged network attaches to is gone.
    HostBridgeMissing(String),
    /// The network's own bridge is gone.
    BridgeMissing(String),
    /// The network's own bridge is administratively down.
    BridgeDown(String),
    /// The bridge's MTU is not the definition's.
    BridgeMtu {
        /// The bridge.
        bridge: String,
        /// Its MTU now.
        actual: u32,
        /// What the definition says.
        wanted: u32,
    },
    /// An address of the definition is not on the bridge.
    AddressMissing {
        /// The address with its prefix.
        net: IpNet,
        /// The bridge.
        bridge: String,
    },
    /// The network's firewall rules or the table's shared parts differ.
    Firewall(FirewallDrift),
    /// The network needs a dnsmasq and none runs.
    DnsmasqDown,
    /// A forwarding sysctl the network needs is off (its key).
    ForwardingOff(&'static str),
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::RecordUnreadable(e) => write!(f, "{e}; `stop` cleans up from the definition"),
            Drift::StartInterrupted => f.write_str("start was interrupted"),
            Drift::HostBridgeMissing(b) => write!(f, "host bridge {b} is missing"),
            Drift::BridgeMissing(b) => write!(f, "bridge {b} is missing"),
            Drift::BridgeDown(b) => write!(f, "bridge {b} is down"),
            Drift::BridgeMtu {
                bridge,
                actual,
                wanted,
            } => write!(
                f,
                "bridge {bridge} has MTU {actual}; the definition says {wanted}"
            ),
            Drift::AddressMissing { net, bridge } => {
                write!(f, "address {net} is missing on {bridge}")
            }
            Drift::Firewall(drift) => write!(f, "firewall: {drift}"),
            Drift::DnsmasqDown => f.write_str("dnsmasq is not running"),
            Drift::ForwardingOff(key) => write!(f, "{key} is off"),
        }
    }
}

/// Serialized as its words (`list --json` keeps its strings).
impl serde::Serialize for Drift {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Compares with its words, so checks written against the text (`["dnsmasq is not running"]`)
/// keep working.
impl PartialEq<&str> for Drift {
    fn eq(&self, other: &&str) -> bool {
        self.to_string().as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_the_old_ones() {
        let cases = [
            (Drift::StartInterrupted, "start was interrupted"),
            (Drift::DnsmasqDown, "dnsmasq is not running"),
            (
                Drift::BridgeMtu {
                    bridge: "sybr0".into(),
                    actual: 1500,
                    wanted: 9000,
                },
                "bridge sybr0 has MTU 1500; the definition says 9000",
            ),
            (
                Drift::AddressMissing {
                    net: "10.0.0.1/24".parse().expect("net"),
                    bridge: "sybr0".into(),
                },
                "address 10.0.0.1/24 is missing on sybr0",
            ),
            (
                Drift::ForwardingOff("net.ipv4.ip_forward"),
                "net.ipv4.ip_forward is off",
            ),
        ];
        for (drift, words) in cases {
            assert_eq!(drift.to_string(), words);
            assert_eq!(serde_json::to_value(&drift).expect("json"), words);
        }
    }
}
