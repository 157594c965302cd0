//! Live per-chain progress bars: an [`Observer`] that draws one line per chain on stderr.
//!
//! On a terminal the bars are `indicatif`'s ([`ProgressStyle::Bars`], in `bars.rs`); in logs
//! and pipes plain lines ([`ProgressStyle::Lines`], here).

mod bars;

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::McmcError;
use crate::observer::{AdaptStage, DrawEvent, Observer, Phase};
use crate::settings::SamplerSettings;
use bars::Bars;
use indicatif::ProgressDrawTarget;

/// The most chains [`ProgressBars`] draws bars for (2²⁰; one line per chain).
///
/// # Examples
///
/// ```
/// assert_eq!(infer_mcmc::progress::MAX_PROGRESS_BARS, 1 << 20);
/// ```
pub const MAX_PROGRESS_BARS: usize = 1 << 20;

/// Width of the bar, in characters.
const BAR_WIDTH: usize = 24;

/// How [`ProgressBars`] shows progress. [`ProgressBars::new`] picks [`Bars`](Self::Bars)
/// when stderr is a terminal (as `indicatif` detects it: a TTY whose `TERM` is not `dumb`)
/// and [`Lines`](Self::Lines) otherwise; [`ProgressBars::with_style`] overrides the choice.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{ProgressBars, ProgressStyle};
///
/// // Plain lines on stdout, e.g. for a log file.
/// let bars = ProgressBars::new(4, 2000)?.with_writer(std::io::stdout(), ProgressStyle::Lines);
/// assert_eq!(bars.style(), ProgressStyle::Lines);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressStyle {
    /// One bar per chain, redrawn in place with hand-written ANSI cursor movement, at most
    /// once per interval (the terminal style before [`Bars`](Self::Bars); kept for callers
    /// that chose it, its output is unchanged).
    Redraw,
    /// Plain lines, one per chain each time it passes a tenth of its iterations, starts
    /// sampling or finishes (default when stderr is not a terminal, e.g. in CI logs).
    Lines,
    /// One `indicatif` bar per chain (a `MultiProgress`): iterations, percentage, the phase,
    /// the divergences of the phase, the warmup's [`AdaptStage`], the step size and the
    /// draws per second (default for a terminal). Drawn on stderr, it shows nothing when
    /// stderr is not a terminal; on a writer ([`ProgressBars::with_writer`]) it is drawn as
    /// on a terminal 120 columns wide.
    Bars,
}

/// Progress of one chain, updated lock-free from the chain's thread.
#[derive(Debug, Default)]
struct Slot {
    /// Iterations finished, warmup and sampling together.
    done: AtomicUsize,
    /// Warmup iterations of the run (known from the first warmup event).
    warmup_len: AtomicUsize,
    /// Whether the chain is sampling.
    sampling: AtomicBool,
    /// Divergences in the current phase.
    divergences: AtomicUsize,
    /// The current step size (`f64` bits).
    step_size: AtomicU64,
    /// The warmup's adaptation stage (locked by the chain's thread only to write it).
    stage: Mutex<AdaptStage>,
    /// Nanoseconds after `start` of the last update of this chain's `indicatif` bar (0:
    /// never).
    last_update: AtomicU64,
}

struct Output {
    writer: Box<dyn Write + Send>,
    /// Lines of the last redraw, to move the cursor back over.
    lines_drawn: usize,
}

