//! Hostile input for the Stan CSV reader (issue 13): a regression test per defect, then every
//! truncation (each byte prefix) and every single-bit flip of valid infer-written files. The
//! reader returns `Ok` only for complete valid files and never panics or hangs.
//!
//! Case counts (printed with `--nocapture`; the timing lines of the two sampled files vary a
//! few bytes from run to run): `every_prefix_of_a_valid_file_is_complete_or_an_error` reads
//! every prefix of three files, about 11,200 prefixes (about 33 accepted, each complete), and
//! `every_single_bit_flip_is_an_error_or_a_valid_file` every single-bit flip of two files,
//! 8 × their length, about 76,700 reads.

use infer_mcmc::csv::{CsvError, InverseMetric, StanCsv, read_csv};
use infer_mcmc::{MetricKind, SamplerSettings, models::EightSchools};

use super::common::{fit_each, runs, within};
use super::csv::CMDSTAN_STYLE;

/// An infer-written file of a short run.
fn infer_file(settings: SamplerSettings) -> Vec<u8> {
    let fit = fit_each(settings, |_| EightSchools::classic());
    let mut out = Vec::new();
    fit.write_cmdstan_csv(0, &mut out, "eight_schools").unwrap();
    out
}

fn diag_thinned_with_warmup() -> Vec<u8> {
    infer_file(SamplerSettings {
        thin: 2,
        save_warmup: true,
        seed: 5,
        ..runs(1, 25, 5)
    })
}

fn dense() -> Vec<u8> {
    infer_file(SamplerSettings {
        metric: MetricKind::Dense,
        seed: 6,
        ..runs(1, 30, 4)
    })
}

fn read(text: &str) -> Result<StanCsv, CsvError> {
    read_csv(text.as_bytes())
}

// ----------------------------------------------------------------------------------------
// Regression tests, one per defect of the issue.

