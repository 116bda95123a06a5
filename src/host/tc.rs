//! Traffic shaping with `tc` (iproute2), run with argument vectors, never a shell.

use std::process::{Command, Stdio};

use super::error::HostError;
use crate::plan::bandwidth::{self, Shaping};

fn run(args: &[String]) -> Result<(), String> {
    let out = Command::new("tc")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run tc ({e}); install it with: apt-get install iproute2"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
}

/// Shapes `dev` as `shaping` says (after removing any shaping it had); on a failure, what was
/// added is removed again and the error quotes the tc command and its words.
pub fn shape(dev: &str, shaping: &Shaping) -> Result<(), HostError> {
    unshape(dev);
    for args in bandwidth::commands(dev, shaping) {
        if let Err(why) = run_leaf(&args) {
            unshape(dev);
            let missing = ["not found", "kind is unknown", "Failed to load"]
                .iter()
                .any(|w| why.contains(w));
            let hint = if missing {
                "; this kernel lacks a traffic-control module libvirt's shaping uses (sch_htb, \
                 sch_ingress, cls_u32, act_police): load it, or remove <bandwidth>"
            } else {
                ""
            };
            return Err(HostError::Other {
                op: format!("tc {}", args.join(" ")),
                errno: None,
                message: format!("{why}{hint}"),
            });
        }
    }
    Ok(())
}

/// Runs one command; libvirt's `sfq` leaf queue (fairness between flows under the rate limit)
/// falls back to `fq_codel`, then to the class's default queue, on a kernel built without it:
/// the rates hold either way.
fn run_leaf(args: &[String]) -> Result<(), String> {
    let first = run(args);
    // libvirt's `fw` filter only steers the per-guest classes of a guaranteed `floor`, which
    // switchyard does not make: without cls_fw the network's class still takes all traffic.
    if args.iter().any(|a| a == "fw") {
        return match first {
            Err(why) if why.contains("classifier not found") => Ok(()),
            other => other,
        };
    }
    let Some(at) = args.iter().position(|a| a == "sfq") else {
        return first;
    };
    match first {
        Err(why) if why.contains("qdisc kind is unknown") => {
            let mut codel: Vec<String> = args[..at].to_vec();
            codel.push("fq_codel".to_owned());
            match run(&codel) {
                Err(why) if why.contains("qdisc kind is unknown") => Ok(()),
                other => other,
            }
        }
        other => other,
    }
}

/// Removes any shaping of `dev` (nothing there is fine).
pub fn unshape(dev: &str) {
    for args in bandwidth::clear(dev) {
        let _ = run(&args);
    }
}
