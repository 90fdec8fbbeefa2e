//! Training from Python: the fit runs on a worker thread with the GIL released, while the
//! calling thread watches for Ctrl-C and runs the Python progress callback between
//! iterations.
//!
//! After every iteration the fit thread hands its report to the calling thread and waits for
//! an answer; the calling thread takes the GIL, checks for signals, calls the callback, and
//! answers "go on" unless one of them raised. While an iteration runs, the calling thread
//! checks for signals every 50 ms, so Ctrl-C stops the fit at the end of the iteration in
//! progress (with `KeyboardInterrupt`), and an exception raised by the callback stops it
//! after the iteration that called it (with that exception).

use std::ops::ControlFlow;
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::Duration;

use alternator::{Als, Error, Interactions, IterationReport, Model};
use pyo3::prelude::*;

use crate::errors::{Names, to_py};

/// How often the calling thread looks for Ctrl-C while an iteration runs.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Trains `als` on `data` (see the module docs); `progress(iteration, seconds, loss)` is
/// called after every iteration (1-based).
pub fn run(
    py: Python<'_>,
    als: Als<'_>,
    data: &Interactions,
    progress: Option<Py<PyAny>>,
    names: Names,
) -> PyResult<Model> {
    let (report_tx, report_rx) = sync_channel::<IterationReport>(0);
    let (answer_tx, answer_rx) = sync_channel::<bool>(0);
    let mut als = als.on_iteration_control(move |r| {
        if report_tx.send(r.clone()).is_err() {
            return ControlFlow::Break(());
        }
        match answer_rx.recv() {
            Ok(true) => ControlFlow::Continue(()),
            _ => ControlFlow::Break(()),
        }
    });
    let (outcome, pending) = py.detach(move || {
        let mut pending: Option<PyErr> = None;
        let outcome = std::thread::scope(|s| {
            let worker = s.spawn(move || als.fit(data));
            loop {
                match report_rx.recv_timeout(SIGNAL_POLL) {
                    Ok(report) => {
                        let go = Python::attach(|py| {
                            if pending.is_none() {
                                pending = py.check_signals().err();
                            }
                            if let (None, Some(cb)) = (&pending, &progress) {
                                let args = (report.iteration, report.seconds, report.loss);
                                pending = cb.call1(py, args).err();
                            }
                            pending.is_none()
                        });
                        // The worker may have stopped already; nothing to tell it then.
                        let _ = answer_tx.send(go);
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        if pending.is_none() {
                            pending = Python::attach(|py| py.check_signals().err());
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            worker.join()
        });
        (outcome, pending)
    });
    match outcome {
        Ok(Ok(model)) => match pending {
            None => Ok(model),
            Some(p) => Err(p),
        },
        Ok(Err(e)) => match (e, pending) {
            (Error::Cancelled { .. }, Some(p)) => Err(p),
            (e, _) => Err(to_py(e, names)),
        },
        Err(_) => Err(to_py(Error::Internal("the training thread panicked".into()), names)),
    }
}
