//! The terminal style, [`ProgressStyle::Bars`](super::ProgressStyle::Bars): one `indicatif`
//! bar per chain in a `MultiProgress`.
//!
//! `indicatif` replaces the hand-written ANSI redraw as the default for a terminal: it measures
//! the terminal's width and height (a line wider than the terminal no longer scrolls the bars
//! away), rate-limits its own drawing, keeps the bars below lines printed meanwhile, estimates
//! draws per second and hides itself when `TERM` is `dumb`. The plain line mode for logs and
//! pipes stays hand-written in `mod.rs`, byte for byte as before.

use std::fmt;
use std::io::{self, Write};
use std::sync::{Mutex, OnceLock};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, TermLike};

/// The terminal width assumed when drawing bars on a writer that is not a terminal.
pub(super) const WRITER_WIDTH: u16 = 120;

/// The chains' bars, created together on the first event (so a display for many chains
/// costs nothing until a run starts, and the bars are in chain order).
pub(super) struct Bars {
    multi: MultiProgress,
    bars: OnceLock<Vec<ProgressBar>>,
    num_chains: usize,
    total: u64,
}

impl fmt::Debug for Bars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bars")
            .field("num_chains", &self.num_chains)
            .field("total", &self.total)
            .field("hidden", &self.multi.is_hidden())
            .finish_non_exhaustive()
    }
}

impl Bars {
    /// Bars for `num_chains` chains of `total` iterations, drawn on `target`.
    pub(super) fn new(target: ProgressDrawTarget, num_chains: usize, total: usize) -> Self {
        Self {
            multi: MultiProgress::with_draw_target(target),
            bars: OnceLock::new(),
            num_chains,
            total: total as u64,
        }
    }

    /// Bars drawn on `writer` as on a terminal [`WRITER_WIDTH`] columns wide.
    pub(super) fn on_writer(
        writer: Box<dyn Write + Send>,
        num_chains: usize,
        total: usize,
    ) -> Self {
        let term = WriterTerm {
            out: Mutex::new(writer),
        };
        Self::new(
            ProgressDrawTarget::term_like(Box::new(term)),
            num_chains,
            total,
        )
    }

    /// The bar of chain `index` (`index < num_chains`, checked by the caller).
    fn bar(&self, index: usize) -> Option<&ProgressBar> {
        self.bars
            .get_or_init(|| {
                let style = bar_style(self.total);
                (0..self.num_chains)
                    .map(|i| {
                        let bar = ProgressBar::with_draw_target(
                            Some(self.total),
                            ProgressDrawTarget::hidden(),
                        )
                        .with_style(style.clone())
                        .with_prefix((i + 1).to_string());
                        self.multi.add(bar)
                    })
                    .collect()
            })
            .get(index)
    }

    /// Shows `done` iterations of chain `index` and `status` (phase, divergences, stage, step
    /// size); `finished` leaves the bar drawn in full.
    pub(super) fn update(&self, index: usize, done: usize, status: String, finished: bool) {
        let Some(bar) = self.bar(index) else {
            return;
        };
        if finished {
            // Also moves the bar to its length (`done`).
            bar.finish_with_message(status);
        } else {
            bar.set_message(status);
            bar.set_position(done as u64);
        }
    }
}

/// `chain 1  [######------------------]  460/2000  23%  warmup   div 0  slow 3/5  step 0.412  1,230/s`
fn bar_style(total: u64) -> indicatif::ProgressStyle {
    let width = total.checked_ilog10().map_or(1, |d| d as usize + 1);
    let template = format!(
        "chain {{prefix:<2}} [{{bar:24}}] {{pos:>{width}}}/{{len}} {{percent:>3}}%  {{msg}}  {{per_sec:0}}"
    );
    // The template is fixed but for the width; should it ever be rejected, the default bar
    // is shown rather than stopping the run.
    indicatif::ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("##-")
}

/// A terminal made of a writer: `indicatif` draws on it with ANSI cursor movement, as on a
/// terminal [`WRITER_WIDTH`] columns wide. Write errors are returned to `indicatif`, which
/// ignores them (progress never stops a run).
struct WriterTerm {
    out: Mutex<Box<dyn Write + Send>>,
}

impl fmt::Debug for WriterTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriterTerm").finish_non_exhaustive()
    }
}

impl WriterTerm {
    fn write(&self, s: &str) -> io::Result<()> {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(s.as_bytes())
    }

    fn cursor(&self, n: usize, code: char) -> io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.write(&format!("\x1b[{n}{code}"))
    }
}

impl TermLike for WriterTerm {
    fn width(&self) -> u16 {
        WRITER_WIDTH
    }

    fn height(&self) -> u16 {
        u16::MAX
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'D')
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.write(s)?;
        self.write("\n")
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.write(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.write("\r\x1b[2K")
    }

