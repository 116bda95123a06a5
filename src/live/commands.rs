//! The backend actor: one task, on a thread of its own, owns the backend (one host, one
//! netlink connection) and carries out the TUI's commands one after another, reporting each
//! plan step as it begins. A slow kernel, nft or dnsmasq stalls neither the UI loop nor the
//! snapshots; two commands never interleave.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::{mpsc, oneshot, Notify};

use crate::backend::Backend;
use crate::host::Host;
use crate::tui::data::{Command, CommandResult, Failure, ProgressSender};

/// One command for the actor, and where its result goes.
struct Request {
    id: u64,
    cmd: Command,
    progress: ProgressSender,
    reply: oneshot::Sender<CommandResult>,
}

/// The actor's mailbox. Dropping it ends the actor after the command under way.
#[derive(Clone)]
pub struct Actor {
    tx: mpsc::UnboundedSender<Request>,
}

impl Actor {
    /// Starts the actor on a thread of its own. `done` is notified after each command (so the
    /// snapshot loop refreshes at once); `busy` holds the networks with a command under way.
    pub fn start<H: Host>(
        backend: Backend<H>,
        done: Arc<Notify>,
        busy: super::Busy,
    ) -> std::io::Result<Actor> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Request>();
        std::thread::Builder::new()
            .name("switchyard-backend".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    while let Some(req) = rx.recv().await {
                        serve(&backend, req, &busy).await;
                        done.notify_one();
                    }
                });
            })?;
        Ok(Actor { tx })
    }

    /// Sends `cmd`; the future resolves with its result (a failed one if the actor is gone).
    pub fn execute(
        &self,
        id: u64,
        cmd: Command,
        progress: ProgressSender,
    ) -> BoxFuture<'static, CommandResult> {
        let (reply, rx) = oneshot::channel();
        let sent = self.tx.send(Request {
            id,
            cmd,
            progress,
            reply,
        });
        async move {
            if sent.is_err() {
                return failed(id, "the backend has stopped".into());
            }
            rx.await
                .unwrap_or_else(|_| failed(id, "the backend dropped the command".into()))
        }
        .boxed()
    }
}

fn failed(id: u64, message: String) -> CommandResult {
    CommandResult::failed(id, message.into())
}

async fn serve<H: Host>(backend: &Backend<H>, req: Request, busy: &super::Busy) {
    let network = req.cmd.network();
    if let (Some(n), Ok(mut set)) = (&network, busy.lock()) {
        set.insert(n.clone());
    }
    let result = result(backend, req.id, req.cmd, &req.progress).await;
    if let (Some(n), Ok(mut set)) = (&network, busy.lock()) {
        set.remove(n);
    }
    let _ = req.reply.send(result);
}

/// One command's result: as [`execute`] words it, and a forward test's report with it.
pub async fn result<H: Host>(
    backend: &Backend<H>,
    id: u64,
    cmd: Command,
    progress: &ProgressSender,
) -> CommandResult {
    if let Command::TestForward {
        network,
        proto,
        port,
    } = &cmd
    {
        return match backend.test_forward(network, *proto, *port).await {
            Ok(report) => CommandResult {
                forward_test: Some(Box::new(report.clone())),
                ..CommandResult::done(id, test_summary(&report))
            },
            Err(e) => CommandResult::failed(id, e.into()),
        };
    }
    let why = match &cmd {
        Command::Why { request } => Some(backend.why(request).await),
        Command::ApplyWhyFix { request, commands } => {
            Some(backend.apply_why_fix(commands, request).await)
        }
        _ => None,
    };
    if let Some(answer) = why {
        return match answer {
            Ok(outcome) => {
                let summary = why_summary(&outcome);
                CommandResult {
                    why: Some(Box::new(outcome)),
                    ..CommandResult::done(id, summary)
                }
            }
            Err(e) => CommandResult::failed(id, e.into()),
        };
    }
    CommandResult::from_outcome(id, execute(backend, cmd, progress).await)
}

/// `why`'s answer in one line, for the log: the verdict and the chain that decided it.
fn why_summary(o: &crate::backend::WhyOutcome) -> String {
    let r = &o.report;
    match &r.by {
        Some(by) => format!(
            "{} by {} {} chain {}",
            r.verdict.as_str(),
            by.family,
            by.table.escape_debug(),
            by.chain.escape_debug()
        ),
        None => r.verdict.as_str().to_owned(),
    }
}

