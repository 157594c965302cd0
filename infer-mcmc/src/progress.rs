//! Live per-chain progress bars: an [`Observer`] that draws one line per chain on stderr.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::McmcError;
use crate::observer::{AdaptStage, DrawEvent, Observer, Phase};
use crate::settings::SamplerSettings;

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

/// How [`ProgressBars`] shows progress.
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
    /// One bar per chain, redrawn in place with ANSI cursor movement, at most once per
    /// interval (default for a terminal).
    Redraw,
    /// Plain lines, one per chain each time it passes a tenth of its iterations, starts
    /// sampling or finishes (default when stderr is not a terminal, e.g. in CI logs).
    Lines,
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
}

struct Output {
    writer: Box<dyn Write + Send>,
    /// Lines of the last redraw, to move the cursor back over.
    lines_drawn: usize,
}

/// Live per-chain progress bars, an [`Observer`] for
/// [`Sampler::with_observer`](crate::Sampler::with_observer).
///
/// Each chain has one line: a bar, the phase (warmup or sampling), iterations done out of
/// the total, the percentage, the divergences of the current phase so far, during warmup the
/// adaptation's stage ([`AdaptStage`]: Stan's fast interval or slow window, nutpie's early or
/// later metric phase, the final step-size-only stretch) and the current step size:
///
/// ```text
/// chain 1 [######------------------] warmup    460/2000  23%  div 0  slow 3/5  step 0.412
/// chain 2 [##############----------] sampling 1150/2000  57%  div 0  step 0.387
/// ```
///
/// On a terminal (`std::io::IsTerminal`) the lines are redrawn in place at most every 100 ms
/// (see [`with_interval`](Self::with_interval)) and once more when a chain finishes;
/// otherwise a plain line is printed each time a chain passes a tenth of its iterations,
/// starts sampling or finishes. Chains report from their own threads: the counters are
/// atomics and the output is locked only to draw. Write errors are ignored (progress never
/// stops a run); events of chains beyond `num_chains` are ignored.
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
pub struct ProgressBars {
    slots: Vec<Slot>,
    total: usize,
    style: ProgressStyle,
    interval: Duration,
    start: Instant,
    /// Nanoseconds after `start` of the last redraw.
    last_draw: AtomicU64,
    out: Mutex<Output>,
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
    /// drawn on stderr: [`ProgressStyle::Redraw`] if stderr is a terminal,
    /// [`ProgressStyle::Lines`] otherwise.
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
        let style = if std::io::stderr().is_terminal() {
            ProgressStyle::Redraw
        } else {
            ProgressStyle::Lines
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

    /// Draws on `writer` instead of stderr, in the given style.
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
        Self {
            style,
            out: Mutex::new(Output {
                writer: Box::new(writer),
                lines_drawn: 0,
            }),
            ..self
        }
    }

    /// Redraws at most once per `interval` in [`ProgressStyle::Redraw`] (default 100 ms).
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

    /// The line of chain `index`: `chain 1 [###---] warmup  150/2000   7%  div 0`.
    fn line(&self, index: usize, with_bar: bool) -> String {
        let slot = &self.slots[index];
        let done = slot.done.load(Ordering::Relaxed);
        let divergences = slot.divergences.load(Ordering::Relaxed);
        let percent = (100 * done / self.total.max(1)).min(100);
        let phase = if done >= self.total {
            "done"
        } else if slot.sampling.load(Ordering::Relaxed) {
            "sampling"
        } else {
            "warmup"
        };
        let width = digits(self.total);
        let step = f64::from_bits(slot.step_size.load(Ordering::Relaxed));
        let stage = match *slot.stage.lock().unwrap_or_else(|e| e.into_inner()) {
            AdaptStage::None => String::new(),
            stage if phase == "warmup" => format!("  {stage}"),
            _ => String::new(),
        };
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
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn event(chain: usize, iteration: usize, phase: Phase, phase_len: usize) -> DrawEvent {
        DrawEvent {
            chain,
            iteration,
            phase,
            phase_len,
            divergences: usize::from(iteration >= 3),
            divergent: iteration == 3,
            step_size: 0.5,
            stage: match phase {
                Phase::Warmup => AdaptStage::SlowWindow { index: 1, count: 2 },
                Phase::Sampling => AdaptStage::None,
            },
        }
    }

    fn run(bars: &ProgressBars, chains: usize, warmup: usize, sampling: usize) {
        for c in 0..chains {
            for i in 0..warmup {
                bars.on_draw(&event(c, i, Phase::Warmup, warmup));
            }
            for i in 0..sampling {
                bars.on_draw(&event(c, i, Phase::Sampling, sampling));
            }
        }
    }

    #[test]
    fn lines_every_tenth_and_at_the_end() {
        let buf = Shared::default();
        let bars = ProgressBars::new(2, 30)
            .unwrap()
            .with_writer(buf.clone(), ProgressStyle::Lines);
        run(&bars, 2, 10, 20);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines.contains(&"chain 1: warmup    3/30  10%  div 0  slow 1/2  step 0.500"),
            "{text}"
        );
        assert!(
            lines.contains(&"chain 1: sampling 11/30  36%  div 0  step 0.500"),
            "{text}"
        );
        assert!(
            lines.contains(&"chain 2: done     30/30 100%  div 1  step 0.500"),
            "{text}"
        );
        // 10 tenths, plus the start of sampling (iteration 11 is not a tenth), per chain.
        assert_eq!(lines.len(), 22, "{text}");
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn redraw_moves_the_cursor_back_and_ends_full() {
        let buf = Shared::default();
        let bars = ProgressBars::new(2, 8)
            .unwrap()
            .with_writer(buf.clone(), ProgressStyle::Redraw)
            .with_interval(Duration::from_secs(3600));
        run(&bars, 2, 4, 4);
        // Extra chains are ignored.
        bars.on_draw(&event(5, 0, Phase::Warmup, 4));
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        // First draw, then one forced redraw per finished chain.
        assert_eq!(text.matches("\x1b[2A").count(), 2, "{text:?}");
        let last: Vec<&str> = text.rsplit("\x1b[2A").next().unwrap().lines().collect();
        assert_eq!(
            last[1],
            format!(
                "\r\x1b[2Kchain 2  [{}] done     8/8 100%  div 1  step 0.500",
                "#".repeat(24)
            )
        );
    }

    #[test]
    fn zero_total_does_not_divide_by_zero() {
        let bars = ProgressBars::new(1, 0)
            .unwrap()
            .with_writer(std::io::sink(), ProgressStyle::Lines);
        run(&bars, 1, 0, 2);
        assert_eq!(bars.line(0, true).matches('#').count(), BAR_WIDTH);
    }

    /// `usize::MAX` bars aborted the process on allocation (issue 13): a typed error naming
    /// `num_chains` and the value; the limit itself is accepted.
    #[test]
    fn too_many_bars_is_an_error() {
        for n in [usize::MAX, MAX_PROGRESS_BARS + 1] {
            match ProgressBars::new(n, 10) {
                Err(McmcError::InvalidSetting { name, value, .. }) => {
                    assert_eq!((name, value), ("num_chains", n as f64));
                }
                other => panic!("{n} bars: {other:?}"),
            }
        }
        let s = SamplerSettings {
            num_chains: usize::MAX,
            ..SamplerSettings::default()
        };
        assert!(ProgressBars::for_settings(&s).is_err());
        assert_eq!(
            ProgressBars::new(MAX_PROGRESS_BARS, 10)
                .map(|b| b.num_chains())
                .ok(),
            Some(MAX_PROGRESS_BARS)
        );
    }
}