/// Live per-chain progress bars, an [`Observer`] for
/// [`Sampler::with_observer`](crate::Sampler::with_observer).
///
/// Each chain has one line: a bar, iterations done out of the total, the percentage, the
/// phase (warmup or sampling), the divergences of the current phase so far, during warmup the
/// adaptation's stage ([`AdaptStage`]: Stan's fast interval or slow window `k/K`, nutpie's
/// early or later metric phase, the final step-size-only stretch), the current step size and,
/// on a terminal, the draws per second:
///
/// ```text
/// chain 1  [######------------------]  460/2000  23%  warmup   div 0  slow 3/5  step 0.412  1,230/s
/// chain 2  [##############----------] 1150/2000  57%  sampling div 0  step 0.387  1,180/s
/// ```
///
/// On a terminal these are `indicatif` bars ([`ProgressStyle::Bars`]), updated at most every
/// 100 ms per chain (see [`with_interval`](Self::with_interval)) and once more when a chain
/// starts sampling or finishes; otherwise ([`ProgressStyle::Lines`]) a plain line is printed
/// each time a chain passes a tenth of its iterations, starts sampling or finishes. Chains
/// report from their own threads: the counters are atomics and a bar or the output is locked
/// only to draw. Progress only reads the sampler's events, so the draws are the same with any
/// style or none. Write errors are ignored (progress never stops a run); events of chains
/// beyond `num_chains` are ignored.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{ProgressBars, Sampler, SamplerSettings, models::EightSchools};
///
/// let settings = SamplerSettings { num_chains: 2, num_warmup: 200, num_samples: 200,
///                                  ..SamplerSettings::default() };
/// let fit = Sampler::new(settings)?
///     .with_observer(ProgressBars::new(settings.num_chains, 400)?)
///     .sample(|_| EightSchools::classic())?;
/// assert_eq!(fit.num_draws(), 200);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// The same run with `indicatif` bars forced on (here on a buffer, as on a terminal) gives
/// the same draws:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use infer_mcmc::{ProgressBars, ProgressStyle, Sampler, SamplerSettings, models::EightSchools};
///
/// #[derive(Clone, Default)]
/// struct Buffer(Arc<Mutex<Vec<u8>>>);
/// impl std::io::Write for Buffer {
///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
///         self.0.lock().unwrap().extend_from_slice(b);
///         Ok(b.len())
///     }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
///
/// let settings = SamplerSettings { num_chains: 2, num_warmup: 100, num_samples: 100,
///                                  ..SamplerSettings::default() };
/// let screen = Buffer::default();
/// let bars = ProgressBars::for_settings(&settings)?
///     .with_writer(screen.clone(), ProgressStyle::Bars);
/// let with_bars = Sampler::new(settings)?.with_observer(bars).sample(|_| EightSchools::classic())?;
/// let without = Sampler::new(settings)?.sample(|_| EightSchools::classic())?;
/// assert_eq!(with_bars.chains[1].draws, without.chains[1].draws);
/// let text = String::from_utf8(screen.0.lock().unwrap().clone()).unwrap();
/// assert!(text.contains("200/200 100%  done     div"));
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
pub struct ProgressBars {
    slots: Vec<Slot>,
    total: usize,
    style: ProgressStyle,
    interval: Duration,
    start: Instant,
    /// Nanoseconds after `start` of the last redraw.
    last_draw: AtomicU64,
    out: Mutex<Output>,
    /// The `indicatif` bars of [`ProgressStyle::Bars`] (`None` in the other styles).
    bars: Option<Bars>,
}

