//! Progress on stderr with indicatif: the CLI's [`Reporter`].
//!
//! Bars and spinners are drawn only when stderr is a terminal, the output is
//! not `-o json|yaml` and `-v` is off (debug logs and bars would interleave).
//! Notes and step results are always printed to stderr as plain lines, so a
//! log of a non-interactive run still says what happened.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use svmdr::report::{Reporter, StepOutcome};

/// The CLI reporter.
pub struct CliReporter {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    show_bars: bool,
    quiet_steps: bool,
}

impl CliReporter {
    /// A reporter; `show_bars` decides whether bars are drawn at all.
    pub fn new(show_bars: bool) -> Self {
        let multi = MultiProgress::with_draw_target(if show_bars {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        Self {
            multi,
            bars: Mutex::new(HashMap::new()),
            show_bars,
            quiet_steps: false,
        }
    }

    /// Whether bars should be drawn for this run.
    pub fn should_show_bars(machine_output: bool, verbose: u8) -> bool {
        !machine_output && verbose == 0 && std::io::stderr().is_terminal()
    }

    /// Don't print step lines (the command prints its own summary).
    pub fn with_quiet_steps(mut self, quiet: bool) -> Self {
        self.quiet_steps = quiet;
        self
    }

    /// Prints a line on stderr without tearing a bar.
    pub fn line(&self, text: &str) {
        if self.show_bars {
            self.multi.suspend(|| eprintln!("{text}"));
        } else {
            eprintln!("{text}");
        }
    }

    fn bar(&self, task: &str, total: Option<u64>) -> Option<ProgressBar> {
        let mut bars = self.bars.lock().ok()?;
        let bar = bars.entry(task.to_string()).or_insert_with(|| {
            let bar = match total {
                Some(t) => {
                    let b = self.multi.add(ProgressBar::new(t));
                    b.set_style(
                        ProgressStyle::with_template(
                            "{prefix} [{bar:30}] {bytes}/{total_bytes} {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    b
                }
                None => {
                    let b = self.multi.add(ProgressBar::new_spinner());
                    b.set_style(
                        ProgressStyle::with_template("{spinner} {prefix} {bytes} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                }
            };
            bar.set_prefix(task.to_string());
            bar
        });
        if let Some(t) = total {
            bar.set_length(t);
        }
        Some(bar.clone())
    }
}

impl Reporter for CliReporter {
    fn note(&self, message: &str) {
        self.line(&format!("note: {message}"));
    }

    fn warning(&self, message: &str) {
        self.line(&format!("warning: {message}"));
    }

    fn step_started(&self, step: &str) {
        tracing::debug!(step, "step started");
    }

    fn step_finished(&self, step: &str, outcome: &StepOutcome) {
        if self.quiet_steps {
            return;
        }
        let text = match outcome {
            StepOutcome::Done => format!("  done          {step}"),
            StepOutcome::AlreadyDone => format!("  already done  {step}"),
            StepOutcome::Skipped(why) => format!("  skipped       {step}: {why}"),
            StepOutcome::Planned(what) => format!("  would do      {step}: {what}"),
            StepOutcome::Failed(why) => format!("  FAILED        {step}: {why}"),
        };
        self.line(&text);
    }

    fn progress(&self, task: &str, done: u64, total: Option<u64>, message: &str) {
        if !self.show_bars {
            return;
        }
        if let Some(bar) = self.bar(task, total) {
            bar.set_position(done);
            bar.set_message(message.to_string());
        }
    }

    fn progress_finished(&self, task: &str) {
        let bar = self.bars.lock().ok().and_then(|mut b| b.remove(task));
        if let Some(bar) = bar {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_reporter_accepts_everything() {
        let r = CliReporter::new(false);
        r.progress("initialize", 10, Some(100), "transferring");
        r.progress_finished("initialize");
        r.step_finished("cluster peer", &StepOutcome::AlreadyDone);
        assert!(!CliReporter::should_show_bars(true, 0));
        assert!(!CliReporter::should_show_bars(false, 1));
    }
}
