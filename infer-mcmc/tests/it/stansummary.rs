//! Issue 14, item 11: the summary a Stan user reads — the sampler's rows (`lp__`,
//! `accept_stat__`, `stepsize__`, `treedepth__`, `n_leapfrog__`, `divergent__`, `energy__`)
//! as `stansummary` prints them, divergences and tree-depth hits per chain, total gradient
//! evaluations and wall time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use infer_mcmc::summary::{ChainReport, Summary};
use infer_mcmc::{LogDensity, LogDensityError, STAT_NAMES, SamplerSettings};
use ndarray::Array2;

use super::common::{fit_each, runs};

fn settings() -> SamplerSettings {
    SamplerSettings {
        seed: 11,
        ..runs(3, 150, 100)
    }
}

/// A standard normal in 2 dimensions whose gradient evaluations are counted by the test.
struct CountedGauss(Arc<AtomicU64>);

impl LogDensity for CountedGauss {
    fn dim(&self) -> usize {
        2
    }
    fn logp_and_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, LogDensityError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        g[0] = -x[0];
        g[1] = -x[1];
        Ok(-0.5 * (x[0] * x[0] + x[1] * x[1]))
    }
}

fn counted_gauss(counter: Arc<AtomicU64>) -> CountedGauss {
    CountedGauss(counter)
}

#[test]
fn sampler_rows_summarize_the_per_draw_statistics() {
    let fit = fit_each(settings(), |_| counted_gauss(Arc::default()));
    let summary = fit.summary().unwrap();
    let names: Vec<&str> = summary
        .sampler_rows()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, STAT_NAMES);
    // The parameters' rows are unchanged: the recorded values only.
    assert_eq!(summary.rows().len(), 2);
    let n = (fit.num_chains() * fit.num_draws()) as f64;
    let stats = || fit.chains.iter().flat_map(|c| c.stats.iter());
    // Means computed here from the chains' statistics.
    let expected = [
        stats().map(|s| s.lp).sum::<f64>() / n,
        stats().map(|s| s.accept_stat).sum::<f64>() / n,
        stats().map(|s| s.step_size).sum::<f64>() / n,
        stats().map(|s| s.tree_depth as f64).sum::<f64>() / n,
        stats().map(|s| s.n_leapfrog as f64).sum::<f64>() / n,
        stats().filter(|s| s.divergent).count() as f64 / n,
        stats().map(|s| s.energy).sum::<f64>() / n,
    ];
    for (row, want) in summary.sampler_rows().iter().zip(expected) {
        let got = row.diagnostics.mean;
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{}: {got} vs {want}",
            row.name
        );
    }
    // stepsize__ is constant within a chain: its quantiles are chain step sizes.
    let steps: Vec<f64> = fit.chains.iter().map(|c| c.step_size).collect();
    let row = summary.get("stepsize__").unwrap();
    let (lo, hi) = steps
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &s| {
            (a.min(s), b.max(s))
        });
    assert!(row.diagnostics.q5 >= lo && row.diagnostics.q95 <= hi);
    // Sampler rows give no ESS or R-hat warnings (divergent__ is constant 0 here).
    assert!(
        summary
            .warnings()
            .iter()
            .all(|w| !w.to_string().contains("__"))
    );
}

#[test]
fn gradient_evaluations_are_counted_exactly() {
    let counter = Arc::new(AtomicU64::new(0));
    let s = settings();
    let fit = fit_each(s, |_| counted_gauss(Arc::clone(&counter)));
    // Every evaluation of the model, counted by the model itself.
    let evaluated = counter.load(Ordering::Relaxed);
    let summary = fit.summary().unwrap();
    assert_eq!(summary.gradient_evals(), evaluated);
    assert_eq!(fit.gradient_evals(), evaluated);
    for (chain, report) in fit.chains.iter().zip(summary.chain_reports()) {
        assert_eq!(report.id, chain.chain + 1);
        // With thin = 1 the sampling evaluations are the draws' leapfrog steps.
        assert_eq!(chain.sampling_gradient_evals, chain.num_leapfrog() as u64);
        // Warmup: at least its transitions' steps, plus the init and step-size searches.
        assert!(chain.warmup_gradient_evals > s.num_warmup as u64);
        assert_eq!(report.divergent, chain.num_divergent() as u64);
        assert_eq!(report.draws, 100);
    }
    let wall = summary.wall_seconds().unwrap();
    assert!(wall > 0.0 && wall == fit.wall_seconds);

    // With thinning the dropped transitions' steps are counted too.
    let counter = Arc::new(AtomicU64::new(0));
    let fit = fit_each(SamplerSettings { thin: 3, ..s }, |_| {
        counted_gauss(Arc::clone(&counter))
    });
    assert_eq!(fit.gradient_evals(), counter.load(Ordering::Relaxed));
    for chain in &fit.chains {
        assert!(chain.sampling_gradient_evals > chain.num_leapfrog() as u64);
    }
}

