//! From a fit to its outputs: CmdStan CSV files that read back exactly, the summary with the
//! sampler's warnings, and live progress bars.

use std::io::Write;
use std::sync::{Arc, Mutex};

use infer_mcmc::csv::{Engine, InverseMetric, MetricKind as CsvMetricKind, StanCsv, read_csv};
use infer_mcmc::layout::{EntrySpec, Layout, LayoutError};
use infer_mcmc::models::{EightSchools, Gauss};
use infer_mcmc::summary::Warning;
use infer_mcmc::{
    Algorithm, Fit, LogDensity, LogDensityError, MetricKind, OutputError, ProgressBars,
    ProgressStyle, STAT_NAMES, Sampler, SamplerSettings,
};

use super::common::{fit_each, runs};

fn eight_schools_fit(settings: SamplerSettings) -> Fit {
    fit_each(settings, |_| EightSchools::classic())
}

fn csv_text(fit: &Fit, chain: usize, model: &str) -> Vec<u8> {
    let mut out = Vec::new();
    fit.write_cmdstan_csv(chain, &mut out, model).unwrap();
    out
}

/// Every value of a CSV row equals, bit for bit, the chain's statistics then its draw.
fn assert_rows_match(
    rows: &[Vec<f64>],
    stats: &[infer_mcmc::DrawStats],
    draws: ndarray::ArrayView2<'_, f64>,
) {
    assert_eq!(rows.len(), stats.len());
    for ((row, s), d) in rows.iter().zip(stats).zip(draws.rows()) {
        let expected: Vec<u64> = s
            .to_array()
            .iter()
            .chain(d.iter())
            .map(|v| v.to_bits())
            .collect();
        let got: Vec<u64> = row.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, expected);
    }
}

#[test]
fn csv_reads_back_exactly_with_cmdstan_header_and_columns() {
    let settings = SamplerSettings {
        thin: 2,
        save_warmup: true,
        seed: 5_000_000_000,
        target_accept: 0.9,
        ..runs(2, 300, 200)
    };
    let fit = eight_schools_fit(settings);
    let text = csv_text(&fit, 1, "eight_schools");
    let csv = read_csv(text.as_slice()).unwrap();
    assert_eq!(csv, fit.to_stan_csv(1, "eight_schools").unwrap());

    let names: Vec<String> = ["mu", "tau"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain((1..=8).map(|j| format!("eta.{j}")))
        .collect();
    assert_eq!(csv.columns[..7], STAT_NAMES);
    assert_eq!(csv.columns[7..], names);

    let m = &csv.metadata;
    assert_eq!(m.model, "eight_schools");
    assert_eq!((m.num_samples, m.num_warmup, m.thin), (200, 300, 2));
    assert!(m.save_warmup && m.adapt_engaged);
    assert_eq!((m.adapt_delta, m.chain_id, m.seed), (0.9, 2, 5_000_000_000));
    assert_eq!(m.engine, Engine::Nuts { max_depth: 10 });
    assert_eq!(m.metric, CsvMetricKind::Diagonal);

    let chain = &fit.chains[1];
    let adaptation = csv.adaptation.as_ref().unwrap();
    assert_eq!(adaptation.step_size.to_bits(), chain.step_size.to_bits());
    assert_eq!(
        adaptation.inverse_metric,
        InverseMetric::Diagonal(chain.metric.inverse_diagonal())
    );
    assert_rows_match(&csv.draws, &chain.stats, chain.draws.view());
    // Warmup rows thinned as CmdStan does: iterations 0, 2, 4, …
    assert_eq!(csv.warmup_draws.len(), 150);
    let kept: Vec<usize> = (0..300).step_by(2).collect();
    let warm_stats: Vec<_> = kept.iter().map(|&i| chain.warmup_stats[i]).collect();
    let warm_draws = chain.warmup_draws.select(ndarray::Axis(0), &kept);
    assert_rows_match(&csv.warmup_draws, &warm_stats, warm_draws.view());
    let timing = csv.timing.unwrap();
    assert_eq!(timing.warmup_seconds, chain.warmup_seconds);
    assert_eq!(timing.sampling_seconds, chain.sampling_seconds);

    // CmdStan's layout, line by line where it matters to Stan's readers.
    let text = String::from_utf8(text).unwrap();
    for line in [
        "# model = eight_schools",
        "#     num_samples = 200",
        "#     num_warmup = 300",
        "#     save_warmup = 1",
        "#     thin = 2",
        "#       engaged = 1",
        "#       delta = 0.9",
        "#             max_depth = 10",
        "#         metric = diag_e",
        "# id = 2",
        "#   seed_u64 = 5000000000",
        "# Adaptation terminated",
        "# Diagonal elements of inverse mass matrix:",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?}");
    }
    let header = format!("{},{}", STAT_NAMES.join(","), names.join(","));
    assert!(text.lines().any(|l| l == header));
}

