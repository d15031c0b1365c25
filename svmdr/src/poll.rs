//! One bounded poll loop for every wait in the workspace.
//!
//! Waiting on ONTAP jobs, on a relationship's state, on Trident's backends,
//! on a Velero restore or on the storage behind a PVC all have the same
//! shape: try, and either stop with a result, or sleep and try again until a
//! deadline. [`poll_until`] is that loop, once. Callers keep their own
//! meaning: what an attempt reads, what "done" is, and how a timeout is
//! reported (each maps [`PollError::TimedOut`] to its own error, with the
//! last observation it carries).
//!
//! Rules every caller gets:
//! - the first attempt is made at once; no wait is unbounded;
//! - a sleep never runs past the deadline, and one attempt is made at the
//!   deadline, so a condition that becomes true while sleeping is seen;
//! - the time an attempt takes counts against the deadline;
//! - time is tokio's clock, so tests can pause it.

use std::time::Duration;

use tokio::time::Instant;

/// How often to try, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Wait after the first pending attempt.
    pub first: Duration,
    /// The longest wait between attempts (the back-off cap).
    pub cap: Duration,
    /// How long to keep trying, from the first attempt.
    pub timeout: Duration,
}

impl Pace {
    /// The smallest wait between attempts, so that a zero interval cannot
    /// spin.
    pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

    /// The same wait, `interval`, between attempts.
    #[must_use]
    pub fn every(interval: Duration, timeout: Duration) -> Self {
        let interval = interval.max(Self::MIN_INTERVAL);
        Self {
            first: interval,
            cap: interval,
            timeout,
        }
    }

    /// A wait that starts at `first` and doubles up to `cap`.
    #[must_use]
    pub fn backoff(first: Duration, cap: Duration, timeout: Duration) -> Self {
        let first = first.max(Self::MIN_INTERVAL);
        Self {
            first,
            cap: cap.max(first),
            timeout,
        }
    }

    /// The wait after one of `current`: doubled, within the cap.
    #[must_use]
    pub fn next(&self, current: Duration) -> Duration {
        (current * 2).min(self.cap)
    }
}

/// What one attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<T, P> {
    /// The wait is over, with this result.
    Done(T),
    /// Not yet; `P` is what was seen, kept for the timeout report.
    Pending(P),
}

/// Where an attempt is in the wait, passed to each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Time since the first attempt started.
    pub elapsed: Duration,
    /// Time left before the deadline (zero on the last attempt).
    pub left: Duration,
}

/// Why a poll ended without a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollError<E, P> {
    /// An attempt failed; polling stopped at once.
    Failed(E),
    /// The deadline passed while still pending.
    TimedOut {
        /// How long was waited.
        waited: Duration,
        /// What the last attempt saw.
        last: P,
        /// How many attempts were made.
        attempts: u32,
    },
}

impl<E, P> PollError<E, P> {
    /// Maps the timeout case, keeping failures as they are.
    pub fn or_timeout(self, f: impl FnOnce(Duration, P) -> E) -> E {
        match self {
            Self::Failed(e) => e,
            Self::TimedOut { waited, last, .. } => f(waited, last),
        }
    }
}

/// Calls `attempt` until it is done, fails, or `pace.timeout` has passed.
///
/// # Errors
/// [`PollError::Failed`] with the first error an attempt returns;
/// [`PollError::TimedOut`] with the last pending observation.
///
/// # Caveats
/// rustc cannot yet prove the future of an async closure that borrows to be
/// `Send` for every lifetime, so a future awaiting `poll_until` with such a
/// closure cannot be `tokio::spawn`ed. A wait that must stay spawnable
/// drives a [`Poller`] in its own loop instead (same rules).
pub async fn poll_until<T, P, E>(
    pace: Pace,
    mut attempt: impl AsyncFnMut(Tick) -> Result<Attempt<T, P>, E>,
) -> Result<T, PollError<E, P>> {
    let mut poller = Poller::start(pace);
    loop {
        let last = match attempt(poller.tick()).await {
            Ok(Attempt::Done(t)) => return Ok(t),
            Ok(Attempt::Pending(p)) => p,
            Err(e) => return Err(PollError::Failed(e)),
        };
        poller.pending(last).await?;
    }
}

