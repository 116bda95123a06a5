//! CLI verbs: thin wrappers over [`crate::backend`], printing text or `--json`.

/// `println!` to stdout that returns the write's error instead of panicking: a reader that
/// went away (`| head`) ends the verb with an `EPIPE` error, which `main` turns into a quiet
/// exit ([`is_broken_pipe`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// `print!` to stdout, as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

pub mod args;
mod doctor;
mod forward;
mod leases;
mod list;
mod macvtap;
pub mod ports;
mod table;
mod why;

use std::io::Read;
use std::path::Path;

use color_eyre::eyre::{eyre, Result, WrapErr};

use crate::backend::{host_facts, Backend};
use crate::host::Host;
use crate::model::{self, CreateRequest, HostFacts};
use crate::store::Paths;
pub use args::{Cli, Command, CreateArgs, PinArgs, TuiArgs, UpdateArgs, WhyArgs, XmlSource};

/// Ends the process on SIGINT, SIGTERM or SIGHUP, but lets a transaction under way roll back
/// first (it stops before its next step), so a verb killed mid-start never leaves a
/// half-started network.
fn guard_transactions() -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let kinds = [
        (SignalKind::interrupt(), libc::SIGINT),
        (SignalKind::terminate(), libc::SIGTERM),
        (SignalKind::hangup(), libc::SIGHUP),
    ];
    for (kind, number) in kinds {
        let mut stream = signal(kind).wrap_err("installing signal handlers")?;
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                crate::host::apply::interrupt();
                if !crate::host::apply::in_flight() && !crate::host::trace::in_flight() {
                    std::process::exit(128 + number);
                }
            }
        });
    }
    Ok(())
}

/// Runs one verb to completion.
pub async fn run(cli: Cli, command: Command) -> Result<()> {
    if !matches!(command, Command::Tui | Command::Sandbox { .. }) {
        guard_transactions()?;
    }
    let paths = Paths::resolve(cli.home.as_deref())?;
    if matches!(command, Command::Tui) {
        return tui(paths, &cli.tui).await;
    }
    let host = crate::host::connect()
        .await
        .wrap_err("cannot open a netlink connection")?;
    let backend = Backend::new(paths, host);
    match command {
        Command::List { all, json } => list::run(&backend, all, json).await,
        Command::Define { file } => define(&backend, &file).await,
        Command::Dumpxml { name } => {
            let def = backend.load_def(&name)?;
            out!("{}", model::format_network_xml(&def))?;
            Ok(())
        }
        Command::Undefine { name } => {
            backend.undefine(&name)?;
            outln!("Network {name} has been undefined")?;
            Ok(())
        }
        Command::Autostart { name, disable } => {
            backend.set_autostart(&name, !disable)?;
            let state = if disable { "unmarked" } else { "marked" };
            outln!("Network {name} {state} as autostarted")?;
            Ok(())
        }
        Command::AutostartAll {
            supervise,
            interval_ms,
        } => {
            let started = autostart_all(&backend).await;
            if supervise {
                supervise_forever(&backend, interval_ms).await;
            }
            started
        }
        Command::Edit { name, file } => {
            let xml = read_input(&file)?;
            let said = backend.edit_network(&name, &xml, |_, _| {}).await?;
            outln!("{said}")?;
            Ok(())
        }
        Command::Pin(args) => pin(&backend, args).await,
        Command::Unpin { network, host } => {
            let key: model::PinKey = host.parse().map_err(|e| eyre!("unpin {host}: {e}"))?;
            let said = backend.unpin_host(&network, key).await?;
            outln!("{said}")?;
            Ok(())
        }
        Command::Update(args) => update(&backend, args).await,
        Command::Create(args) => create(&backend, args).await,
        Command::Start {
            name,
            dry_run,
            json,
        } => start(&backend, &name, dry_run, json).await,
        Command::Stop { name } => {
            let plan = backend.stop(&name, |_, _| {}).await?;
            for note in &plan.notes {
                eprintln!("note: {note}");
            }
            outln!("Network {name} stopped")?;
            Ok(())
        }
        Command::Leases { name, json } => leases::run(&backend, &name, json),
        Command::Attach {
            network,
            name,
            mac,
            json,
        } => macvtap::attach(&backend, &network, name, mac, json).await,
        Command::Detach { ifname } => macvtap::detach(&backend, &ifname).await,
        Command::Doctor { json, probe } => doctor::run(&backend, json, probe).await,
        Command::Why(args) => why::run(&backend, args).await,
        Command::MovePort {
            ifname,
            network,
            json,
        } => ports::move_port(&backend, &ifname, &network, json).await,
        Command::Forward(cmd) => forward::run(&backend, cmd).await,
        Command::Tui => tui(backend.paths().clone(), &cli.tui).await,
        Command::Sandbox { keep } => sandbox(keep, &cli.tui).await,
        Command::Ports {
            network,
            json,
            sample_ms,
        } => ports::ports(&backend, network.as_deref(), json, sample_ms).await,
        Command::Watch {
            network,
            json,
            interval_ms,
            count,
        } => ports::watch(&backend, network.as_deref(), json, interval_ms, count).await,
    }
}

