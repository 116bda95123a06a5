//! Running a `why` fix the operator confirmed: each command an argument vector spawned
//! directly (no shell), its program one of [`FIX_PROGRAMS`](crate::model::why::FIX_PROGRAMS)
//! found on `PATH`, one after the other, stopping at the first that fails with its own words.

use std::process::Stdio;
use std::time::Duration;

use super::error::HostError;
use crate::model::why::{check_fix, Fix};

/// How long one command may take (firewall-cmd waits on D-Bus, ufw on its lock).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// [`check_fix`] as a host error: what the real host and the fake refuse alike.
pub fn check(commands: &[Vec<String>]) -> Result<(), HostError> {
    check_fix(commands).map_err(|reason| HostError::Invalid {
        op: "run the fix".into(),
        reason,
    })
}

/// Checks `commands` (see [`check_fix`]), then runs them in order.
pub async fn run(commands: &[Vec<String>]) -> Result<(), HostError> {
    check(commands)?;
    for argv in commands {
        run_one(argv, COMMAND_TIMEOUT).await?;
    }
    Ok(())
}

/// Spawns one argument vector and waits for it; a failure carries what it wrote to stderr.
/// Not checked here: [`run`] is the only way in from outside this module.
async fn run_one(argv: &[String], timeout: Duration) -> Result<(), HostError> {
    let op = format!("run {}", Fix::command_text(argv));
    let (program, args) = argv.split_first().ok_or_else(|| HostError::Invalid {
        op: op.clone(),
        reason: "an empty command".into(),
    })?;
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => HostError::Other {
                op: op.clone(),
                errno: e.raw_os_error(),
                message: format!("{program} is not installed (not found on PATH)"),
            },
            _ => HostError::from_io(op.clone(), &e),
        })?;
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(out) => out.map_err(|e| HostError::from_io(op.clone(), &e))?,
        Err(_) => {
            return Err(HostError::Other {
                op,
                errno: None,
                message: format!("no answer within {} s; stopped", timeout.as_secs()),
            })
        }
    };
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let said = if stderr.is_empty() { stdout } else { stderr };
    let status = match out.status.code() {
        Some(c) => format!("exit status {c}"),
        None => "killed by a signal".into(),
    };
    Err(HostError::Other {
        op,
        errno: None,
        message: if said.is_empty() {
            status
        } else {
            format!("{status}: {said}")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn programs_off_the_list_are_refused_before_anything_runs() {
        let rt = rt();
        for cmds in [
            vec![argv(&["sh", "-c", "touch /tmp/never"])],
            vec![argv(&["/sbin/iptables", "-L"])],
            vec![],
        ] {
            let err = rt.block_on(run(&cmds)).expect_err("refused");
            assert!(
                matches!(err, HostError::Invalid { .. }),
                "{cmds:?}: {err:?}"
            );
        }
        // The whole list is checked first: an allowed command before a refused one does not
        // run either (it would fail here, unprivileged or without the program).
        let err = rt
            .block_on(run(&[
                argv(&["nft", "list", "tables"]),
                argv(&["rm", "-rf", "/x"]),
            ]))
            .expect_err("refused");
        assert!(err.to_string().contains("'rm' is not a program"), "{err}");
    }

    #[test]
    fn a_failing_command_says_what_it_wrote_and_its_words_are_not_a_shells() {
        let rt = rt();
        // `sh` only to make a failure with stderr; `run` itself never lets it through.
        let err = rt
            .block_on(run_one(
                &argv(&["sh", "-c", "echo 'chain not found' >&2; exit 3"]),
                COMMAND_TIMEOUT,
            ))
            .expect_err("fails");
        let text = err.to_string();
        assert!(text.contains("exit status 3: chain not found"), "{text}");
        // A word with shell syntax is one argument, passed as it is.
        let ok = rt.block_on(run_one(
            &argv(&["test", "$(reboot); x", "=", "$(reboot); x"]),
            COMMAND_TIMEOUT,
        ));
        assert_eq!(ok, Ok(()));
        let missing = rt
            .block_on(run_one(
                &argv(&["switchyard-no-such-program"]),
                COMMAND_TIMEOUT,
            ))
            .expect_err("missing");
        assert!(missing.to_string().contains("not installed"), "{missing}");
        let slow = rt
            .block_on(run_one(&argv(&["sleep", "5"]), Duration::from_millis(100)))
            .expect_err("timed out");
        assert!(slow.to_string().contains("no answer within"), "{slow}");
    }
}
