//! The wizard's steps, the network kinds it offers with the words that explain them, and which
//! fields each step shows for each kind.

use super::field::FieldId;

/// A step of the network wizard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// 1. Name and mode.
    NameMode,
    /// 2. Addresses, or the bridge / NICs to attach to.
    Addressing,
    /// 3. DNS domain, autostart, STP, MTU.
    Options,
    /// 4. The definition and the plan.
    Review,
}

impl Step {
    /// Every step in order.
    pub const ALL: [Step; 4] = [
        Step::NameMode,
        Step::Addressing,
        Step::Options,
        Step::Review,
    ];

    /// Title in the step line.
    pub fn title(self) -> &'static str {
        match self {
            Step::NameMode => "Name and mode",
            Step::Addressing => "Addressing",
            Step::Options => "Options",
            Step::Review => "Review",
        }
    }

    /// 1-based number.
    pub fn number(self) -> usize {
        self.index() + 1
    }

    /// 0-based index.
    pub fn index(self) -> usize {
        Step::ALL
            .iter()
            .position(|s| *s == self)
            .expect("every step is in ALL")
    }

    /// The step after this one.
    pub fn next(self) -> Step {
        Step::ALL[(self.index() + 1).min(Step::ALL.len() - 1)]
    }

    /// The step before this one, if any.
    pub fn prev(self) -> Option<Step> {
        self.index().checked_sub(1).map(|i| Step::ALL[i])
    }
}

/// The kinds of network the wizard creates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum NetMode {
    /// NAT behind the host's address.
    #[default]
    Nat,
    /// Routed subnet.
    Route,
    /// Host and guests only.
    Isolated,
    /// Routed without firewall rules.
    Open,
    /// Guests on an existing host bridge.
    Bridged,
    /// Guests on a NIC through macvtap.
    Macvtap,
}

impl NetMode {
    /// Every kind, in the order the wizard lists them.
    pub const ALL: [NetMode; 6] = [
        NetMode::Nat,
        NetMode::Route,
        NetMode::Isolated,
        NetMode::Open,
        NetMode::Bridged,
        NetMode::Macvtap,
    ];

    /// Value stored in the mode field.
    pub fn key(self) -> &'static str {
        match self {
            NetMode::Nat => "nat",
            NetMode::Route => "route",
            NetMode::Isolated => "isolated",
            NetMode::Open => "open",
            NetMode::Bridged => "bridge",
            NetMode::Macvtap => "macvtap",
        }
    }

    /// The kind whose [`NetMode::key`] is `key`.
    pub fn from_key(key: &str) -> Option<NetMode> {
        NetMode::ALL.into_iter().find(|m| m.key() == key)
    }

    /// Name in the list.
    pub fn label(self) -> &'static str {
        match self {
            NetMode::Nat => "NAT",
            NetMode::Route => "Routed",
            NetMode::Isolated => "Isolated",
            NetMode::Open => "Open",
            NetMode::Bridged => "Bridged",
            NetMode::Macvtap => "Macvtap",
        }
    }

    /// A few words for the list.
    pub fn tagline(self) -> &'static str {
        match self {
            NetMode::Nat => "guests share the host's address",
            NetMode::Route => "own subnet, routed through the host",
            NetMode::Isolated => "guests and host only",
            NetMode::Open => "routed, with no firewall rules",
            NetMode::Bridged => "guests on the LAN via a host bridge",
            NetMode::Macvtap => "guests directly on a NIC",
        }
    }

    /// What it means, in one line an operator understands.
    pub fn explain(self) -> &'static str {
        match self {
            NetMode::Nat => "guests reach out through the host's address; nothing reaches them unless forwarded",
            NetMode::Route => "guests on their own subnet, reachable if the upstream router has a route to it via this host",
            NetMode::Isolated => "guests and host only: no traffic in from or out to anywhere else",
            NetMode::Open => "routed, but switchyard adds no firewall rules at all: your own firewall decides",
            NetMode::Bridged => "guests appear on the physical LAN through an existing host bridge (such as br0)",
            NetMode::Macvtap => "guests attached directly to a physical NIC; the host cannot reach its guests through macvtap",
        }
    }

    /// Whether switchyard makes and owns the bridge (nat, route, isolated, open).
    pub fn own_bridge(self) -> bool {
        !matches!(self, NetMode::Bridged | NetMode::Macvtap)
    }

    /// Whether the network has an outgoing (forward) device to choose.
    pub fn has_forward_dev(self) -> bool {
        matches!(self, NetMode::Nat | NetMode::Route)
    }
}