#[test]
fn dense_metric_and_static_hmc_are_recorded() {
    let settings = SamplerSettings {
        metric: MetricKind::Dense,
        seed: 3,
        ..runs(1, 200, 30)
    };
    let fit = fit_each(settings, |_| Gauss::new(3));
    let csv = read_csv(csv_text(&fit, 0, "gauss3").as_slice()).unwrap();
    assert_eq!(csv, fit.to_stan_csv(0, "gauss3").unwrap());
    assert_eq!(csv.metadata.metric, CsvMetricKind::Dense);
    assert_eq!(csv.metadata.seed, 3);
    let rows: Vec<Vec<f64>> = fit.chains[0]
        .metric
        .inverse_matrix()
        .chunks(3)
        .map(<[f64]>::to_vec)
        .collect();
    assert_eq!(
        csv.adaptation.unwrap().inverse_metric,
        InverseMetric::Dense(rows)
    );
    assert_eq!(csv.columns[7..], ["x.1", "x.2", "x.3"]);

    let hmc = SamplerSettings {
        algorithm: Algorithm::StaticHmc { num_steps: 6 },
        metric: MetricKind::Diagonal,
        ..settings
    };
    let fit = fit_each(hmc, |_| Gauss::new(2));
    let csv = read_csv(csv_text(&fit, 0, "gauss2").as_slice()).unwrap();
    assert_eq!(csv, fit.to_stan_csv(0, "gauss2").unwrap());
    let Engine::Static { int_time } = csv.metadata.engine else {
        panic!("static engine expected, got {:?}", csv.metadata.engine);
    };
    assert_eq!(int_time, 6.0 * fit.chains[0].step_size);
    assert!(csv.draws.iter().all(|r| r[3] == 0.0 && r[4] == 6.0));
}

#[test]
fn no_warmup_writes_no_adaptation_block() {
    let settings = SamplerSettings {
        initial_step_size: 0.5,
        ..runs(1, 0, 20)
    };
    let fit = fit_each(settings, |_| Gauss::new(2));
    let csv = read_csv(csv_text(&fit, 0, "gauss").as_slice()).unwrap();
    assert!(!csv.metadata.adapt_engaged);
    assert_eq!(csv.metadata.stepsize, 0.5);
    assert_eq!(csv.adaptation, None);
    assert_eq!(csv.draws.len(), 20);
}

