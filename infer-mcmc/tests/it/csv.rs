//! The Stan CSV writer and reader: exact round trips, CmdStan's layout, reading a file in
//! CmdStan's own style, and typed errors with line numbers.

use infer_mcmc::csv::{
    Adaptation, CsvError, CsvMetadata, CsvWriter, Engine, InverseMetric, MetricKind, NUTS_COLUMNS,
    StanCsv, Timing, read_csv,
};

/// Values that stress the number format: tiny, huge, negative zero, many digits.
fn awkward(i: usize, j: usize) -> f64 {
    let base = [
        0.1,
        -1.0 / 3.0,
        1e-300,
        -2.5e-7,
        123_456_789.123_456_78,
        6.02214076e23,
        -0.0,
        std::f64::consts::PI,
    ];
    base[(i + j) % base.len()] * (1.0 + i as f64 * 1e-3)
}

fn example(save_warmup: bool, metric: InverseMetric) -> StanCsv {
    let names = ["mu", "tau", "theta.1", "theta.2", "L.1.2"];
    let columns = StanCsv::nuts_columns(&names);
    let row = |i: usize| -> Vec<f64> {
        let mut r = vec![
            -7.25 - i as f64,
            0.93,
            0.457932,
            3.0,
            7.0,
            (i % 2) as f64,
            10.3,
        ];
        r.extend((0..names.len()).map(|j| awkward(i, j)));
        r
    };
    StanCsv {
        metadata: CsvMetadata {
            model: "eight_schools".into(),
            num_samples: 6,
            num_warmup: 4,
            save_warmup,
            seed: 12345,
            chain_id: 3,
            metric: match metric {
                InverseMetric::Unit => MetricKind::Unit,
                InverseMetric::Diagonal(_) => MetricKind::Diagonal,
                InverseMetric::Dense(_) => MetricKind::Dense,
                InverseMetric::LowRank(_) => MetricKind::Diagonal,
            },
            ..CsvMetadata::default()
        },
        columns,
        warmup_draws: if save_warmup {
            (100..104).map(row).collect()
        } else {
            vec![]
        },
        adaptation: Some(Adaptation {
            step_size: 0.457932,
            inverse_metric: metric,
        }),
        draws: (0..6).map(row).collect(),
        timing: Some(Timing {
            warmup_seconds: 0.062,
            sampling_seconds: 0.016,
        }),
    }
}