impl fmt::Debug for ProgressBars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressBars")
            .field("chains", &self.slots.len())
            .field("total", &self.total)
            .field("style", &self.style)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl ProgressBars {
    /// Bars for `num_chains` chains of `total_iters` iterations each (warmup plus sampling),
    /// drawn on stderr: [`ProgressStyle::Bars`] if stderr is a terminal (as `indicatif`
    /// detects it), [`ProgressStyle::Lines`] otherwise.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] naming `num_chains` when it exceeds [`MAX_PROGRESS_BARS`]
    /// (one line per chain) or its bars cannot be allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::ProgressBars;
    ///
    /// let bars = ProgressBars::new(4, 2000)?;
    /// assert_eq!(bars.num_chains(), 4);
    /// assert!(ProgressBars::new(usize::MAX, 2000).is_err());
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    pub fn new(num_chains: usize, total_iters: usize) -> Result<Self, McmcError> {
        let too_many = || McmcError::InvalidSetting {
            name: "num_chains",
            value: num_chains as f64,
            expected: "at most 2^20 progress bars (one line per chain)",
        };
        if num_chains > MAX_PROGRESS_BARS {
            return Err(too_many());
        }
        let mut slots = Vec::new();
        slots
            .try_reserve_exact(num_chains)
            .map_err(|_| too_many())?;
        slots.extend((0..num_chains).map(|_| Slot::default()));
        let stderr = ProgressDrawTarget::stderr();
        let (style, bars) = if stderr.is_hidden() {
            (ProgressStyle::Lines, None)
        } else {
            let bars = Bars::new(stderr, num_chains, total_iters);
            (ProgressStyle::Bars, Some(bars))
        };
        Ok(Self {
            slots,
            total: total_iters,
            style,
            interval: Duration::from_millis(100),
            start: Instant::now(),
            last_draw: AtomicU64::new(0),
            out: Mutex::new(Output {
                writer: Box::new(std::io::stderr()),
                lines_drawn: 0,
            }),
            bars,
        })
    }

    /// Bars for a run with these settings: `num_chains` chains of `num_warmup +
    /// num_samples` iterations.
    ///
    /// # Errors
    ///
    /// As [`ProgressBars::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{ProgressBars, SamplerSettings};
    ///
    /// let bars = ProgressBars::for_settings(&SamplerSettings::default())?;
    /// assert_eq!((bars.num_chains(), bars.total_iters()), (4, 2000));
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    pub fn for_settings(settings: &SamplerSettings) -> Result<Self, McmcError> {
        Self::new(
            settings.num_chains,
            // Saturating: the settings may not have been validated.
            settings.num_warmup.saturating_add(settings.num_samples),
        )
    }

    /// Draws on `writer` instead of stderr, in the given style ([`ProgressStyle::Bars`] as on a
    /// terminal 120 columns wide, with ANSI cursor movement).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{ProgressBars, ProgressStyle};
    ///
    /// let bars = ProgressBars::new(2, 100)?.with_writer(std::io::sink(), ProgressStyle::Lines);
    /// assert_eq!(bars.style(), ProgressStyle::Lines);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn with_writer<W: Write + Send + 'static>(self, writer: W, style: ProgressStyle) -> Self {
        let (writer, bars): (Box<dyn Write + Send>, _) = match style {
            ProgressStyle::Bars => (
                Box::new(std::io::sink()),
                Some(Bars::on_writer(
                    Box::new(writer),
                    self.slots.len(),
                    self.total,
                )),
            ),
            ProgressStyle::Redraw | ProgressStyle::Lines => (Box::new(writer), None),
        };
        Self {
            style,
            out: Mutex::new(Output {
                writer,
                lines_drawn: 0,
            }),
            bars,
            ..self
        }
    }

    /// Draws on stderr in `style` whether or not stderr is a terminal (replacing any writer
    /// given before): e.g. [`ProgressStyle::Lines`] on a terminal, for a log that keeps every
    /// line. [`ProgressStyle::Bars`] on a stderr that is not a terminal shows nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{ProgressBars, ProgressStyle};
    ///
    /// let bars = ProgressBars::new(4, 2000)?.with_style(ProgressStyle::Lines);
    /// assert_eq!(bars.style(), ProgressStyle::Lines);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn with_style(self, style: ProgressStyle) -> Self {
        match style {
            ProgressStyle::Bars => {
                let bars = Bars::new(ProgressDrawTarget::stderr(), self.slots.len(), self.total);
                Self {
                    style,
                    out: Mutex::new(Output {
                        writer: Box::new(std::io::sink()),
                        lines_drawn: 0,
                    }),
                    bars: Some(bars),
                    ..self
                }
            }
            ProgressStyle::Redraw | ProgressStyle::Lines => {
                self.with_writer(std::io::stderr(), style)
            }
        }
    }

    /// Redraws at most once per `interval` in [`ProgressStyle::Redraw`], and updates each
    /// chain's bar at most once per `interval` in [`ProgressStyle::Bars`] (default 100 ms).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use infer_mcmc::ProgressBars;
    ///
    /// let bars = ProgressBars::new(1, 100)?.with_interval(Duration::from_millis(250));
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn with_interval(self, interval: Duration) -> Self {
        Self { interval, ..self }
    }

    /// Number of chains shown.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(infer_mcmc::ProgressBars::new(3, 10)?.num_chains(), 3);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn num_chains(&self) -> usize {
        self.slots.len()
    }

    /// Iterations per chain (warmup plus sampling).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(infer_mcmc::ProgressBars::new(3, 10)?.total_iters(), 10);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn total_iters(&self) -> usize {
        self.total
    }

    /// The drawing style.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{ProgressBars, ProgressStyle};
    ///
    /// let bars = ProgressBars::new(1, 10)?.with_writer(std::io::sink(), ProgressStyle::Redraw);
    /// assert_eq!(bars.style(), ProgressStyle::Redraw);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn style(&self) -> ProgressStyle {
        self.style
    }

    fn lock(&self) -> MutexGuard<'_, Output> {
        self.out.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What chain `index`'s line shows.
    fn view(&self, index: usize) -> View {
        let slot = &self.slots[index];
        let done = slot.done.load(Ordering::Relaxed);
        let phase = if done >= self.total {
            "done"
        } else if slot.sampling.load(Ordering::Relaxed) {
            "sampling"
        } else {
            "warmup"
        };
        let stage = match *slot.stage.lock().unwrap_or_else(|e| e.into_inner()) {
            AdaptStage::None => String::new(),
            stage if phase == "warmup" => format!("  {stage}"),
            _ => String::new(),
        };
        View {
            done,
            divergences: slot.divergences.load(Ordering::Relaxed),
            percent: (100 * done / self.total.max(1)).min(100),
            phase,
            step: f64::from_bits(slot.step_size.load(Ordering::Relaxed)),
            stage,
        }
    }

    /// The status part of chain `index`'s `indicatif` bar: `warmup   div 0  slow 3/5  step
    /// 0.412`.
    fn status(&self, index: usize) -> String {
        let View {
            divergences,
            phase,
            step,
            stage,
            ..
        } = self.view(index);
        format!("{phase:<8} div {divergences}{stage}  step {step:.3}")
    }

    /// The line of chain `index`: `chain 1 [###---] warmup  150/2000   7%  div 0`.
    fn line(&self, index: usize, with_bar: bool) -> String {
        let View {
            done,
            divergences,
            percent,
            phase,
            step,
            stage,
        } = self.view(index);
        let width = digits(self.total);
        let counts = format!(
            "{phase:<8} {done:>width$}/{} {percent:>3}%  div {divergences}{stage}  step {step:.3}",
            self.total
        );
        if with_bar {
            let filled = BAR_WIDTH * percent / 100;
            format!(
                "chain {:<2} [{}{}] {counts}",
                index + 1,
                "#".repeat(filled),
                "-".repeat(BAR_WIDTH - filled)
            )
        } else {
            format!("chain {}: {counts}", index + 1)
        }
    }

    /// Redraws every chain's bar over the previous ones.
    fn redraw(&self, out: &mut Output) {
        let mut text = String::new();
        if out.lines_drawn > 0 {
            text.push_str(&format!("\x1b[{}A", out.lines_drawn));
        }
        for i in 0..self.slots.len() {
            text.push_str("\r\x1b[2K");
            text.push_str(&self.line(i, true));
            text.push('\n');
        }
        // Progress must never stop a run: write errors are ignored.
        let _ = out.writer.write_all(text.as_bytes());
        let _ = out.writer.flush();
        out.lines_drawn = self.slots.len();
    }
}