#[test]
fn one_file_per_chain_named_like_cmdstan() {
    let settings = SamplerSettings {
        seed: 8,
        ..runs(3, 150, 40)
    };
    let fit = eight_schools_fit(settings);
    let dir = std::env::temp_dir().join(format!("infer-mcmc-output-{}", std::process::id()));
    let paths = fit
        .write_cmdstan_csvs(dir.join("out").join("eight_schools"))
        .unwrap();
    assert_eq!(paths.len(), 3);
    for (c, path) in paths.iter().enumerate() {
        assert_eq!(
            path.file_name().unwrap().to_str().unwrap(),
            format!("eight_schools_{}.csv", c + 1)
        );
        let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let csv = StanCsv::read(file).unwrap();
        assert_eq!(csv, fit.to_stan_csv(c, "eight_schools").unwrap());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn output_errors() {
    let settings = runs(1, 20, 10);
    let fit = fit_each(settings, |_| Gauss::new(1));
    let mut sink = Vec::new();
    assert!(matches!(
        fit.write_cmdstan_csv(1, &mut sink, "m"),
        Err(OutputError::NoSuchChain {
            chain: 1,
            chains: 1
        })
    ));
    for bad in ["", "two\nlines"] {
        assert!(matches!(
            fit.write_cmdstan_csv(0, &mut sink, bad),
            Err(OutputError::InvalidModelName { .. })
        ));
    }
    assert!(matches!(
        fit.write_cmdstan_csvs(""),
        Err(OutputError::InvalidModelName { .. })
    ));
    // A name that cannot be a CSV column never reaches the writer: the layout rejects it.
    for bad in ["a,b", "a.b", "a[1]", "", "a b", "a\"b", "#a"] {
        let err = Layout::new(vec![EntrySpec::parameter(bad, &[], 1, None)]).unwrap_err();
        assert!(
            matches!(err, LayoutError::InvalidName { .. }),
            "{bad}: {err}"
        );
    }
}

#[test]
fn summary_covers_every_value_and_reports_sampler_problems() {
    let settings = SamplerSettings {
        seed: 2,
        ..runs(4, 300, 200)
    };
    let fit = eight_schools_fit(settings);
    let summary = fit.summary().unwrap();
    assert_eq!((summary.chains(), summary.draws()), (4, 200));
    let names: Vec<&str> = summary.rows().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        fit.param_names()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    let tau = fit.draws_by_name("tau").unwrap();
    let row = summary.get("tau").unwrap();
    assert!((row.diagnostics.mean - tau.mean().unwrap()).abs() < 1e-12);
    let divergences = summary
        .warnings()
        .iter()
        .find_map(|w| match w {
            Warning::Divergences { count, .. } => Some(*count),
            _ => None,
        })
        .unwrap_or(0);
    assert_eq!(divergences, fit.num_divergent() as u64);
    println!("{summary}");

    // Tree depth 1 everywhere: every transition hits the limit.
    let shallow = eight_schools_fit(SamplerSettings {
        max_depth: 1,
        ..settings
    });
    let warnings = shallow.summary().unwrap().warnings();
    assert!(warnings.contains(&Warning::MaxTreedepth {
        count: 800,
        transitions: 800,
        max_depth: 1
    }));
}

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

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[test]
fn progress_bars_follow_every_chain_to_the_end() {
    let settings = SamplerSettings {
        num_threads: 3,
        ..runs(3, 100, 100)
    };
    let lines = Shared::default();
    let redraw = Shared::default();
    let bars = ProgressBars::for_settings(&settings)
        .unwrap()
        .with_writer(lines.clone(), ProgressStyle::Lines);
    Sampler::new(settings)
        .unwrap()
        .with_observer(bars)
        .sample(|_| EightSchools::classic())
        .unwrap();
    let text = lines.text();
    for c in 1..=3 {
        assert!(
            text.contains(&format!("chain {c}: done     200/200 100%")),
            "{text}"
        );
        assert!(
            text.contains(&format!("chain {c}: sampling 101/200  50%")),
            "{text}"
        );
    }

    let bars = ProgressBars::for_settings(&settings)
        .unwrap()
        .with_writer(redraw.clone(), ProgressStyle::Redraw);
    Sampler::new(settings)
        .unwrap()
        .with_observer(&bars)
        .sample(|_| EightSchools::classic())
        .unwrap();
    let text = redraw.text();
    let last_frame = text.rsplit("\x1b[3A").next().unwrap();
    assert_eq!(
        last_frame.matches("done     200/200 100%").count(),
        3,
        "{text:?}"
    );
}

/// a[i,j] ~ N(10 i + j, 1) for a 2×3 matrix recorded row-major (`a[1,1], a[1,2], …`), then a
/// vector s[1..2] ~ N(i, 1): every element has its own mean, so a column written under the
/// wrong name shows.
#[derive(Debug)]
struct MatrixModel;

const MATRIX_MEANS: [f64; 8] = [11.0, 12.0, 13.0, 21.0, 22.0, 23.0, 1.0, 2.0];

impl LogDensity for MatrixModel {
    fn dim(&self) -> usize {
        MATRIX_MEANS.len()
    }
    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        let mut lp = 0.0;
        for ((g, &xi), &m) in grad.iter_mut().zip(x).zip(&MATRIX_MEANS) {
            *g = m - xi;
            lp -= 0.5 * (xi - m) * (xi - m);
        }
        Ok(lp)
    }
    fn layout(&self) -> Layout {
        Layout::new(vec![
            EntrySpec::parameter("a", &[2, 3], 6, None),
            EntrySpec::parameter("s", &[2], 2, None),
        ])
        .expect("valid layout")
    }
}

#[test]
fn matrix_elements_are_written_column_major_as_stan_does() {
    let settings = SamplerSettings {
        save_warmup: true,
        seed: 4,
        ..runs(1, 100, 20)
    };
    let fit = fit_each(settings, |_| MatrixModel);
    let csv = read_csv(csv_text(&fit, 0, "matrix").as_slice()).unwrap();
    assert_eq!(csv, fit.to_stan_csv(0, "matrix").unwrap());
    // CmdStan's order: the first index fastest.
    assert_eq!(
        csv.columns[7..],
        [
            "a.1.1", "a.2.1", "a.1.2", "a.2.2", "a.1.3", "a.2.3", "s.1", "s.2"
        ]
    );
    // Each column holds the draws of the value it names, warmup included.
    let chain = &fit.chains[0];
    for (k, column) in csv.columns[7..].iter().enumerate() {
        // `a.2.1` is a[2,1]: row-major column 3 of the recorded row
        let index: Vec<usize> = column
            .split('.')
            .skip(1)
            .map(|i| i.parse::<usize>().unwrap() - 1)
            .collect();
        let base = column.split('.').next().unwrap();
        let j = fit.layout.column(base, &index).unwrap();
        for (rows, draws) in [
            (&csv.draws, &chain.draws),
            (&csv.warmup_draws, &chain.warmup_draws),
        ] {
            assert_eq!(rows.len(), draws.nrows());
            for (row, draw) in rows.iter().zip(draws.rows()) {
                assert_eq!(row[7 + k].to_bits(), draw[j].to_bits(), "{column}");
            }
        }
    }
    // The summary keeps the recorded (row-major) order.
    let summary = fit.summary().unwrap();
    let names: Vec<&str> = summary.rows().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, fit.param_names());
}

