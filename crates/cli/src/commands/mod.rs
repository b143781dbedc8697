//! One module per command family.

pub(crate) mod check;
pub(crate) mod generate;
pub(crate) mod init;
pub(crate) mod learn;
pub(crate) mod push;
pub(crate) mod refresh;
pub(crate) mod secret;
pub(crate) mod session;
pub(crate) mod status;
pub(crate) mod team;
pub(crate) mod validate;

use std::io::Read as _;

use sessionkeeper_core::secret::Secret;

use crate::context::Failure;

/// All of stdin, for secrets and sessions (never argv), in a buffer zeroed when dropped.
pub(crate) fn read_stdin(what: &str) -> Result<Secret, Failure> {
    use std::io::IsTerminal as _;
    if std::io::stdin().is_terminal() {
        eprintln!("Paste {what}, then press Ctrl-D:");
    }
    let mut text = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::new(1, format!("cannot read {what} from stdin: {e}")))?;
    Ok(Secret::from_zeroizing(text))
}

/// The terminal's echo turned off for as long as this lives; restored when it is dropped.
pub(crate) struct NoEcho {
    #[cfg(unix)]
    before: Option<rustix::termios::Termios>,
}

impl NoEcho {
    pub(crate) fn on_stdin() -> Self {
        #[cfg(unix)]
        {
            use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
            let stdin = std::io::stdin();
            let before = tcgetattr(&stdin).ok();
            if let Some(before) = &before {
                let mut quiet = before.clone();
                quiet.local_modes.remove(LocalModes::ECHO);
                let _ = tcsetattr(&stdin, OptionalActions::Now, &quiet);
            }
            Self { before }
        }
        #[cfg(not(unix))]
        Self {}
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(before) = &self.before {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                before,
            );
        }
    }
}