fn write_to_string(csv: &StanCsv) -> String {
    let mut out = Vec::new();
    csv.write(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn round_trips_exactly() {
    let metrics = [
        InverseMetric::Diagonal(vec![9.90327, 1.6423, 0.896773, 1e-12, 2.0]),
        InverseMetric::Dense(vec![
            vec![1.0, 0.25, 0.0, 0.0, 0.0],
            vec![0.25, 2.0, 0.0, 0.0, 0.0],
            vec![0.0, 0.0, 1.0, 0.0, 0.0],
            vec![0.0, 0.0, 0.0, 1.0, -0.125],
            vec![0.0, 0.0, 0.0, -0.125, 3.5],
        ]),
        InverseMetric::Unit,
    ];
    for save_warmup in [false, true] {
        for metric in metrics.clone() {
            let csv = example(save_warmup, metric);
            let text = write_to_string(&csv);
            let back = read_csv(text.as_bytes()).unwrap();
            assert_eq!(back, csv, "\n{text}");
            // Bit-exact, including the sign of zero.
            for (a, b) in back.draws.iter().flatten().zip(csv.draws.iter().flatten()) {
                assert_eq!(a.to_bits(), b.to_bits());
            }
        }
    }
}

#[test]
fn non_finite_values_round_trip() {
    let mut csv = example(false, InverseMetric::Unit);
    csv.draws[0][7] = f64::NAN;
    csv.draws[1][7] = f64::INFINITY;
    csv.draws[2][7] = f64::NEG_INFINITY;
    let text = write_to_string(&csv);
    assert!(text.contains(",NaN,") && text.contains(",inf,") && text.contains(",-inf,"));
    let back = read_csv(text.as_bytes()).unwrap();
    assert!(back.draws[0][7].is_nan());
    assert_eq!(back.draws[1][7], f64::INFINITY);
    assert_eq!(back.draws[2][7], f64::NEG_INFINITY);
}

#[test]
fn layout_follows_cmdstan() {
    let csv = example(
        false,
        InverseMetric::Diagonal(vec![1.5, 2.0, 0.5, 1.0, 1.0]),
    );
    let text = write_to_string(&csv);
    let lines: Vec<&str> = text.lines().collect();
    let header_at = lines
        .iter()
        .position(|l| l.starts_with("lp__"))
        .expect("header");
    assert!(lines[..header_at].iter().all(|l| l.starts_with('#')));
    assert_eq!(
        lines[header_at],
        "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,\
         mu,tau,theta.1,theta.2,L.1.2"
    );
    for expected in [
        "# model = eight_schools",
        "# method = sample",
        "#     num_samples = 6",
        "#     num_warmup = 4",
        "#     save_warmup = 0",
        "#     thin = 1",
        "#       engaged = 1",
        "#       delta = 0.8",
        "#     algorithm = hmc",
        "#         engine = nuts",
        "#             max_depth = 10",
        "#         metric = diag_e",
        "# id = 3",
        "#   seed = 12345",
    ] {
        assert!(
            lines[..header_at].contains(&expected),
            "missing {expected:?}"
        );
    }
    assert_eq!(
        &lines[header_at + 1..header_at + 5],
        [
            "# Adaptation terminated",
            "# Step size = 0.457932",
            "# Diagonal elements of inverse mass matrix:",
            "# 1.5, 2, 0.5, 1, 1",
        ]
    );
    let first_draw = lines[header_at + 5];
    assert!(first_draw.starts_with("-7.25,0.93,0.457932,3,7,0,10.3,"));
    let tail = &lines[lines.len() - 5..];
    assert_eq!(
        tail,
        [
            "# ",
            "#  Elapsed Time: 0.062 seconds (Warm-up)",
            "#                0.016 seconds (Sampling)",
            "#                0.078 seconds (Total)",
            "# ",
        ]
    );
    // Stan's reader takes the number from character 17 up to " seconds".
    for l in &tail[1..4] {
        let end = l.find(" seconds").unwrap();
        assert!(l[17..end].parse::<f64>().is_ok(), "{l}");
    }
}

#[test]
fn dense_metric_static_engine_and_large_seed() {
    let mut csv = example(
        true,
        InverseMetric::Dense(vec![vec![2.0, 0.5], vec![0.5, 1.0]]),
    );
    csv.metadata.engine = Engine::Static { int_time: 1.5 };
    csv.metadata.seed = u64::MAX;
    let text = write_to_string(&csv);
    assert!(text.contains("# Elements of inverse mass matrix:\n# 2, 0.5\n# 0.5, 1\n"));
    assert!(text.contains("#         engine = static\n"));
    assert!(text.contains("#   seed_u64 = 18446744073709551615\n"));
    assert!(!text.contains("#   seed = "));
    assert_eq!(read_csv(text.as_bytes()).unwrap(), csv);
}

#[test]
fn streaming_writer_matches_the_one_shot_writer() {
    let csv = example(true, InverseMetric::Diagonal(vec![1.0; 5]));
    let mut w = CsvWriter::new(Vec::new(), &csv.metadata, &csv.columns).unwrap();
    for r in &csv.warmup_draws {
        w.write_draw(r).unwrap();
    }
    w.write_adaptation(csv.adaptation.as_ref().unwrap())
        .unwrap();
    for r in &csv.draws {
        w.write_draw(r).unwrap();
    }
    let bytes = w.finish(csv.timing.as_ref()).unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), write_to_string(&csv));
}

