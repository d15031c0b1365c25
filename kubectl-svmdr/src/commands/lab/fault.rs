//! `kubectl svmdr lab fault NAME`: puts a fault into the lab that `lab up`
//! runs, through a Unix socket in its state dir (`lab.sock`, one line each
//! way: the fault's name, then `ok <what changed>` or `error <why>`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use sim::lab::Lab;
use sim::lab::faults::LabFault;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::exit::Outcome;

/// The socket's file name in the state dir.
pub const SOCKET: &str = "lab.sock";

/// `lab fault`'s argument: a [`LabFault`] by its name, its description
/// as the value's help (one list, in `sim`, for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultName(pub LabFault);

const FAULT_NAMES: [FaultName; LabFault::ALL.len()] = {
    let mut out = [FaultName(LabFault::PrimaryDown); LabFault::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = FaultName(LabFault::ALL[i].0);
        i += 1;
    }
    out
};

impl clap::ValueEnum for FaultName {
    fn value_variants<'a>() -> &'a [Self] {
        &FAULT_NAMES
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.name()).help(self.0.about()))
    }
}

/// Flags of `lab fault`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The fault to inject (or repair).
    #[arg(value_enum)]
    pub fault: FaultName,
    /// State dir of the lab (as given to `lab up`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Serves faults for `lab` on `<dir>/lab.sock` until the runtime stops.
///
/// # Errors
/// The socket cannot be bound.
pub fn serve(dir: &Path, lab: Arc<Lab>) -> anyhow::Result<()> {
    let path = dir.join(SOCKET);
    let _ = std::fs::remove_file(&path);
    let listener =
        UnixListener::bind(&path).with_context(|| format!("binding {}", path.display()))?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let lab = lab.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut line = String::new();
                let read = tokio::time::timeout(
                    Duration::from_secs(5),
                    BufReader::new(r).read_line(&mut line),
                )
                .await;
                let answer = match (read, LabFault::parse(&line)) {
                    (Ok(Ok(_)), Some(f)) => match lab.apply_fault(f) {
                        Ok(what) => {
                            eprintln!("[simulated lab]  FAULT  {}: {what}", f.name());
                            format!("ok {what}\n")
                        }
                        Err(e) => format!("error {e:#}\n"),
                    },
                    _ => format!("error unknown fault {:?}\n", line.trim()),
                };
                let _ = w.write_all(answer.as_bytes()).await;
            });
        }
    });
    Ok(())
}

/// Sends the fault to the running lab.
///
/// # Errors
/// No lab runs in the dir, or it refused the fault.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let dir = args.dir.clone().unwrap_or_else(super::default_dir);
    let path = dir.join(SOCKET);
    let rt = super::runtime()?;
    let answer = rt.block_on(async {
        let mut s = tokio::time::timeout(Duration::from_secs(5), UnixStream::connect(&path))
            .await
            .map_err(|_| anyhow::anyhow!("no answer from the lab within 5s"))?
            .with_context(|| {
                format!(
                    "no simulated lab runs with state dir {} (no {}): start one with `kubectl svmdr lab up{}`",
                    dir.display(),
                    path.display(),
                    args.dir
                        .as_ref()
                        .map(|d| format!(" --dir {}", d.display()))
                        .unwrap_or_default()
                )
            })?;
        s.write_all(format!("{}\n", args.fault.0.name()).as_bytes())
            .await?;
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), BufReader::new(s).read_line(&mut line))
            .await
            .map_err(|_| anyhow::anyhow!("the lab did not answer within 10s"))??;
        anyhow::Ok(line)
    })?;
    match answer.trim().split_once(' ') {
        Some(("ok", what)) => {
            println!("simulated lab: {what}");
            Ok(Outcome::Ok)
        }
        Some(("error", why)) => bail!("the simulated lab refused the fault: {why}"),
        _ => bail!("unexpected answer from the simulated lab: {answer:?}"),
    }
}
