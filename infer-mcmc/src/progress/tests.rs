//! Tests of the plain styles (`Lines`, `Redraw`) and of the bars' limits.

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