/// What a chain's line shows, read from its [`Slot`].
struct View {
    done: usize,
    divergences: usize,
    percent: usize,
    phase: &'static str,
    step: f64,
    /// `"  slow 3/5"` during warmup, empty otherwise.
    stage: String,
}

fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

impl Observer for ProgressBars {
    fn on_draw(&self, event: &DrawEvent) {
        let Some(slot) = self.slots.get(event.chain) else {
            return;
        };
        let done = match event.phase {
            Phase::Warmup => {
                slot.warmup_len.store(event.phase_len, Ordering::Relaxed);
                slot.sampling.store(false, Ordering::Relaxed);
                event.iteration + 1
            }
            Phase::Sampling => {
                slot.sampling.store(true, Ordering::Relaxed);
                slot.warmup_len.load(Ordering::Relaxed) + event.iteration + 1
            }
        };
        slot.divergences.store(event.divergences, Ordering::Relaxed);
        slot.step_size
            .store(event.step_size.to_bits(), Ordering::Relaxed);
        *slot.stage.lock().unwrap_or_else(|e| e.into_inner()) = event.stage;
        let previous = slot.done.swap(done, Ordering::Relaxed);
        let finished = done >= self.total
            || (event.phase == Phase::Sampling && event.iteration + 1 == event.phase_len);
        match self.style {
            ProgressStyle::Lines => {
                let tenth = |n: usize| 10 * n / self.total.max(1);
                let started_sampling = event.phase == Phase::Sampling && event.iteration == 0;
                if finished || started_sampling || tenth(done) != tenth(previous) {
                    let mut out = self.lock();
                    let line = self.line(event.chain, false);
                    let _ = writeln!(out.writer, "{line}");
                    let _ = out.writer.flush();
                }
            }
            ProgressStyle::Redraw => {
                let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                let last = self.last_draw.load(Ordering::Relaxed);
                let due = now.saturating_sub(last) >= self.interval.as_nanos() as u64 || last == 0;
                if finished {
                    let mut out = self.lock();
                    self.redraw(&mut out);
                    self.last_draw.store(now.max(1), Ordering::Relaxed);
                } else if due && let Ok(mut out) = self.out.try_lock() {
                    self.redraw(&mut out);
                    self.last_draw.store(now.max(1), Ordering::Relaxed);
                }
            }
            ProgressStyle::Bars => {
                let Some(bars) = &self.bars else {
                    return;
                };
                let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                let last = slot.last_update.load(Ordering::Relaxed);
                let started_sampling = event.phase == Phase::Sampling && event.iteration == 0;
                let due = last == 0 || now.saturating_sub(last) >= self.interval.as_nanos() as u64;
                if finished || started_sampling || due {
                    slot.last_update.store(now.max(1), Ordering::Relaxed);
                    bars.update(event.chain, done, self.status(event.chain), finished);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
