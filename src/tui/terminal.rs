//! Terminal setup and restore. The guard restores on drop (normal exit, error, SIGTERM,
//! SIGHUP) and a chained panic hook restores before the panic message is printed. Restoring
//! twice is harmless, and errors while restoring are ignored (after an SSH drop the terminal
//! is gone and writes fail).

use std::io::{self, stdout, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use crossterm::cursor::{Hide, Show};
use crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, KeyboardEnhancementFlags, PopKeyboardEnhancementFlags,
    PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, supports_keyboard_enhancement, EnterAlternateScreen,
    LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

/// Whether the terminal is currently in TUI mode (raw, alternate screen).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether keyboard enhancement flags were pushed (and must be popped on restore).
static ENHANCED: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back as it was when dropped.
#[derive(Debug)]
pub struct TerminalGuard {
    _private: (),
}

/// The terminal type the TUI draws on.
pub type Tty = Terminal<CrosstermBackend<Stdout>>;

impl TerminalGuard {
    /// Enter raw mode and the alternate screen, with mouse reporting.
    pub fn enter() -> io::Result<(TerminalGuard, Tty)> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        // From here on, an early return drops the guard, which restores.
        let guard = TerminalGuard { _private: () };
        execute!(stdout(), EnterAlternateScreen, EnableMouseCapture, Hide)?;
        // Without it, two Esc presses read together ("\x1b\x1b") arrive as one Esc, so a
        // quick double Esc in a wizard went back one step only; terminals with the kitty
        // keyboard protocol then send each Esc as its own unambiguous sequence.
        if matches!(supports_keyboard_enhancement(), Ok(true)) {
            let flags = KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES;
            execute!(stdout(), PushKeyboardEnhancementFlags(flags))?;
            ENHANCED.store(true, Ordering::SeqCst);
        }
        let terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok((guard, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leave TUI mode if it is on; safe to call any number of times, from any path.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        if ENHANCED.swap(false, Ordering::SeqCst) {
            let _ = execute!(stdout(), PopKeyboardEnhancementFlags);
        }
        let _ = execute!(stdout(), DisableMouseCapture, LeaveAlternateScreen, Show);
        let _ = disable_raw_mode();
    }
}

/// Chain a panic hook that restores the terminal first, so the message is readable.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
