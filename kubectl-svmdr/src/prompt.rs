//! Questions to the user: only on a terminal; otherwise `--yes` is required
//! (for confirmations) or the value must come from config/env (credentials).

use std::io::IsTerminal as _;

use anyhow::Context as _;
use svmdr::secret::Secret;

use crate::exit::Refused;

/// Whether we may ask: stdin and stderr are terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks for confirmation. `--yes` answers yes; without a terminal the
/// command is refused (exit 3) with a hint to pass `--yes`.
///
/// # Errors
/// [`Refused`] when declined or when no terminal is available.
pub fn confirm(question: &str, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !interactive() {
        return Err(Refused(format!(
            "{question} needs confirmation and stdin is not a terminal: re-run with --yes"
        ))
        .into());
    }
    let ok = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .context("reading the confirmation")?;
    if ok {
        Ok(())
    } else {
        Err(Refused(format!("{question}: declined")).into())
    }
}

/// Asks for ONTAP cluster-admin credentials on a terminal; `None` when not
/// interactive or the user gave nothing.
pub struct TerminalCredentialPrompt;

impl svmdr::site::CredentialPrompt for TerminalCredentialPrompt {
    fn ask(&self, site: &str) -> Option<(String, Secret)> {
        if !interactive() {
            return None;
        }
        let username: String = dialoguer::Input::new()
            .with_prompt(format!("ONTAP cluster-admin user for {site}"))
            .default("admin".to_string())
            .interact_text()
            .ok()?;
        let password = dialoguer::Password::new()
            .with_prompt(format!("Password for {username} on {site}"))
            .interact()
            .ok()?;
        (!password.is_empty()).then(|| (username, Secret::new(password)))
    }
}
