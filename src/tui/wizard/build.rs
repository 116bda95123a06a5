//! The wizard's starting point: a draft with good defaults for a new network (a free private
//! subnet, its DHCP range, a generated ULA prefix), and the form fields showing a draft.

use std::net::Ipv4Addr;

use ipnet::{IpNet, Ipv4Net};

use super::context::{Seed, WizardContext};
use super::draft::NetworkDraft;
use super::field::{Choice, Field, FieldId, Form, Value};
use super::steps::{NetMode, TapMode};
use crate::model::{default_dhcp_range, free_ipv4_subnet, ula_prefix, IpDef};

/// Salt for the ULA stream, so it does not repeat the definition's UUID draws.
const ULA_SALT: u64 = 0x756c_615f_7072_6566;

/// The draft a new network starts from.
pub fn new_draft(ctx: &WizardContext, seed: Seed) -> NetworkDraft {
    let mut taken = ctx.host.taken_subnets.clone();
    taken.extend(
        ctx.others
            .iter()
            .flat_map(|o| o.ips.iter().filter_map(IpDef::net)),
    );
    let gateway = free_ipv4_subnet(&taken)
        .map(|n| Ipv4Net::new_assert(Ipv4Addr::from(u32::from(n.network()) + 1), n.prefix_len()));
    let ula = ula_prefix(&mut Seed(seed.0 ^ ULA_SALT).rand());
    NetworkDraft {
        ipv4: gateway.map_or(String::new(), |g| g.to_string()),
        dhcp: true,
        dhcp_range: gateway.map_or(String::new(), range_text),
        ipv6_prefix: ula.to_string(),
        host_bridge: ctx.bridges.first().cloned(),
        ..NetworkDraft::default()
    }
}

fn range_text(net: Ipv4Net) -> String {
    let (a, b) = default_dhcp_range(net);
    format!("{a}-{b}")
}

/// The usual DHCP range for an IPv4 gateway as typed, if it parses and has room.
pub fn range_for(ipv4: &str) -> Option<String> {
    match ipv4.trim().parse::<IpNet>().ok()? {
        IpNet::V4(net) if net.prefix_len() <= 30 => Some(range_text(net)),
        _ => None,
    }
}

/// Entries of `known` plus any of `wanted` not among them (a device that vanished since the
/// network was defined stays choosable, and is then flagged).
fn with_missing(known: &[String], wanted: impl IntoIterator<Item = String>) -> Vec<Choice> {
    let mut out: Vec<Choice> = known.iter().map(|n| Choice::plain(n)).collect();
    for w in wanted {
        if !out.iter().any(|c| c.value == w) {
            out.push(Choice::new(&w, &w, "not found on this host"));
        }
    }
    out
}

fn list(choices: Vec<Choice>, value: &str) -> Value {
    let selected = choices.iter().position(|c| c.value == value).unwrap_or(0);
    Value::List { choices, selected }
}

fn toggle(id: FieldId, label: &'static str, on: bool, hint: &str) -> Field {
    Field::with(id, label, Value::Toggle(on)).hint(hint)
}

/// Follow the host: the device choices (forward device, host bridge, NICs) become those of
/// `ctx`, keeping what is chosen now; a chosen device that is gone stays, flagged.
pub fn refresh_choices(form: &mut Form, ctx: &WizardContext) {
    use FieldId as F;
    if let Some(Value::Pick { choices, selected }) =
        form.get_mut(F::ForwardDev).map(|f| &mut f.value)
    {
        let current = choices
            .get(*selected)
            .map(|c| c.value.clone())
            .unwrap_or_default();
        let mut fresh = vec![Choice::new("", "any", "wherever the host's routes lead")];
        fresh.extend(with_missing(
            &ctx.uplinks,
            (!current.is_empty()).then_some(current.clone()),
        ));
        *selected = fresh.iter().position(|c| c.value == current).unwrap_or(0);
        *choices = fresh;
    }
    if let Some(Value::List { choices, selected }) =
        form.get_mut(F::HostBridge).map(|f| &mut f.value)
    {
        let current = choices.get(*selected).map(|c| c.value.clone());
        let fresh = with_missing(&ctx.bridges, current.clone());
        *selected = current
            .and_then(|v| fresh.iter().position(|c| c.value == v))
            .unwrap_or(0);
        *choices = fresh;
    }
    if let Some(Value::Multi {
        choices,
        checked,
        cursor,
    }) = form.get_mut(F::Devices).map(|f| &mut f.value)
    {
        let ticked: Vec<String> = choices
            .iter()
            .zip(checked.iter())
            .filter(|(_, on)| **on)
            .map(|(c, _)| c.value.clone())
            .collect();
        let at = choices.get(*cursor).map(|c| c.value.clone());
        let fresh = with_missing(&ctx.nics, ticked.clone());
        *checked = fresh.iter().map(|c| ticked.contains(&c.value)).collect();
        *cursor = at
            .and_then(|v| fresh.iter().position(|c| c.value == v))
            .unwrap_or(0)
            .min(fresh.len().saturating_sub(1));
        *choices = fresh;
    }
}

/// The fields showing `draft`; `editing` makes the name read-only.
pub fn form_for(draft: &NetworkDraft, ctx: &WizardContext, editing: bool) -> Form {
    let mut fields = name_mode_fields(draft, editing);
    fields.extend(address_fields(draft));
    fields.extend(device_fields(draft, ctx));
    fields.extend(option_fields(draft));
    Form { fields }
}

