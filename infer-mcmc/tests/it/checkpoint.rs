//! Checkpoints on disk: a run saved, read back and resumed gives the draws of one
//! uninterrupted run; bad files and mismatched settings are typed errors.

use crate::common::Triangle;
use infer_mcmc::checkpoint::{Checkpoint, CheckpointError};
use infer_mcmc::{Adaptation, McmcError, MetricKind, Sampler, SamplerSettings};
use ndarray::s;

use super::common::{fit_model, runs, uninterrupted};

/// 200 draws, a checkpoint written to a file and read back, 150 more: the 150 equal draws
/// 200..350 of one run of 350 (parameters, generated quantity, statistics), for a diagonal,
/// a dense and a low-rank metric, thinned by 2.
#[test]
fn resume_from_disk_equals_one_uninterrupted_run() {
    let dir = std::env::temp_dir().join(format!("infer-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (metric, adaptation) in [
        (MetricKind::Diagonal, Adaptation::Stan),
        (MetricKind::Dense, Adaptation::Stan),
        (MetricKind::LowRank, Adaptation::FisherLowRank),
    ] {
        let settings = SamplerSettings {
            thin: 2,
            seed: 77,
            metric,
            adaptation,
            ..runs(3, 200, 200)
        };
        let first = fit_model(settings, &Triangle);
        let path = dir.join(format!("{metric:?}.json"));
        first
            .checkpoint()
            .write_json(std::fs::File::create(&path).unwrap())
            .unwrap();
        let saved =
            Checkpoint::read_json(std::io::BufReader::new(std::fs::File::open(&path).unwrap()))
                .unwrap();
        let more = Sampler::new(settings)
            .unwrap()
            .resume_model(&saved, 150, &Triangle)
            .unwrap();
        let long = uninterrupted(settings, 350);
        assert_eq!(more.param_names(), long.param_names());
        for (a, b) in more.chains.iter().zip(&long.chains) {
            // thinned by 2: 100 kept draws before the checkpoint, 75 after
            assert_eq!(a.draws, b.draws.slice(s![100.., ..]), "{metric:?}");
            assert_eq!(a.stats[..], b.stats[100..]);
            assert_eq!(a.state.position(), b.state.position());
            assert_eq!(a.metric.inverse_matrix(), b.metric.inverse_matrix());
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn mismatched_settings_and_bad_files_are_typed_errors() {
    let settings = SamplerSettings {
        seed: 5,
        ..runs(1, 50, 10)
    };
    let fit = fit_model(settings, &Triangle);
    let checkpoint = fit.checkpoint();
    let other_seed = SamplerSettings {
        seed: 6,
        ..settings
    };
    let err = Sampler::new(other_seed)
        .unwrap()
        .resume_model(&checkpoint, 5, &Triangle)
        .unwrap_err();
    assert!(
        matches!(err, McmcError::InvalidSetting { name: "seed", .. }),
        "{err}"
    );

    let mut text = Vec::new();
    checkpoint.write_json(&mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    let newer = text.replacen("\"version\":1", "\"version\":2", 1);
    assert!(matches!(
        Checkpoint::read_json(newer.as_bytes()),
        Err(CheckpointError::Version {
            found: 2,
            expected: 1
        })
    ));
    let negative = text.replacen("\"inverse\":[", "\"inverse\":[-1.0,", 1);
    assert!(matches!(
        Checkpoint::read_json(negative.as_bytes()),
        Err(CheckpointError::Metric { chain: 0, .. }) | Err(CheckpointError::Format(_))
    ));
    assert!(matches!(
        Checkpoint::read_json(&b"not json"[..]),
        Err(CheckpointError::Format(_))
    ));
}
