//! `why NETWORK --to ADDR[:PORT]`: where a guest's packet stops, and the fix.

use color_eyre::eyre::{eyre, Result};

use super::args::WhyArgs;
use crate::backend::{Backend, WhyOutcome, WhyRequest};
use crate::host::Host;
use crate::model::why::{self, Verdict, WhyProto};

pub async fn run<H: Host>(backend: &Backend<H>, args: WhyArgs) -> Result<()> {
    let proto: WhyProto = args.proto.parse().map_err(|e| eyre!("--proto: {e}"))?;
    let (to, port, guest) = if args.inbound {
        if args.from_guest.is_some() {
            return Err(eyre!("--inbound names the guest in --to, not --from-guest"));
        }
        guest_target(&args.to).map_err(|e| eyre!("--to: {e}"))?
    } else {
        let (to, port) = why::parse_target(&args.to).map_err(|e| eyre!("--to: {e}"))?;
        (to, port, args.from_guest.clone())
    };
    let from = args
        .from
        .as_deref()
        .map(|f| {
            f.parse::<std::net::Ipv4Addr>().map_err(|_| {
                eyre!(
                    "--from: '{}' is not an IPv4 address",
                    crate::model::why::escape_controls(f)
                )
            })
        })
        .transpose()?;
    if proto == WhyProto::Icmp && port.is_some() {
        return Err(eyre!("--to: icmp has no port"));
    }
    let req = WhyRequest {
        network: args.network.clone(),
        to,
        port,
        proto,
        from_guest: guest,
        inbound: args.inbound,
        from,
    };
    let outcome = backend.why(&req).await?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&outcome.report)?)?;
    } else {
        print_text(&req, &outcome)?;
    }
    Ok(())
}

/// `GUEST[:PORT]` of `--inbound`: an IPv4 address, or a MAC (six colon-separated groups),
/// with an optional port. A MAC is returned as the guest to look up.
fn guest_target(text: &str) -> Result<(std::net::Ipv4Addr, Option<u16>, Option<String>), String> {
    if let Ok((addr, port)) = why::parse_target(text) {
        return Ok((addr, port, None));
    }
    let groups: Vec<&str> = text.split(':').collect();
    let (mac, port) = match groups.len() {
        6 => (text, None),
        7 => (
            &text[..text.rfind(':').unwrap_or(text.len())],
            Some(groups[6].parse::<u16>().map_err(|_| {
                format!(
                    "'{}' is not a port",
                    crate::model::why::escape_controls(groups[6])
                )
            })?),
        ),
        _ => {
            return Err(format!(
                "'{}' is not GUEST[:PORT]",
                crate::model::why::escape_controls(text)
            ))
        }
    };
    Ok((std::net::Ipv4Addr::UNSPECIFIED, port, Some(mac.to_owned())))
}

/// The report in words.
pub fn text(req: &WhyRequest, o: &WhyOutcome) -> Vec<String> {
    let r = &o.report;
    let target = match req.port {
        Some(p) if req.proto != WhyProto::Icmp => format!("{}:{p}", req.to),
        _ => req.to.to_string(),
    };
    let mut out = vec![format!(
        "{} {} from {} to {target}: {}",
        crate::model::why::escape_controls(&req.network),
        req.proto.as_str(),
        o.from,
        r.verdict.as_str()
    )];
    if let Some(by) = &r.by {
        let what = match (&by.rule, &by.policy) {
            (_, Some(p)) => format!("the chain's policy {p}"),
            (Some(rule), None) => match by.handle {
                Some(h) => format!(
                    "rule {} (handle {h})",
                    crate::model::why::escape_controls(rule)
                ),
                None => format!("rule {}", crate::model::why::escape_controls(rule)),
            },
            (None, None) => "it".into(),
        };
        let verb = match r.verdict {
            Verdict::Rejected => "rejected",
            _ => "dropped",
        };
        out.push(format!(
            "  {verb} by table {} {}, chain {}: {what}",
            crate::model::why::escape_controls(&by.family),
            crate::model::why::escape_controls(&by.table),
            crate::model::why::escape_controls(&by.chain)
        ));
    }
    out.push("  path:".into());
    let chains: Vec<String> = r
        .path
        .iter()
        .map(|h| {
            let (f, t, c) = (&h.family, &h.table, &h.chain);
            crate::model::why::escape_controls(&format!("{f} {t} {c}"))
        })
        .collect();
    let width = chains.iter().map(|c| c.chars().count()).max().unwrap_or(0);
    for (h, chain) in r.path.iter().zip(&chains) {
        out.push(format!(
            "    {:<12} {chain:<width$}  {}",
            crate::model::why::escape_controls(&h.hook),
            crate::model::why::escape_controls(&h.verdict)
        ));
    }
    if let Some(fix) = &r.fix {
        out.push(format!(
            "  fix: {}",
            crate::model::why::escape_controls(&fix.text())
        ));
    }
    for n in &o.notes {
        out.push(format!("  note: {n}"));
    }
    out
}

fn print_text(req: &WhyRequest, o: &WhyOutcome) -> Result<()> {
    for line in text(req, o) {
        outln!("{line}")?;
    }
    Ok(())
}