/// A file in CmdStan 2.3x's own style ("(Default)" markers, `true`/`false`, extra keys,
/// saved warmup before the adaptation block).
pub const CMDSTAN_STYLE: &str = "\
# stan_version_major = 2
# stan_version_minor = 33
# stan_version_patch = 1
# model = bernoulli_model
# start_datetime = 2024-01-01 00:00:00 UTC
# method = sample (Default)
#   sample
#     num_samples = 3
#     num_warmup = 2
#     save_warmup = true
#     thin = 1 (Default)
#     adapt
#       engaged = true (Default)
#       gamma = 0.05 (Default)
#       delta = 0.9
#       kappa = 0.75 (Default)
#       t0 = 10 (Default)
#       init_buffer = 75 (Default)
#       term_buffer = 50 (Default)
#       window = 25 (Default)
#       save_metric = false (Default)
#     algorithm = hmc (Default)
#       hmc
#         engine = nuts (Default)
#           nuts
#             max_depth = 12
#         metric = diag_e (Default)
#         metric_file =  (Default)
#         stepsize = 1 (Default)
#         stepsize_jitter = 0 (Default)
#     num_chains = 1 (Default)
# id = 2
# data
#   file = bernoulli.data.json
# init = 2 (Default)
# random
#   seed = 3252652196 (Default)
# output
#   file = output.csv (Default)
#   diagnostic_file =  (Default)
#   refresh = 100 (Default)
#   sig_figs = -1 (Default)
# stanc_version = stanc3 v2.33.0
lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,theta
-7.1,0.5,1,1,1,0,7.5,0.2
-6.9,0.8,0.6,2,3,0,7.2,0.3
# Adaptation terminated
# Step size = 0.893542
# Diagonal elements of inverse mass matrix:
# 0.483503
-6.74827,0.913375,0.893542,1,3,0,6.76617,0.275415
-6.86631,0.968149,0.893542,2,3,0,6.92079,0.189815
-7.30225,0.921389,0.893542,1,3,0,7.4393,0.373048
# 
#  Elapsed Time: 0.005 seconds (Warm-up)
#                0.013 seconds (Sampling)
#                0.018 seconds (Total)
# 
";

#[test]
fn reads_cmdstan_output() {
    let csv = read_csv(CMDSTAN_STYLE.as_bytes()).unwrap();
    let m = &csv.metadata;
    assert_eq!(m.model, "bernoulli_model");
    assert_eq!((m.num_samples, m.num_warmup, m.thin), (3, 2, 1));
    assert!(m.save_warmup && m.adapt_engaged);
    assert_eq!(m.adapt_delta, 0.9);
    assert_eq!(m.engine, Engine::Nuts { max_depth: 12 });
    assert_eq!((m.chain_id, m.seed), (2, 3_252_652_196));
    assert_eq!(csv.columns[..7], NUTS_COLUMNS);
    assert_eq!(csv.columns[7], "theta");
    assert_eq!(csv.warmup_draws.len(), 2);
    assert_eq!(csv.draws.len(), 3);
    assert_eq!(csv.draws[2][7], 0.373048);
    assert_eq!(
        csv.adaptation,
        Some(Adaptation {
            step_size: 0.893542,
            inverse_metric: InverseMetric::Diagonal(vec![0.483503]),
        })
    );
    assert_eq!(
        csv.timing,
        Some(Timing {
            warmup_seconds: 0.005,
            sampling_seconds: 0.013
        })
    );
}

#[test]
fn read_errors_carry_line_numbers() {
    let header_line = CMDSTAN_STYLE
        .lines()
        .position(|l| l.starts_with("lp__"))
        .unwrap()
        + 1;
    let bad_number = CMDSTAN_STYLE.replace("-6.9,0.8", "-6.9,zero");
    match read_csv(bad_number.as_bytes()) {
        Err(CsvError::InvalidNumber { line, text }) => {
            assert_eq!((line, text.as_str()), (header_line + 2, "zero"));
        }
        other => panic!("unexpected {other:?}"),
    }
    let short_row = CMDSTAN_STYLE.replace("-6.9,0.8,0.6,2,3,0,7.2,0.3", "-6.9,0.8");
    match read_csv(short_row.as_bytes()) {
        Err(CsvError::FieldCount {
            line,
            expected,
            found,
        }) => assert_eq!((line, expected, found), (header_line + 2, 8, 2)),
        other => panic!("unexpected {other:?}"),
    }
    let bad_thin = CMDSTAN_STYLE.replace("thin = 1 (Default)", "thin = one");
    assert!(matches!(
        read_csv(bad_thin.as_bytes()),
        Err(CsvError::InvalidValue { line: 11, .. })
    ));
    let bad_step = CMDSTAN_STYLE.replace("# Step size = 0.893542", "# Step size = big");
    assert!(matches!(
        read_csv(bad_step.as_bytes()),
        Err(CsvError::InvalidNumber { .. })
    ));
    assert!(matches!(
        read_csv("# model = m\n".as_bytes()),
        Err(CsvError::MissingHeader)
    ));
}