/// `pin NETWORK MAC IP [--hostname H]` as before; pinning by host name alone and
/// `--replace` are not wired to the backend yet.
async fn pin(backend: &Backend, args: PinArgs) -> Result<()> {
    let (mac, ip) = args.mac_and_ip();
    let mac = mac
        .map(|m| m.parse::<model::MacAddr>())
        .transpose()
        .map_err(|e| eyre!("mac: {e}"))?;
    let ip: std::net::IpAddr = ip
        .parse()
        .map_err(|_| eyre!("ip: '{ip}' is not an IP address"))?;
    let said = backend
        .pin_host(
            &args.network,
            mac,
            args.hostname.as_deref(),
            ip,
            args.replace,
        )
        .await?;
    outln!("{said}")?;
    Ok(())
}

async fn update(backend: &Backend, args: args::UpdateArgs) -> Result<()> {
    let xml = match &args.xml {
        args::XmlSource::Inline(text) => text.clone(),
        args::XmlSource::File(path) => read_input(path)?,
    };
    let req = model::UpdateRequest {
        section: args.section,
        command: args.command,
        xml,
        parent_index: args.parent_index,
    };
    let target = (args.live || args.config).then_some(crate::backend::Target {
        live: args.live,
        config: args.config,
    });
    let said = backend.update_network(&args.network, &req, target).await?;
    outln!("{said}")?;
    Ok(())
}

fn tui_options(args: &TuiArgs) -> crate::tui::TuiOptions {
    crate::tui::TuiOptions {
        interval_ms: args.interval_ms.unwrap_or(0),
        bytes: args.bytes,
        theme: args.theme.clone(),
        config_path: args.config.clone(),
    }
}

/// The TUI wakes once a second and builds snapshots of a few hundred kilobytes. glibc would
/// serve each from fresh mmap'd pages and hand them back at once, so every tick paid page
/// faults on cold memory; keeping them in the heap makes the steady state cheap.
fn steady_allocator() {
    // SAFETY: mallopt only tunes glibc's allocator; called before the TUI's threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 8 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 << 20);
    }
}

/// The TUI on this host (or on the simulated one with `--demo`).
async fn tui(paths: Paths, args: &TuiArgs) -> Result<()> {
    let opts = tui_options(args);
    steady_allocator();
    if args.demo {
        return demo(opts, args.interval_ms.unwrap_or(1000)).await;
    }
    let connect = || async {
        let host = crate::host::connect()
            .await
            .wrap_err("cannot open a netlink connection")?;
        Ok(Backend::new(paths, host))
    };
    let interval = args.interval_ms.unwrap_or(1000);
    let source = crate::live::LiveSource::start_with(connect, interval, args.netns_suffix.clone())
        .wrap_err("cannot watch this host")?;
    crate::tui::run(source, opts).await
}

/// The TUI on the simulated host: the real backend and live views over an in-memory kernel,
/// whose files live in a private temporary folder removed on exit.
async fn demo(opts: crate::tui::TuiOptions, interval_ms: u64) -> Result<()> {
    let home = tempfile::Builder::new()
        .prefix("switchyard-demo-")
        .tempdir()
        .wrap_err("cannot make a folder for the simulated host")?;
    let step_delay = std::time::Duration::from_millis(120);
    let source = crate::live::demo::source(home.path(), interval_ms, step_delay)
        .wrap_err("cannot build the simulated host")?;
    let shown = crate::tui::run(source, opts).await;
    drop(home);
    shown
}