/// What `stan::io::stan_csv_reader::parse` (Stan 2.35, used by CmdStan's `stansummary`)
/// extracts from a file, reimplemented line for line where its parsing is positional.
#[derive(Debug, Default)]
struct StanReaderView {
    config: Vec<(String, String)>,
    header: Vec<String>,
    /// `None` when the reader's `read_adaptation` fails (it warns and goes on).
    step_size: Option<f64>,
    metric: Vec<Vec<f64>>,
    rows: usize,
    warmup_seconds: f64,
    sampling_seconds: f64,
}

impl StanReaderView {
    fn parse(text: &str) -> Self {
        let mut view = Self::default();
        let mut lines = text.lines().peekable();
        // read_metadata: the leading `#` lines, `name = value` with " (Default)" dropped.
        while let Some(line) = lines.next_if(|l| l.starts_with('#')) {
            if let Some((name, value)) = line[1..].split_once('=') {
                let value = value.trim().replacen(" (Default)", "", 1);
                view.config.push((name.trim().to_owned(), value));
            }
        }
        // read_header: the next line must start with a letter.
        let header = lines.next().expect("a header line");
        assert!(
            header.starts_with(|c: char| c.is_ascii_alphabetic()),
            "{header}"
        );
        view.header = header.split(',').map(|c| c.trim().to_owned()).collect();
        // read_adaptation: the `#` lines right after the header, at least 4 of them; the
        // step size after the `=` of the second; then lines − 3 metric rows, as many values
        // each as the first row has.
        let block: Vec<&str> =
            std::iter::from_fn(|| lines.next_if(|l| l.starts_with('#'))).collect();
        if block.len() >= 4 {
            let (_, step) = block[1].split_once('=').expect("`# Step size = …`");
            view.step_size = Some(step.trim().parse().expect("a step size"));
            let cols = block[3].matches(',').count() + 1;
            for row in &block[3..] {
                let values: Vec<f64> = row[1..]
                    .split(',')
                    .map(|v| v.trim().parse().expect("a metric value"))
                    .collect();
                assert_eq!(values.len(), cols, "{row}");
                view.metric.push(values);
            }
        }
        // read_samples: every non-comment row has the header's width; the times are read
        // from character 17 to " seconds".
        for line in lines {
            if line.starts_with('#') {
                let time = || {
                    let end = line.find(" seconds").expect("seconds");
                    line[17..end].trim().parse::<f64>().expect("a time")
                };
                if line.contains("(Warm-up)") {
                    view.warmup_seconds += time();
                } else if line.contains("(Sampling)") {
                    view.sampling_seconds += time();
                }
            } else if !line.is_empty() {
                assert_eq!(line.matches(',').count() + 1, view.header.len(), "{line}");
                for v in line.split(',') {
                    v.parse::<f64>().expect("a number");
                }
                view.rows += 1;
            }
        }
        view
    }

