//! Turning a panic inside user model code into a typed error with its message and location.
//!
//! A model's `log_density` can panic: an operator of `infer-ad` on shapes that do not
//! broadcast, an index out of range, an `expect` in the user's code. The [`Sampler`] runs each
//! chain under [`std::panic::catch_unwind`] and returns such a panic as
//! [`McmcError::ChainPanicked`] carrying the panic's message and the source location it
//! names (a [`PanicLocation`]: the user's file and line, since `infer-ad`'s operators are
//! `#[track_caller]`).
//!
//! The location is captured by a process-wide panic hook installed once, on the first
//! sampling run: it records the location of a panic in a thread-local slot — only on a
//! thread that is currently running a chain — and then calls the hook that was installed
//! before it (by default, the one that prints the panic to stderr), so other hooks keep
//! working. Because the slot is per thread, chains panicking at the same time on several
//! threads each get their own location. If the program replaces the hook after the first run,
//! the message is still reported, without a location.
//!
//! [`Sampler`]: crate::Sampler
//!
//! # Examples
//!
//! ```
//! use infer_mcmc::{FnDensity, McmcError, Sampler, SamplerSettings};
//!
//! let settings = SamplerSettings { num_chains: 2, num_warmup: 10, num_samples: 10,
//!                                  ..SamplerSettings::default() };
//! let err = Sampler::new(settings)?
//!     .sample(|_| FnDensity::new(2, |x: &[f64], g: &mut [f64]| {
//!         let i = 2; // a bug: the model has two coordinates
//!         g.fill(0.0);
//!         Ok(-x[i] * x[i])
//!     }))
//!     .unwrap_err();
//! match err {
//!     McmcError::ChainPanicked { message, location, .. } => {
//!         assert!(message.contains("index out of bounds"), "{message}");
//!         let location = location.expect("the hook recorded where");
//!         assert!(location.file.ends_with(".rs"));
//!     }
//!     other => panic!("expected a panic report, got {other}"),
//! }
//! # Ok::<(), McmcError>(())
//! ```

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use crate::error::McmcError;

/// Where a panic happened: the source file, line and column that the panic names.
///
/// # Examples
///
/// ```
/// use infer_mcmc::PanicLocation;
///
/// let at = PanicLocation { file: "src/model.rs".to_owned(), line: 12, column: 5 };
/// assert_eq!(at.to_string(), "src/model.rs:12:5");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanicLocation {
    /// The source file, as the compiler names it (relative to the package for local code).
    pub file: String,
    /// The line, 1-based.
    pub line: u32,
    /// The column, 1-based.
    pub column: u32,
}

impl fmt::Display for PanicLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

thread_local! {
    /// How many [`catch_model_panic`] calls are active on this thread (they can nest).
    static CAPTURING: Cell<usize> = const { Cell::new(0) };
    /// The location of the last panic on this thread while capturing.
    static LAST_LOCATION: RefCell<Option<PanicLocation>> = const { RefCell::new(None) };
}

static INSTALL_HOOK: Once = Once::new();

/// Installs, once per process, the hook that records a panic's location on capturing
/// threads and then calls the previously installed hook.
fn install_hook() {
    INSTALL_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) > 0 {
                let location = info.location().map(|l| PanicLocation {
                    file: l.file().to_owned(),
                    line: l.line(),
                    column: l.column(),
                });
                // `try_with`: the thread-local may be gone while the thread shuts down.
                let _ = LAST_LOCATION.try_with(|slot| {
                    if let Ok(mut slot) = slot.try_borrow_mut() {
                        *slot = location;
                    }
                });
            }
            previous(info);
        }));
    });
}

/// Leaves the capturing state when dropped (also when unwinding).
struct CaptureGuard;

impl CaptureGuard {
    fn enter() -> Self {
        CAPTURING.with(|c| c.set(c.get() + 1));
        LAST_LOCATION.with(|slot| *slot.borrow_mut() = None);
        CaptureGuard
    }
}

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURING.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// The message of a panic payload (`panic!` with a literal gives a `&str`, with a format a
/// `String`).
fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

/// Runs `f` (a chain's work: building its model, sampling it) and returns a panic inside it as
/// [`McmcError::ChainPanicked`] for `chain`, with the message and the location.
pub(crate) fn catch_model_panic<T>(
    chain: usize,
    f: impl FnOnce() -> Result<T, McmcError>,
) -> Result<T, McmcError> {
    install_hook();
    let guard = CaptureGuard::enter();
    let result = catch_unwind(AssertUnwindSafe(f));
    drop(guard);
    result.unwrap_or_else(|payload| {
        let location = LAST_LOCATION.with(|slot| slot.borrow_mut().take());
        Err(McmcError::ChainPanicked {
            chain,
            message: payload_message(payload.as_ref()),
            location,
        })
    })
}