/// [`poll_until`] for an attempt that is a closure returning a future that
/// borrows nothing from the closure. Its wait is `Send` whenever that future
/// is, which a server handler needs (see [`poll_until`]'s caveats).
///
/// # Errors
/// As [`poll_until`].
pub async fn poll_until_fn<T, P, E, Fut>(
    pace: Pace,
    mut attempt: impl FnMut(Tick) -> Fut,
) -> Result<T, PollError<E, P>>
where
    Fut: Future<Output = Result<Attempt<T, P>, E>>,
{
    let mut poller = Poller::start(pace);
    loop {
        let last = match attempt(poller.tick()).await {
            Ok(Attempt::Done(t)) => return Ok(t),
            Ok(Attempt::Pending(p)) => p,
            Err(e) => return Err(PollError::Failed(e)),
        };
        poller.pending(last).await?;
    }
}

/// The pace of one wait, for a caller that runs the attempts in its own
/// loop (so its future stays `Send`, see [`poll_until`]'s caveats):
/// [`Poller::tick`] before each attempt, [`Poller::pending`] after one that
/// is not done. [`poll_until`] runs on it, so both follow the same rules.
#[derive(Debug)]
pub struct Poller {
    pace: Pace,
    start: Instant,
    delay: Duration,
    attempts: u32,
}

impl Poller {
    /// Starts the clock of a wait paced by `pace`.
    #[must_use]
    pub fn start(pace: Pace) -> Self {
        Self {
            pace,
            start: Instant::now(),
            delay: pace.first.max(Pace::MIN_INTERVAL),
            attempts: 0,
        }
    }

    /// Begins the next attempt.
    pub fn tick(&mut self) -> Tick {
        self.attempts += 1;
        let elapsed = self.start.elapsed();
        Tick {
            attempt: self.attempts,
            elapsed,
            left: self.pace.timeout.saturating_sub(elapsed),
        }
    }