/// A forward test's report in one line per path, for the log.
fn test_summary(report: &crate::backend::ForwardTest) -> String {
    use crate::backend::ProbeOutcome;
    let mut lines = vec![format!(
        "forward {} of {} tested",
        report.forward.key(),
        report.network
    )];
    for p in &report.paths {
        let what = match &p.outcome {
            ProbeOutcome::Answered { how } => format!("answered ({how})"),
            ProbeOutcome::NoAnswer { stopped_by, .. } => match stopped_by {
                Some(s) => format!("no answer: {s}"),
                None => "no answer".to_owned(),
            },
            ProbeOutcome::Skipped { reason } => format!("skipped: {reason}"),
        };
        lines.push(format!("{:?}: {what}", p.path).to_lowercase());
    }
    lines.join("\n")
}

/// One command against the backend; the message is what the operator reads. Each plan step
/// is reported to `progress` as it begins.
pub async fn execute<H: Host>(
    backend: &Backend<H>,
    cmd: Command,
    progress: &ProgressSender,
) -> Result<String, Failure> {
    let s = Failure::from;
    let report = |_: usize, step: &crate::plan::Step| progress.step(step.to_string());
    match cmd {
        Command::StartNetwork(name) | Command::RepairNetwork(name) => {
            let plan = backend.start(&name, report).await.map_err(s)?;
            Ok(match plan.steps.len() {
                0 => format!("{name} is already running as defined"),
                1 => format!("{name} started (1 step)"),
                n => format!("{name} started ({n} steps)"),
            })
        }
        Command::StopNetwork(name) => {
            backend.stop(&name, report).await.map_err(s)?;
            Ok(format!("{name} stopped"))
        }
        Command::SetAutostart(name, on) => {
            backend.set_autostart(&name, on).map_err(s)?;
            Ok(format!(
                "{name}: autostart {}",
                if on { "on" } else { "off" }
            ))
        }
        Command::Undefine(name) => {
            backend.undefine(&name).map_err(s)?;
            Ok(format!("{name} undefined"))
        }
        Command::Detach(ifname) => {
            let att = backend.detach(&ifname).await.map_err(s)?;
            Ok(format!("{} detached from {}", att.ifname, att.network))
        }
        Command::MovePort { ifname, network } => {
            let moved = backend.move_port(&ifname, &network).await.map_err(s)?;
            Ok(moved.to_string())
        }
        Command::StopAndUndefine(name) => {
            backend.stop(&name, report).await.map_err(s)?;
            backend.undefine(&name).map_err(s)?;
            Ok(format!("{name} stopped and undefined"))
        }
        Command::PreviewStart { xml } => backend.preview(&xml).await.map_err(s),
        Command::CreateNetwork {
            xml,
            autostart,
            start,
        } => {
            let def = backend
                .create_network(&xml, autostart, start, report)
                .await
                .map_err(s)?;
            let state = if start {
                "defined and started"
            } else {
                "defined"
            };
            Ok(format!("{} {state}", def.name))
        }
        Command::EditNetwork { name, xml } => {
            backend.edit_network(&name, &xml, report).await.map_err(s)
        }
        Command::Attach { network, name, mac } => {
            let att = backend.attach(&network, name, mac).await.map_err(s)?;
            Ok(format!(
                "{} on {} ({} mode), mac {}\n{}\nqemu: {}",
                att.ifname,
                att.parent,
                att.mode,
                att.mac,
                att.tap_device,
                att.qemu_args()
            ))
        }
        Command::PinLease {
            network,
            mac,
            ip,
            hostname,
        } => {
            let mac = mac
                .parse()
                .map_err(|e| Failure::from(format!("mac: {e}")))?;
            let ip = ip
                .parse()
                .map_err(|_| Failure::from(format!("ip: '{ip}' is not an IP address")))?;
            backend
                .pin_host(&network, Some(mac), hostname.as_deref(), ip, false)
                .await
                .map_err(s)
        }
        Command::AddForward { network, forward } => {
            let ssh = crate::host::listen::ssh_connection();
            backend
                .add_forward(&network, forward, false, ssh.as_deref())
                .await
                .map_err(s)
        }
        Command::RemoveForward {
            network,
            proto,
            port,
        } => backend
            .remove_forward(&network, proto, port)
            .await
            .map_err(s),
        Command::TestForward {
            network,
            proto,
            port,
        } => {
            let report = backend
                .test_forward(&network, proto, port)
                .await
                .map_err(s)?;
            Ok(test_summary(&report))
        }
        Command::Why { request } => {
            let outcome = backend.why(&request).await.map_err(s)?;
            Ok(why_summary(&outcome))
        }
        Command::ApplyWhyFix { request, commands } => {
            let outcome = backend
                .apply_why_fix(&commands, &request)
                .await
                .map_err(s)?;
            Ok(why_summary(&outcome))
        }
    }
}