/// Issue 13: a prefix holding 2 of the `num_samples = 4` draws was read as a complete file.
#[test]
fn truncated_draws_are_an_error() {
    let text = String::from_utf8(dense()).unwrap();
    let full = read(&text).unwrap();
    assert_eq!(full.draws.len(), 4);
    // Cut after the second draw (at a line break).
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let first_draw = lines
        .iter()
        .position(|l| l.starts_with('-') || l.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap();
    let cut: String = lines[..first_draw + 2].concat();
    assert!(matches!(
        read(&cut),
        Err(CsvError::DrawCount {
            what: "draw",
            expected: 4,
            found: 2
        })
    ));
    // Thinning is taken into account: 5 samples with thin 2 are 3 draws, and 25 warmup
    // iterations 13 saved warmup draws.
    let thinned = read(std::str::from_utf8(&diag_thinned_with_warmup()).unwrap()).unwrap();
    assert_eq!((thinned.warmup_draws.len(), thinned.draws.len()), (13, 3));
    let padded = format!("{}{}\n", CMDSTAN_STYLE, "-7.3,0.9,0.89,1,3,0,7.4,0.37");
    assert!(matches!(
        read(&padded),
        Err(CsvError::DrawCount {
            expected: 3,
            found: 4,
            ..
        })
    ));
    // A last line without its line break may be cut anywhere.
    let no_newline = CMDSTAN_STYLE
        .trim_end_matches("# \n")
        .trim_end_matches('\n');
    assert!(matches!(read(no_newline), Err(CsvError::Truncated { .. })));
    // The timing block is optional, but not a part of it.
    let no_timing = &CMDSTAN_STYLE[..CMDSTAN_STYLE.find("# \n#  Elapsed").unwrap()];
    assert_eq!(read(no_timing).unwrap().timing, None);
    let half_timing = &CMDSTAN_STYLE[..CMDSTAN_STYLE.find("#                0.013").unwrap()];
    assert!(matches!(read(half_timing), Err(CsvError::Truncated { .. })));
}

/// CmdStan's `fixed_param` runs have no warmup rows and no adaptation block whatever the
/// (default) warmup settings say: still complete.
#[test]
fn fixed_param_files_read() {
    let text = "\
# model = gq_model
# method = sample (Default)
#   sample
#     num_samples = 2
#     num_warmup = 1000 (Default)
#     save_warmup = 1
#     thin = 1 (Default)
#     adapt
#       engaged = 1 (Default)
#     algorithm = fixed_param
lp__,accept_stat__,y
0,0,1.5
0,0,2.5
# 
#  Elapsed Time: 0 seconds (Warm-up)
#                0.001 seconds (Sampling)
#                0.001 seconds (Total)
# 
";
    let csv = read(text).unwrap();
    assert_eq!((csv.warmup_draws.len(), csv.draws.len()), (0, 2));
    assert_eq!(csv.adaptation, None);
    let cut = &text[..text.find("0,0,2.5").unwrap()];
    assert!(matches!(read(cut), Err(CsvError::DrawCount { .. })));
}

/// Issue 13: a header not starting with `lp__` was accepted.
#[test]
fn header_must_start_with_lp() {
    let text = CMDSTAN_STYLE.replace("lp__,accept_stat__", "accept_stat__,lp__");
    assert!(matches!(
        read(&text),
        Err(CsvError::FirstColumnNotLp { first: Some(f) }) if f == "accept_stat__"
    ));
}

/// Issue 13: empty and duplicate column names were accepted.
#[test]
fn empty_and_duplicate_column_names_are_errors() {
    let empty = CMDSTAN_STYLE.replace("energy__,theta", "energy__,");
    assert!(matches!(read(&empty), Err(CsvError::InvalidName { name }) if name.is_empty()));
    let duplicate = CMDSTAN_STYLE.replace("energy__,theta", "energy__,lp__");
    assert!(matches!(
        read(&duplicate),
        Err(CsvError::DuplicateColumn { name, .. }) if name == "lp__"
    ));
}

/// Issue 13: `1e999` was read as ∞.
#[test]
fn out_of_range_numbers_are_errors() {
    let draw = CMDSTAN_STYLE.replace("-6.86631,0.968149", "-6.86631,1e999");
    assert!(matches!(
        read(&draw),
        Err(CsvError::NumberOutOfRange { text, .. }) if text == "1e999"
    ));
    let step = CMDSTAN_STYLE.replace("Step size = 0.893542", "Step size = -1e400");
    assert!(matches!(
        read(&step),
        Err(CsvError::NumberOutOfRange { .. })
    ));
    let config = CMDSTAN_STYLE.replace("delta = 0.9", "delta = 2e308");
    assert!(matches!(read(&config), Err(CsvError::InvalidValue { .. })));
    // The written forms of non-finite values still read.
    let inf = CMDSTAN_STYLE.replace("-6.86631,0.968149", "-6.86631,inf");
    assert_eq!(read(&inf).unwrap().draws[1][1], f64::INFINITY);
    let nan = CMDSTAN_STYLE.replace("-6.86631,0.968149", "-6.86631,NaN");
    assert!(read(&nan).unwrap().draws[1][1].is_nan());
}

/// Issue 13: a diagonal metric of the wrong length was accepted.
#[test]
fn metric_of_the_wrong_shape_is_an_error() {
    let long = CMDSTAN_STYLE.replace("# 0.483503\n", "# 0.483503, 1.2\n");
    assert!(matches!(read(&long), Err(CsvError::InvalidMetric { .. })));
    let negative = CMDSTAN_STYLE.replace("# 0.483503\n", "# -0.483503\n");
    assert!(matches!(
        read(&negative),
        Err(CsvError::InvalidMetric { .. })
    ));
    let text = String::from_utf8(dense()).unwrap();
    let full = read(&text).unwrap();
    let Some(InverseMetric::Dense(rows)) = full.adaptation.map(|a| a.inverse_metric) else {
        panic!("dense metric expected");
    };
    assert_eq!(rows.len(), 10);
    // Drop the last row of the dense metric: not square.
    let title = "# Elements of inverse mass matrix:\n";
    let start = text.find(title).unwrap() + title.len();
    let lines: Vec<&str> = text[start..].split_inclusive('\n').take(10).collect();
    assert!(lines.iter().all(|l| l.starts_with("# ")));
    let last_row_at = start + lines[..9].concat().len();
    let cut = format!(
        "{}{}",
        &text[..last_row_at],
        &text[last_row_at + lines[9].len()..]
    );
    assert!(matches!(read(&cut), Err(CsvError::InvalidMetric { .. })));
}

/// Issue 13: `thin = 0` was accepted.
#[test]
fn thin_zero_is_an_error() {
    let text = CMDSTAN_STYLE.replace("thin = 1 (Default)", "thin = 0");
    assert!(matches!(
        read(&text),
        Err(CsvError::InvalidValue { key, value, .. }) if key == "thin" && value == "0"
    ));
}

// ----------------------------------------------------------------------------------------
// Property suites.

/// Byte offset just after the line break of the last draw row: no prefix shorter than this
/// is complete.
fn end_of_last_draw(text: &[u8]) -> usize {
    let mut end = 0;
    let mut pos = 0;
    for line in text.split_inclusive(|b| *b == b'\n') {
        pos += line.len();
        let first = line.first().copied().unwrap_or(b'#');
        if first != b'#' && !line.starts_with(b"lp__") {
            end = pos;
        }
    }
    end
}

/// Every byte prefix of valid files: `Ok` only when nothing of the file is lost (the timing
/// block may be absent), never a panic.
#[test]
fn every_prefix_of_a_valid_file_is_complete_or_an_error() {
    let (accepted, total) = within(120, "CSV prefixes", || {
        let files = [
            diag_thinned_with_warmup(),
            dense(),
            CMDSTAN_STYLE.as_bytes().to_vec(),
        ];
        let (mut accepted, mut total) = (0, 0);
        for file in &files {
            let full = read_csv(file.as_slice()).expect("the whole file reads");
            let complete_from = end_of_last_draw(file);
            for len in 0..=file.len() {
                total += 1;
                let prefix = &file[..len];
                if let Ok(c) = read_csv(prefix) {
                    accepted += 1;
                    assert!(
                        len >= complete_from,
                        "prefix of {len} bytes (draws end at {complete_from}) accepted"
                    );
                    assert_eq!(c.metadata, full.metadata);
                    assert_eq!(c.columns, full.columns);
                    assert_eq!(c.warmup_draws, full.warmup_draws);
                    assert_eq!(c.adaptation, full.adaptation);
                    assert_eq!(c.draws, full.draws);
                    assert!(c.timing.is_none() || c.timing == full.timing, "{len}");
                }
            }
        }
        (accepted, total)
    });
    println!("CSV prefixes: {accepted} of {total} accepted, each complete");
    assert!((3..200).contains(&accepted), "{accepted}");
}

/// What `Ok` promises of any file: a header starting with `lp__` with distinct non-empty
/// names, rows of the header's width, and a well-formed adaptation block.
fn assert_valid(c: &StanCsv) {
    assert_eq!(c.columns.first().map(String::as_str), Some("lp__"));
    let mut names = c.columns.clone();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), c.columns.len());
    assert!(c.columns.iter().all(|n| !n.is_empty()));
    assert!(c.metadata.thin >= 1);
    for row in c.warmup_draws.iter().chain(&c.draws) {
        assert_eq!(row.len(), c.columns.len());
    }
    let params = c.columns.iter().filter(|n| !n.ends_with("__")).count();
    if let Some(a) = &c.adaptation {
        assert!(a.step_size > 0.0 && a.step_size.is_finite());
        match &a.inverse_metric {
            InverseMetric::Unit => {}
            InverseMetric::Diagonal(d) => {
                assert!((1..=params).contains(&d.len()));
                assert!(d.iter().all(|v| *v > 0.0 && v.is_finite()));
            }
            InverseMetric::Dense(rows) => {
                assert!((1..=params).contains(&rows.len()));
                assert!(rows.iter().all(|r| r.len() == rows.len()));
                assert!(rows.iter().flatten().all(|v| v.is_finite()));
            }
            InverseMetric::LowRank(f) => {
                assert!((1..=params).contains(&f.diagonal.len()));
                assert!(
                    infer_mcmc::Metric::low_rank(
                        f.diagonal.clone(),
                        f.eigenvalues.clone(),
                        f.eigenvectors.clone()
                    )
                    .is_ok()
                );
            }
        }
    }
}

/// Every single-bit flip of valid files: an error or a valid file, never a panic.
#[test]
fn every_single_bit_flip_is_an_error_or_a_valid_file() {
    let (accepted, total) = within(120, "CSV bit flips", || {
        let (mut accepted, mut total) = (0, 0);
        for file in [diag_thinned_with_warmup(), dense()] {
            let mut bytes = file.clone();
            for i in 0..bytes.len() {
                for bit in 0..8 {
                    bytes[i] ^= 1 << bit;
                    total += 1;
                    if let Ok(c) = read_csv(bytes.as_slice()) {
                        accepted += 1;
                        assert_valid(&c);
                    }
                    bytes[i] ^= 1 << bit;
                }
            }
        }
        (accepted, total)
    });
    println!("CSV bit flips: {accepted} of {total} read as valid files");
    assert!(accepted < total);
}