/// macvtap modes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TapMode {
    /// Guests on one NIC reach each other inside the host.
    #[default]
    Bridge,
    /// Everything goes to the switch.
    Vepa,
    /// Guests never reach each other.
    Private,
    /// One guest owns the NIC.
    Passthrough,
}

impl TapMode {
    /// Every mode, in list order.
    pub const ALL: [TapMode; 4] = [
        TapMode::Bridge,
        TapMode::Vepa,
        TapMode::Private,
        TapMode::Passthrough,
    ];

    /// The mode as `build_definition` takes it.
    pub fn create_mode(self) -> &'static str {
        match self {
            TapMode::Bridge => "macvtap-bridge",
            TapMode::Vepa => "vepa",
            TapMode::Private => "private",
            TapMode::Passthrough => "passthrough",
        }
    }

    /// The mode whose [`TapMode::create_mode`] is `key`.
    pub fn from_key(key: &str) -> Option<TapMode> {
        TapMode::ALL.into_iter().find(|m| m.create_mode() == key)
    }

    /// Name in the list.
    pub fn label(self) -> &'static str {
        match self {
            TapMode::Bridge => "bridge",
            TapMode::Vepa => "VEPA",
            TapMode::Private => "private",
            TapMode::Passthrough => "passthrough",
        }
    }

    /// What it means.
    pub fn explain(self) -> &'static str {
        match self {
            TapMode::Bridge => "guests on one NIC reach each other directly",
            TapMode::Vepa => "via the switch, which must support hairpin",
            TapMode::Private => "guests never reach each other",
            TapMode::Passthrough => "one guest takes over the whole NIC",
        }
    }
}

/// The fields step `step` shows for a network of kind `mode`, in order. `dhcp` and `ipv6`
/// say whether those are on: their details show only then.
pub fn fields(step: Step, mode: NetMode, dhcp: bool, ipv6: bool) -> Vec<FieldId> {
    use FieldId::*;
    match step {
        Step::NameMode => vec![Name, Mode],
        Step::Addressing => match mode {
            NetMode::Bridged => vec![HostBridge],
            NetMode::Macvtap => vec![Devices, TapMode],
            own => {
                let mut out = vec![Ipv4, Dhcp];
                out.extend(dhcp.then_some(DhcpRange));
                out.push(Ipv6);
                out.extend(ipv6.then_some(Ipv6Prefix));
                out.extend(own.has_forward_dev().then_some(ForwardDev));
                out
            }
        },
        Step::Options if mode.own_bridge() => {
            vec![BridgeName, Domain, Autostart, DefineOnly, Stp, Mtu]
        }
        Step::Options => vec![Autostart, DefineOnly],
        Step::Review => vec![],
    }
}

/// The step a field belongs to.
pub fn step_of(id: FieldId) -> Step {
    use FieldId::*;
    match id {
        Name | Mode => Step::NameMode,
        Ipv4 | Dhcp | DhcpRange | Ipv6 | Ipv6Prefix | ForwardDev | HostBridge | Devices
        | TapMode => Step::Addressing,
        BridgeName | Domain | Autostart | DefineOnly | Stp | Mtu => Step::Options,
        Network | IfName | Mac | Proto | HostPort | Target | TargetAddr | TargetPort | Listen
        | Comment | Destination | Direction => Step::Review,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shown_field_belongs_to_its_step() {
        for mode in NetMode::ALL {
            for step in Step::ALL {
                for id in fields(step, mode, true, true) {
                    assert_eq!(step_of(id), step, "{id:?} in {mode:?}");
                }
            }
        }
        assert_eq!(
            fields(Step::Addressing, NetMode::Nat, true, false)[0],
            FieldId::Ipv4
        );
        assert!(!fields(Step::Addressing, NetMode::Open, true, true).contains(&FieldId::ForwardDev));
    }

    #[test]
    fn keys_round_trip() {
        for m in NetMode::ALL {
            assert_eq!(NetMode::from_key(m.key()), Some(m));
        }
        for m in TapMode::ALL {
            assert_eq!(TapMode::from_key(m.create_mode()), Some(m));
        }
    }
}