    fn flush(&self) -> io::Result<()> {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use crate::models::EightSchools;
    use crate::observer::{AdaptStage, DrawEvent, Observer, Phase};
    use crate::settings::Adaptation;
    use crate::{Fit, ProgressBars, ProgressStyle, Sampler, SamplerSettings};

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
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
                Phase::Warmup if iteration < 2 => AdaptStage::SlowWindow { index: 1, count: 2 },
                Phase::Warmup => AdaptStage::StepSizeOnly,
                Phase::Sampling => AdaptStage::None,
            },
        }
    }

    #[test]
    fn bars_show_stage_step_divergences_and_end_full() {
        let screen = Shared::default();
        let bars = ProgressBars::new(2, 8)
            .unwrap()
            .with_writer(screen.clone(), ProgressStyle::Bars)
            .with_interval(Duration::from_secs(3600));
        assert_eq!(bars.style(), ProgressStyle::Bars);
        for c in 0..2 {
            for i in 0..4 {
                bars.on_draw(&event(c, i, Phase::Warmup, 4));
            }
            for i in 0..4 {
                bars.on_draw(&event(c, i, Phase::Sampling, 4));
            }
        }
        // Events of chains beyond the bars are ignored.
        bars.on_draw(&event(7, 0, Phase::Warmup, 4));
        let text = screen.text();
        // The first event of a chain is drawn (its stage, Stan's slow window 1 of 2; indicatif
        // draws the bar's head as a `#` too), then nothing until sampling starts (the interval
        // is an hour), then the finished bar.
        assert!(
            text.contains(
                "chain 1  [####--------------------] 1/8  12%  warmup   div 0  slow 1/2  step 0.500"
            ),
            "{text:?}"
        );
        assert!(
            text.contains(
                "chain 2  [################--------] 5/8  62%  sampling div 0  step 0.500"
            ),
            "{text:?}"
        );
        let full = format!("[{}] 8/8 100%  done     div 1  step 0.500", "#".repeat(24));
        assert!(text.contains(&format!("chain 1  {full}")), "{text:?}");
        assert!(text.contains(&format!("chain 2  {full}")), "{text:?}");
        assert!(!text.contains("final"), "throttled: {text:?}");
        assert!(!text.contains("chain 8"), "{text:?}");
        // Redrawn in place (cursor up), each line padded to the assumed terminal width, and
        // the draws per second shown.
        assert!(text.contains("\x1b[1A"), "{text:?}");
        assert!(text.contains("/s "), "{text:?}");
    }

    #[test]
    fn bars_update_on_every_event_with_a_zero_interval() {
        let screen = Shared::default();
        let bars = ProgressBars::new(1, 6)
            .unwrap()
            .with_writer(screen.clone(), ProgressStyle::Bars)
            .with_interval(Duration::ZERO);
        for i in 0..4 {
            bars.on_draw(&event(0, i, Phase::Warmup, 4));
        }
        let text = screen.text();
        assert!(
            text.contains("3/6  50%  warmup   div 1  final  step 0.500"),
            "{text:?}"
        );
    }

    #[test]
    fn style_can_be_forced_either_way() {
        let lines = ProgressBars::new(2, 10)
            .unwrap()
            .with_style(ProgressStyle::Lines);
        assert_eq!(lines.style(), ProgressStyle::Lines);
        assert!(lines.bars.is_none());
        let bars = ProgressBars::new(2, 10)
            .unwrap()
            .with_style(ProgressStyle::Bars);
        assert_eq!(bars.style(), ProgressStyle::Bars);
        // On a stderr that is not a terminal indicatif hides the bars; either way events of a
        // whole run are taken without error.
        for i in 0..10 {
            bars.on_draw(&event(1, i, Phase::Warmup, 10));
        }
        let back = bars.with_writer(std::io::sink(), ProgressStyle::Redraw);
        assert_eq!(back.style(), ProgressStyle::Redraw);
        assert!(back.bars.is_none());
    }

    fn run(settings: SamplerSettings, observer: Option<ProgressBars>) -> Fit {
        let sampler = Sampler::new(settings).unwrap();
        match observer {
            Some(o) => sampler.with_observer(o).sample(|_| EightSchools::classic()),
            None => sampler.sample(|_| EightSchools::classic()),
        }
        .unwrap()
    }

    /// Progress only reads events: four chains on four threads give bit-identical draws with
    /// `indicatif` bars, with plain lines and without an observer, for Stan's and nutpie's
    /// warmups; and the bars show every chain to its end.
    #[test]
    fn progress_never_changes_the_draws() {
        for adaptation in [Adaptation::Stan, Adaptation::FisherDiagonal] {
            let settings = SamplerSettings {
                num_chains: 4,
                num_threads: 4,
                num_warmup: 150,
                num_samples: 100,
                seed: 11,
                adaptation,
                ..SamplerSettings::default()
            };
            let (screen, log) = (Shared::default(), Shared::default());
            let bars = ProgressBars::for_settings(&settings)
                .unwrap()
                .with_writer(screen.clone(), ProgressStyle::Bars)
                .with_interval(Duration::ZERO);
            let lines = ProgressBars::for_settings(&settings)
                .unwrap()
                .with_writer(log.clone(), ProgressStyle::Lines);
            let plain = run(settings, None);
            let with_bars = run(settings, Some(bars));
            let with_lines = run(settings, Some(lines));
            for c in 0..4 {
                let bits = |f: &Fit| {
                    f.chains[c]
                        .draws
                        .iter()
                        .map(|x| x.to_bits())
                        .collect::<Vec<_>>()
                };
                assert_eq!(bits(&with_bars), bits(&plain), "{adaptation:?} chain {c}");
                assert_eq!(bits(&with_lines), bits(&plain), "{adaptation:?} chain {c}");
            }
            let (text, log) = (screen.text(), log.text());
            for c in 1..=4 {
                assert!(
                    text.contains(&format!(
                        "chain {c}  [{}] 250/250 100%  done",
                        "#".repeat(24)
                    )),
                    "{text}"
                );
                assert!(
                    log.contains(&format!("chain {c}: done     250/250 100%")),
                    "{log}"
                );
            }
            let stage = match adaptation {
                Adaptation::Stan => "fast",
                _ => "early",
            };
            assert!(
                text.contains(&format!("warmup   div 0  {stage}  step")),
                "{text}"
            );
        }
    }
}
