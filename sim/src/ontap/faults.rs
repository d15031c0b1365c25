//! Injected faults: what a fault matches and does, and the installed
//! slots that count its remaining hits (kept per cluster in the world,
//! consulted by the server on every `/api` request).

use std::time::Duration;

use axum::http::Method;

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer HTTP 500 with an ONTAP error body.
    Http500,
    /// Sleep this long, then answer normally.
    Delay(Duration),
    /// Close the connection without answering.
    DropConnection,
    /// The request is accepted, but the job it starts ends in `failure`
    /// with this code and message, and the change is not applied.
    JobFailure {
        /// ONTAP error code.
        code: u64,
        /// Error message.
        message: String,
    },
}

/// A fault for the requests of one cluster that match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Only this method (`None` = any).
    pub method: Option<Method>,
    /// Only paths (with query) containing this text (`""` = all `/api` requests).
    pub path_contains: String,
    /// What happens.
    pub kind: FaultKind,
    /// How many matching requests it hits (`None` = until cleared).
    pub times: Option<u32>,
}

/// An installed fault and how many hits remain.
#[derive(Debug, Clone)]
pub struct FaultSlot {
    fault: Fault,
    remaining: Option<u32>,
}

impl FaultSlot {
    /// A fault with all its hits left.
    pub fn new(fault: Fault) -> FaultSlot {
        FaultSlot {
            remaining: fault.times,
            fault,
        }
    }
}

/// Takes the first fault in `faults` that matches (spending one hit).
pub fn take(faults: &mut Vec<FaultSlot>, method: &Method, path: &str) -> Option<FaultKind> {
    let idx = faults.iter().position(|s| {
        s.fault.method.as_ref().is_none_or(|m| m == method)
            && path.contains(&s.fault.path_contains)
            && s.remaining.is_none_or(|n| n > 0)
    })?;
    let slot = &mut faults[idx];
    let kind = slot.fault.kind.clone();
    if let Some(n) = slot.remaining.as_mut() {
        *n -= 1;
        if *n == 0 {
            faults.remove(idx);
        }
    }
    Some(kind)
}