    fn get(&self, key: &str) -> &str {
        let found = self.config.iter().find(|(k, _)| k == key);
        found.map_or_else(|| panic!("no `{key} = …`"), |(_, v)| v.as_str())
    }
}

#[test]
fn files_read_as_stan_csv_reader_reads_them() {
    for (metric, save_warmup, thin) in [
        (MetricKind::Diagonal, false, 1),
        (MetricKind::Dense, false, 2),
        (MetricKind::Diagonal, true, 3),
    ] {
        let settings = SamplerSettings {
            metric,
            save_warmup,
            thin,
            seed: 6,
            ..runs(1, 100, 40)
        };
        let fit = fit_each(settings, |_| MatrixModel);
        let text = String::from_utf8(csv_text(&fit, 0, "matrix")).unwrap();
        let view = StanReaderView::parse(&text);
        let chain = &fit.chains[0];

        // Metadata as the reader parses it (`>>` into size_t / bool / int: integers only).
        assert_eq!(view.get("model"), "matrix");
        assert_eq!(view.get("num_samples"), "40");
        assert_eq!(view.get("num_warmup"), "100");
        assert_eq!(view.get("save_warmup"), if save_warmup { "1" } else { "0" });
        assert_eq!(view.get("thin"), thin.to_string());
        assert_eq!(view.get("id"), "1");
        assert_eq!(view.get("seed"), "6");
        assert_eq!(view.get("algorithm"), "hmc");
        assert_eq!(view.get("engine"), "nuts");
        assert_eq!(view.get("max_depth"), "10");
        assert_eq!(
            view.get("metric"),
            if metric == MetricKind::Dense {
                "dense_e"
            } else {
                "diag_e"
            }
        );

        assert_eq!(view.header[..7], STAT_NAMES);
        assert_eq!(view.header[0], "lp__");
        let warmup_rows = if save_warmup {
            100usize.div_ceil(thin)
        } else {
            0
        };
        assert_eq!(view.rows, 40usize.div_ceil(thin) + warmup_rows);
        assert_eq!(view.warmup_seconds, chain.warmup_seconds);
        assert_eq!(view.sampling_seconds, chain.sampling_seconds);

        if save_warmup {
            // Saved warmup rows sit between the header and the adaptation block, as in
            // CmdStan's files; Stan's reader then skips the block with a warning.
            assert_eq!(view.step_size, None);
        } else {
            assert_eq!(view.step_size, Some(chain.step_size));
            let n = 8;
            let expected_rows = if metric == MetricKind::Dense { n } else { 1 };
            assert_eq!(view.metric.len(), expected_rows);
            assert!(view.metric.iter().all(|r| r.len() == n));
        }
    }
}