#[test]
fn max_treedepth_hits_are_reported_per_chain() {
    let fit = fit_each(
        SamplerSettings {
            max_depth: 1,
            ..settings()
        },
        |_| counted_gauss(Arc::default()),
    );
    let summary = fit.summary().unwrap();
    for r in summary.chain_reports() {
        assert_eq!(r.max_treedepth_hits, 100, "{r:?}");
    }
    let text = summary.to_string();
    let total = text
        .lines()
        .find(|l| l.starts_with("Total"))
        .expect("a total row");
    let cols: Vec<&str> = total.split_whitespace().collect();
    // Total, draws, divergent, max treedepth, gradient evals, warmup s, sampling s.
    assert_eq!(cols[1..4], ["300", "0", "300"], "{total}");
    assert_eq!(cols[4], fit.gradient_evals().to_string());
}

/// The layout, line by line: header, times, totals, the sampler block, the parameters, the
/// per-chain table, the notes.
#[test]
fn layout_is_stansummarys() {
    let fit = fit_each(settings(), |_| counted_gauss(Arc::default()));
    let text = fit.summary().unwrap().to_string();
    println!("{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "3 chains: each with 100 draws; 300 draws in total."
    );
    assert_eq!(lines[1], "");
    assert!(lines[2].starts_with("Warmup took ("), "{}", lines[2]);
    assert!(lines[2].ends_with(" seconds total"), "{}", lines[2]);
    assert_eq!(lines[2].matches(", ").count(), 3, "{}", lines[2]);
    assert!(lines[3].starts_with("Sampling took ("), "{}", lines[3]);
    assert!(lines[4].starts_with("Wall time "), "{}", lines[4]);
    assert!(
        lines[4].ends_with(&format!(
            "; {} gradient evaluations in total",
            fit.gradient_evals()
        )),
        "{}",
        lines[4]
    );
    assert_eq!(lines[5], "");
    let header: Vec<&str> = lines[6].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "Mean", "MCSE", "StdDev", "5%", "50%", "95%", "ESS_bulk", "ESS_tail", "R_hat"
        ]
    );
    assert_eq!(lines[7], "");
    for (k, name) in STAT_NAMES.iter().enumerate() {
        assert!(
            lines[8 + k].starts_with(&format!("{name} ")),
            "{}",
            lines[8 + k]
        );
        assert_eq!(
            lines[8 + k].len(),
            lines[6].len(),
            "aligned: {}",
            lines[8 + k]
        );
    }
    // stepsize__ and divergent__ are constant within the chains: MCSE, ESS and R-hat NaN.
    let divergent: Vec<&str> = lines[13].split_whitespace().collect();
    assert_eq!(
        divergent[1..],
        ["0", "NaN", "0", "0", "0", "0", "NaN", "NaN", "NaN"]
    );
    assert_eq!(lines[15], "");
    assert!(lines[16].starts_with("x[1] ") && lines[17].starts_with("x[2] "));
    assert_eq!(lines[18], "");
    let chain_head: Vec<&str> = lines[19].split_whitespace().collect();
    assert_eq!(
        chain_head,
        [
            "Chain",
            "Draws",
            "Divergent",
            "Max_treedepth",
            "Gradient_evals",
            "Warmup_s",
            "Sampling_s"
        ]
    );
    for c in 0..3 {
        let cols: Vec<&str> = lines[20 + c].split_whitespace().collect();
        assert_eq!(cols[0], (c + 1).to_string());
        assert_eq!(cols[4], fit.chains[c].gradient_evals().to_string());
        assert_eq!(lines[20 + c].len(), lines[19].len());
    }
    assert!(lines[23].starts_with("Total "));
    assert_eq!(lines[24], "");
    assert!(lines[25].starts_with("ESS_bulk and ESS_tail"));
}

/// A summary built by hand: the chain table and time lines from the reports given, the
/// sampler rows' shapes checked against the parameters'.
#[test]
fn hand_built_summary() {
    let x = Array2::from_shape_fn((2, 50), |(c, i)| ((i * 17 + c * 5) % 50) as f64);
    let report = |id, divergent| ChainReport {
        id,
        draws: 50,
        divergent,
        max_treedepth_hits: 1,
        gradient_evals: 1000 * id as u64,
        warmup_seconds: 0.125,
        sampling_seconds: 0.5,
    };
    let summary = Summary::from_columns(&["x"], &[x.view()])
        .unwrap()
        .with_chain_reports(vec![report(1, 2), report(2, 0)])
        .with_wall_time(0.75);
    assert_eq!(summary.gradient_evals(), 3000);
    let text = summary.to_string();
    assert!(
        text.contains("Warmup took (0.125, 0.125) seconds, 0.250 seconds total\n"),
        "{text}"
    );
    assert!(
        text.contains("Sampling took (0.500, 0.500) seconds, 1.00 seconds total\n"),
        "{text}"
    );
    assert!(
        text.contains("Wall time 0.750 seconds; 3000 gradient evaluations in total\n"),
        "{text}"
    );
    let total: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("Total"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(total, ["Total", "100", "2", "2", "3000", "0.250", "1.00"]);

    // A sampler row of another shape is an error naming it.
    let short = Array2::zeros((2, 40));
    let err = Summary::from_columns(&["x"], &[x.view()])
        .unwrap()
        .with_sampler_rows(&["lp__"], &[short.view()])
        .unwrap_err();
    assert!(err.to_string().contains("lp__"), "{err}");
    // Without reports or wall time the old layout: no time lines, no chain table.
    let plain = Summary::from_columns(&["x"], &[x.view()])
        .unwrap()
        .to_string();
    assert!(
        !plain.contains("Warmup took") && !plain.contains("Chain"),
        "{plain}"
    );
}