#[test]
fn write_errors() {
    let mut csv = example(false, InverseMetric::Unit);
    csv.draws[2].pop();
    assert!(matches!(
        csv.write(Vec::new()),
        Err(CsvError::RowLength {
            row: 2,
            expected: 12,
            found: 11
        })
    ));
    let mut csv = example(false, InverseMetric::Unit);
    csv.columns[8] = "a,b".into();
    assert!(matches!(
        csv.write(Vec::new()),
        Err(CsvError::InvalidName { .. })
    ));
    let mut csv = example(false, InverseMetric::Unit);
    csv.columns.swap(0, 1);
    assert!(matches!(
        csv.write(Vec::new()),
        Err(CsvError::FirstColumnNotLp { .. })
    ));
    let mut csv = example(false, InverseMetric::Unit);
    csv.warmup_draws.push(csv.draws[0].clone());
    assert!(matches!(
        csv.write(Vec::new()),
        Err(CsvError::UnexpectedWarmup)
    ));
}

/// The whole file, byte for byte, as the writer has always written it (pinned when the
/// writer moved onto the `csv` crate): configuration, header, warmup row, dense adaptation
/// block, draws with non-finite values and every number form, timing block.
#[test]
fn writes_the_pinned_bytes() {
    let csv = StanCsv {
        metadata: CsvMetadata {
            model: "golden".into(),
            num_samples: 2,
            num_warmup: 1,
            save_warmup: true,
            seed: 4_000_000_000,
            chain_id: 2,
            metric: MetricKind::Dense,
            engine: Engine::Static { int_time: 1.5 },
            ..CsvMetadata::default()
        },
        columns: StanCsv::nuts_columns(&["a.1", "a.2"]),
        warmup_draws: vec![vec![-3.5, 0.25, 1.0, 2.0, 3.0, 0.0, 4.5, 1e-300, -0.0]],
        adaptation: Some(Adaptation {
            step_size: 0.625,
            inverse_metric: InverseMetric::Dense(vec![vec![2.0, 0.5], vec![0.5, 1e20]]),
        }),
        draws: vec![
            vec![
                -1.0 / 3.0,
                0.9,
                0.625,
                1.0,
                1.0,
                1.0,
                f64::NAN,
                f64::INFINITY,
                6.02214076e23,
            ],
            vec![
                -2.0,
                1.0,
                0.625,
                2.0,
                3.0,
                0.0,
                2.5,
                f64::NEG_INFINITY,
                123456789.125,
            ],
        ],
        timing: Some(Timing {
            warmup_seconds: 0.125,
            sampling_seconds: 2e-6,
        }),
    };
    let expected = format!(
        "\
# model = golden
# method = sample
#   sample
#     num_samples = 2
#     num_warmup = 1
#     save_warmup = 1
#     thin = 1
#     adapt
#       engaged = 1
#       gamma = 0.05
#       delta = 0.8
#       kappa = 0.75
#       t0 = 10
#       init_buffer = 75
#       term_buffer = 50
#       window = 25
#     algorithm = hmc
#       hmc
#         engine = static
#           static
#             int_time = 1.5
#         metric = dense_e
#         stepsize = 1
#         stepsize_jitter = 0
# id = 2
# init = 2
# random
#   seed = 4000000000
# infer_version = {}
lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,a.1,a.2
-3.5,0.25,1,2,3,0,4.5,1e-300,-0
# Adaptation terminated
# Step size = 0.625
# Elements of inverse mass matrix:
# 2, 0.5
# 0.5, 1e20
-0.3333333333333333,0.9,0.625,1,1,1,NaN,inf,6.02214076e23
-2,1,0.625,2,3,0,2.5,-inf,123456789.125
# 
#  Elapsed Time: 0.125 seconds (Warm-up)
#                2e-6 seconds (Sampling)
#                0.125002 seconds (Total)
# 
",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(write_to_string(&csv), expected);
    let back = read_csv(expected.as_bytes()).unwrap();
    assert_eq!(back.draws[1], csv.draws[1]);
    assert!(back.draws[0][6].is_nan());
}