fn name_mode_fields(draft: &NetworkDraft, editing: bool) -> Vec<Field> {
    let mut name = Field::text(FieldId::Name, "Name", &draft.name, "e.g. lab")
        .hint("1-64 characters without '/'; it names files, so keep it short");
    name.read_only = editing;
    let modes = NetMode::ALL
        .iter()
        .map(|m| Choice::new(m.key(), m.label(), m.tagline()))
        .collect();
    let mode = Field::with(FieldId::Mode, "Mode", list(modes, draft.mode.key()))
        .hint("↑/↓ or ←/→ choose the kind of network; what it means is shown below");
    vec![name, mode]
}

fn address_fields(d: &NetworkDraft) -> Vec<Field> {
    use FieldId as F;
    vec![
        Field::text(
            F::Ipv4,
            "IPv4 gateway",
            &d.ipv4,
            "ADDR/PREFIX, empty for none",
        )
        .hint("the host's address on the network, with the prefix, e.g. 10.0.5.1/24"),
        toggle(F::Dhcp, "DHCP", d.dhcp, "hand out addresses with dnsmasq"),
        Field::text(F::DhcpRange, "DHCP range", &d.dhcp_range, "START-END")
            .hint("first and last address handed out, inside the subnet"),
        toggle(
            F::Ipv6,
            "IPv6",
            d.ipv6,
            "also give the network an IPv6 subnet",
        ),
        Field::text(F::Ipv6Prefix, "IPv6 gateway", &d.ipv6_prefix, "ADDR/PREFIX")
            .hint("pre-filled with a random unique-local /64 (fdxx:…)"),
    ]
}

fn device_fields(d: &NetworkDraft, ctx: &WizardContext) -> Vec<Field> {
    use FieldId as F;
    let mut uplinks = vec![Choice::new("", "any", "wherever the host's routes lead")];
    uplinks.extend(with_missing(&ctx.uplinks, d.forward_dev.clone()));
    let forward = d.forward_dev.as_deref().unwrap_or("");
    let selected = uplinks.iter().position(|c| c.value == forward).unwrap_or(0);
    let bridges = with_missing(&ctx.bridges, d.host_bridge.clone());
    let nics = with_missing(&ctx.nics, d.devices.clone());
    let checked = nics.iter().map(|c| d.devices.contains(&c.value)).collect();
    let taps = TapMode::ALL
        .iter()
        .map(|m| Choice::new(m.create_mode(), m.label(), m.explain()))
        .collect();
    let multi = Value::Multi {
        choices: nics,
        checked,
        cursor: 0,
    };
    let pick = Value::Pick {
        choices: uplinks,
        selected,
    };
    let bridge = d.host_bridge.as_deref().unwrap_or("");
    vec![
        Field::with(F::ForwardDev, "Forward device", pick)
            .hint("where guest traffic leaves the host; ←/→ or Space to choose"),
        Field::with(F::HostBridge, "Host bridge", list(bridges, bridge))
            .hint("↑/↓ or ←/→ choose the bridge guests join; it is not changed"),
        Field::with(F::Devices, "NICs", multi).hint("Space ticks the NICs guests may sit on"),
        Field::with(
            F::TapMode,
            "macvtap mode",
            list(taps, d.tap_mode.create_mode()),
        )
        .hint("↑/↓ or ←/→ choose how guests on one NIC see each other"),
    ]
}

fn option_fields(d: &NetworkDraft) -> Vec<Field> {
    use FieldId as F;
    vec![
        Field::text(
            F::BridgeName,
            "Bridge name",
            &d.bridge_name,
            "automatic (sybrN)",
        )
        .hint("Linux interface name, at most 15 characters"),
        Field::text(F::Domain, "DNS domain", &d.domain, "none")
            .hint("domain dnsmasq serves to guests, e.g. lab.example"),
        toggle(
            F::Autostart,
            "Autostart",
            d.autostart,
            "start the network when the host boots",
        ),
        toggle(
            F::DefineOnly,
            "Define only",
            d.define_only,
            "define it without starting it now",
        ),
        toggle(
            F::Stp,
            "STP",
            d.stp,
            "spanning tree; off lets new ports forward at once",
        ),
        Field::text(F::Mtu, "MTU", &d.mtu, "default")
            .hint("bytes, 68-65535; empty keeps the kernel's default"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::demo::Demo;

    #[test]
    fn defaults_avoid_host_and_networks() {
        let mut snap = Demo::new().snapshot();
        // A host route (a VPN, say) to the first candidate subnet.
        snap.taken_subnets
            .push("192.168.100.0/24".parse().expect("net"));
        let ctx = WizardContext::from_snapshot(&snap, None);
        let draft = new_draft(&ctx, Seed(1));
        assert_eq!(
            draft.ipv4, "192.168.101.1/24",
            "192.168.100.0/24 is a host route"
        );
        assert_eq!(draft.dhcp_range, "192.168.101.2-192.168.101.254");
        assert!(draft.ipv6_prefix.starts_with("fd") && draft.ipv6_prefix.ends_with("::1/64"));
        assert_eq!(
            range_for("10.0.0.1/16").as_deref(),
            Some("10.0.0.2-10.0.255.254")
        );
        assert_eq!(range_for("10.0.0.1/31"), None);
        assert_eq!(range_for("nonsense"), None);
    }
}