    /// After an attempt that saw `last` and is not done: sleeps until the
    /// next attempt (never past the deadline).
    ///
    /// # Errors
    /// [`PollError::TimedOut`] with `last` once the deadline has passed.
    pub async fn pending<E, P>(&mut self, last: P) -> Result<(), PollError<E, P>> {
        let elapsed = self.start.elapsed();
        if elapsed >= self.pace.timeout {
            return Err(PollError::TimedOut {
                waited: elapsed,
                last,
                attempts: self.attempts,
            });
        }
        tokio::time::sleep(self.delay.min(self.pace.timeout - elapsed)).await;
        self.delay = self.pace.next(self.delay);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn done_on_the_first_attempt_does_not_sleep() {
        let start = tokio::time::Instant::now();
        let r: Result<u8, PollError<(), ()>> =
            poll_until(Pace::every(MS * 100, MS * 1000), async |_| {
                Ok(Attempt::Done(7))
            })
            .await;
        assert_eq!(r, Ok(7));
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn pending_then_done_counts_attempts() {
        let mut seen = Vec::new();
        let r: Result<u32, PollError<(), u32>> =
            poll_until(Pace::every(MS * 100, MS * 10_000), async |t: Tick| {
                seen.push(t.attempt);
                Ok(if t.attempt == 3 {
                    Attempt::Done(t.attempt)
                } else {
                    Attempt::Pending(t.attempt)
                })
            })
            .await;
        assert_eq!(r, Ok(3));
        assert_eq!(seen, vec![1, 2, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_stops_at_once() {
        let mut calls = 0;
        let r: Result<(), PollError<&str, ()>> =
            poll_until(Pace::every(MS * 100, MS * 10_000), async |_| {
                calls += 1;
                Err("boom")
            })
            .await;
        assert_eq!(r, Err(PollError::Failed("boom")));
        assert_eq!(calls, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_with_the_last_observation_and_one_attempt_at_the_deadline() {
        let start = tokio::time::Instant::now();
        let r: Result<(), PollError<(), u32>> =
            poll_until(Pace::every(MS * 300, MS * 1000), async |t: Tick| {
                Ok(Attempt::Pending(t.attempt))
            })
            .await;
        // Attempts at 0, 300, 600, 900 and (the sleep cut short) 1000 ms.
        match r {
            Err(PollError::TimedOut { last, attempts, .. }) => {
                assert_eq!((last, attempts), (5, 5));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert_eq!(start.elapsed(), MS * 1000);
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_doubles_to_the_cap() {
        let mut at = Vec::new();
        let start = tokio::time::Instant::now();
        let _: Result<(), PollError<(), ()>> =
            poll_until(Pace::backoff(MS * 100, MS * 400, MS * 1500), async |_| {
                at.push(start.elapsed().as_millis());
                Ok(Attempt::Pending(()))
            })
            .await;
        assert_eq!(at, vec![0, 100, 300, 700, 1100, 1500]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_timeout_makes_exactly_one_attempt() {
        let r: Result<(), PollError<(), ()>> =
            poll_until(Pace::every(MS * 100, Duration::ZERO), async |_| {
                Ok(Attempt::Pending(()))
            })
            .await;
        assert!(matches!(r, Err(PollError::TimedOut { attempts: 1, .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_interval_does_not_spin() {
        let mut calls = 0u32;
        let _: Result<(), PollError<(), ()>> =
            poll_until(Pace::every(Duration::ZERO, MS * 100), async |_| {
                calls += 1;
                Ok(Attempt::Pending(()))
            })
            .await;
        assert!(calls <= 11, "{calls} attempts in 100 ms");
    }

    #[tokio::test(start_paused = true)]
    async fn a_poller_loop_keeps_the_rules_and_can_be_spawned() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let shared = seen.clone();
        // Borrows across the awaits, as a wait on a client does: the
        // spawned future must still be `Send`.
        let task = tokio::spawn(async move {
            let log = &shared;
            let mut poller = Poller::start(Pace::every(MS * 300, MS * 1000));
            loop {
                let tick = poller.tick();
                if let Ok(mut l) = log.lock() {
                    l.push(tick.elapsed.as_millis());
                }
                if let Err(e) = poller.pending::<(), u32>(tick.attempt).await {
                    return e;
                }
            }
        });
        let ended = task.await.ok();
        assert!(
            matches!(
                ended,
                Some(PollError::TimedOut {
                    last: 5,
                    attempts: 5,
                    ..
                })
            ),
            "{ended:?}"
        );
        let at = seen.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(at, vec![0, 300, 600, 900, 1000]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_fn_form_keeps_the_same_schedule_and_is_send() {
        fn assert_send<F: Future + Send>(f: F) -> F {
            f
        }
        let start = tokio::time::Instant::now();
        let shared = std::sync::Mutex::new(Vec::new());
        let seen = &shared;
        let r: Result<(), PollError<(), u32>> = assert_send(poll_until_fn(
            Pace::every(MS * 300, MS * 1000),
            move |t: Tick| async move {
                seen.lock().unwrap().push(t.elapsed.as_millis());
                Ok(Attempt::Pending(t.attempt))
            },
        ))
        .await;
        assert!(matches!(
            r,
            Err(PollError::TimedOut {
                last: 5,
                attempts: 5,
                ..
            })
        ));
        assert_eq!(*shared.lock().unwrap(), vec![0, 300, 600, 900, 1000]);
        assert_eq!(start.elapsed(), MS * 1000);
        let done: Result<u8, PollError<(), ()>> =
            poll_until_fn(Pace::every(MS, MS), |_| async { Ok(Attempt::Done(3)) }).await;
        assert_eq!(done, Ok(3));
        let failed: Result<(), PollError<&str, ()>> =
            poll_until_fn(Pace::every(MS, MS), |_| async { Err("boom") }).await;
        assert_eq!(failed, Err(PollError::Failed("boom")));
    }

    #[test]
    fn or_timeout_maps_only_the_timeout() {
        let t: PollError<String, u8> = PollError::TimedOut {
            waited: MS,
            last: 4,
            attempts: 2,
        };
        assert_eq!(t.or_timeout(|_, l| format!("late {l}")), "late 4");
        let f: PollError<String, u8> = PollError::Failed("x".into());
        assert_eq!(f.or_timeout(|_, _| "late".into()), "x");
    }
}