/// The TUI args passed on to the sandbox's TUI.
fn tui_argv(args: &TuiArgs) -> Vec<String> {
    let mut argv = Vec::new();
    if let Some(ms) = args.interval_ms {
        argv.extend(["--interval-ms".to_owned(), ms.to_string()]);
    }
    if args.bytes {
        argv.push("--bytes".to_owned());
    }
    if let Some(theme) = &args.theme {
        argv.extend(["--theme".to_owned(), theme.clone()]);
    }
    if let Some(config) = &args.config {
        argv.extend(["--config".to_owned(), config.display().to_string()]);
    }
    argv
}

async fn sandbox(keep: bool, args: &TuiArgs) -> Result<()> {
    let missing = crate::sandbox::missing_prerequisites();
    if !missing.is_empty() {
        let text = format!(
            "switchyard sandbox cannot build its world here; missing:\n  {}\nShowing the simulated host (--demo) instead.",
            missing.join("\n  ")
        );
        eprintln!("{text}");
        std::thread::sleep(std::time::Duration::from_secs(3));
        let shown = demo(tui_options(args), args.interval_ms.unwrap_or(1000)).await;
        eprintln!("{text}");
        return shown;
    }
    if !nix::unistd::geteuid().is_root() && !crate::sandbox::in_user_namespace() {
        // Unprivileged: the same command again, as root of a user namespace of our own.
        let err = crate::sandbox::reexec_in_user_namespace();
        return Err(color_eyre::eyre::eyre!(
            "cannot enter a user namespace: {err}"
        ));
    }
    let opts = crate::sandbox::SandboxOptions {
        keep,
        tui_args: tui_argv(args),
    };
    crate::sandbox::run(opts).await
}

/// Interface names and taken subnets of the host, for defaults and validation.
pub async fn observe_facts(backend: &Backend) -> Result<HostFacts> {
    Ok(host_facts(&backend.host().observe().await?))
}

/// The text of FILE, or of stdin for `-`. Reading stops one byte past the largest definition
/// accepted, so an oversized (or endless) input is refused by its size, not read whole.
fn read_input(file: &Path) -> Result<String> {
    let limit = model::MAX_XML_BYTES;
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut bytes = Vec::new();
    if file == Path::new("-") {
        std::io::stdin().take(cap).read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(file)
            .and_then(|f| f.take(cap).read_to_end(&mut bytes))
            .wrap_err_with(|| format!("cannot read {}", file.display()))?;
    }
    if bytes.len() > limit {
        return Err(eyre!(
            "{} is larger than {limit} bytes (1 MiB), the limit for a network definition",
            file.display()
        ));
    }
    String::from_utf8(bytes).map_err(|_| eyre!("{} is not UTF-8 text", file.display()))
}

/// Defines from XML. What libvirt accepts although it is dubious is defined too, with a
/// warning on stderr per problem.
async fn define(backend: &Backend, file: &Path) -> Result<()> {
    let xml = read_input(file)?;
    let host = backend.host().observe().await?;
    let def = backend.define_xml(&xml, &host_facts(&host))?;
    for problem in model::dubious(&def) {
        eprintln!("warning: {problem}");
    }
    outln!("Network {} defined from {}", def.name, file.display())?;
    for warning in backend.start_warnings(&def, &host) {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

async fn create(backend: &Backend, a: CreateArgs) -> Result<()> {
    let req = CreateRequest {
        name: a.name,
        mode: a.mode,
        bridge: a.bridge,
        ipv4: a.ipv4,
        dhcp: a.dhcp,
        ipv6: a.ipv6,
        forward_dev: a.forward_dev,
        devs: a.devs,
        domain: a.domain,
        stp: a.stp,
        mtu: a.mtu,
        autostart: a.autostart,
    };
    let facts = observe_facts(backend).await?;
    let def = backend.create(&req, &facts)?;
    let net = def.ipv4().map(|n| format!(" {n}")).unwrap_or_default();
    let bridge = def
        .bridge_name()
        .map(|b| format!(" on {b}"))
        .unwrap_or_default();
    outln!(
        "Network {} defined ({}{net}{bridge})",
        def.name,
        def.mode_name()
    )?;
    if a.start {
        start(backend, &def.name, false, false).await?;
    }
    Ok(())
}

async fn start(backend: &Backend, name: &str, dry_run: bool, json: bool) -> Result<()> {
    if dry_run {
        let (_, plan) = backend.plan_start(name).await?;
        if json {
            outln!("{}", serde_json::to_string_pretty(&plan)?)?;
        } else if plan.steps.is_empty() {
            outln!("Network {name} is running as defined: nothing to do")?;
        } else {
            out!("{plan}")?;
        }
        return Ok(());
    }
    let plan = backend.start(name, |_, _| {}).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&plan)?)?;
    } else if plan.steps.is_empty() {
        outln!("Network {name} is already running as defined")?;
    } else {
        outln!(
            "Network {name} started ({})",
            counted(plan.steps.len(), "step")
        )?;
    }
    Ok(())
}

/// Looks at the networks every `interval_ms` and starts any dead dnsmasq again, logging each
/// try; ends with the process (SIGTERM from the unit).
async fn supervise_forever(backend: &Backend, interval_ms: u64) {
    use crate::backend::supervise::Backoff;
    let mut backoff = Backoff::default();
    eprintln!("supervising the networks' dnsmasq processes every {interval_ms} ms");
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(interval_ms)).await;
        let Ok(obs) = crate::backend::Observation::take(backend.host()).await else {
            continue;
        };
        let Ok(statuses) = backend.statuses(&obs) else {
            continue;
        };
        let now = std::time::Instant::now();
        for (_, line) in backend
            .supervise_once(&statuses, &mut backoff, &[], now)
            .await
        {
            eprintln!("{line}");
        }
    }
}

async fn autostart_all(backend: &Backend) -> Result<()> {
    let mut failed = Vec::new();
    for name in backend.store.names()? {
        if !backend.store.autostart(&name) {
            continue;
        }
        match backend.start(&name, |_, _| {}).await {
            Ok(_) => outln!("Network {name} started")?,
            Err(e) => {
                eprintln!("Network {name}: {e}");
                failed.push(name);
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(eyre!("could not start: {}", failed.join(", ")))
    }
}

/// "1 step", "2 steps": a count with its noun in the right number.
pub fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Whether an error is a write to a reader that went away (`EPIPE`: `… | head`, `… | true`).
pub fn is_broken_pipe(report: &color_eyre::eyre::Report) -> bool {
    report.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// What the operator reads for an error: the message, then each cause the message does not
/// already say (an error that quotes its source would otherwise say it twice).
pub fn error_text(report: &color_eyre::eyre::Report) -> String {
    let mut text = format!("switchyard: {report}");
    for cause in report.chain().skip(1) {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(&format!("\n  caused by: {said}"));
        }
    }
    if let Some(fix) = fix_of(report) {
        text.push_str(&format!("\n  fix: {fix}"));
    }
    text
}

/// The fix-it line of the first backend or host error in the chain.
fn fix_of(report: &color_eyre::eyre::Report) -> Option<String> {
    report.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<crate::backend::BackendError>() {
            e.fix()
        } else {
            cause
                .downcast_ref::<crate::host::HostError>()
                .and_then(|e| e.fix())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_say_their_noun_in_the_right_number() {
        assert_eq!(counted(0, "step"), "0 steps");
        assert_eq!(counted(1, "step"), "1 step");
        assert_eq!(counted(12, "step"), "12 steps");
    }

    #[test]
    fn a_kernel_refusal_ends_with_what_to_do() {
        let e = crate::backend::BackendError::Host(crate::host::HostError::from_errno(
            "create bridge virbr9",
            libc::EPERM,
        ));
        let text = error_text(&color_eyre::eyre::Report::new(e));
        assert!(
            text.ends_with("\n  fix: run switchyard as root (sudo), or give it CAP_NET_ADMIN"),
            "{text}"
        );
    }

    #[test]
    fn a_cause_the_message_already_says_is_not_repeated() {
        let io = std::io::Error::from_raw_os_error(libc::ENOTDIR);
        let quoted = crate::store::StoreError::Io {
            path: "/etc/passwd/networks".into(),
            source: io,
        };
        let text = error_text(&color_eyre::eyre::Report::new(quoted));
        assert_eq!(
            text,
            "switchyard: /etc/passwd/networks: Not a directory (os error 20)"
        );
        let wrapped = Err::<(), _>(std::io::Error::from_raw_os_error(libc::ENOENT))
            .wrap_err("cannot read /x")
            .expect_err("an error");
        assert_eq!(
            error_text(&wrapped),
            "switchyard: cannot read /x\n  caused by: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn a_closed_reader_is_told_from_other_errors() {
        let pipe =
            color_eyre::eyre::Report::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&pipe));
        assert!(is_broken_pipe(&pipe.wrap_err("printing the list")));
        let other = color_eyre::eyre::Report::new(std::io::Error::from_raw_os_error(libc::EIO));
        assert!(!is_broken_pipe(&other));
    }
}
