//! What the two-state hidden Markov models `hmm_example` and `hmm_drive_0` share: the check of
//! the data sizes their Stan programs assume, and the forward algorithm, one tensor operation
//! over (j, k) a step.

use infer::prelude::*;

/// The number of states the programs are written for.
pub const K: usize = 2;

/// Checks `k` = [`K`] states (`fixed`: what the program writes out for two states) and `n` ≥ 1
/// observations (the forward algorithm starts from the first).
pub fn check_sizes(k: usize, n: usize, fixed: &str) -> Result<(), StanDataError> {
    if k != K {
        return Err(StanDataError::Shape {
            name: "K".into(),
            expected: format!("{K} ({fixed})"),
            found: k.to_string(),
        });
    }
    if n == 0 {
        return Err(StanDataError::Shape {
            name: "N".into(),
            expected: "at least 1 (the program reads the first observation)".into(),
            found: "0".into(),
        });
    }
    Ok(())
}

/// `gamma[N]` of the forward algorithm over the first `n` rows of `emit` (N × K, `emit[t, k]`
/// the log density of observation t in state k) with `log_theta[j, k]` the log probability of
/// the transition from state j to state k: `gamma[1] = emit[1]` and
/// `gamma[t, k] = log_sum_exp over j of (gamma[t - 1, j] + log_theta[j, k]) + emit[t, k]`.
/// The log likelihood is `log_sum_exp(gamma[N])`.
pub fn forward<'t>(
    emit: Tensor<'t>,
    log_theta: Tensor<'t>,
    n: usize,
) -> Result<Tensor<'t>, LogDensityError> {
    let mut gamma = emit.index_axis(0, 0)?;
    for t in 1..n {
        gamma =
            (gamma.reshape(&[K, 1])? + log_theta).log_sum_exp_axis(0)? + emit.index_axis(0, t)?;
    }
    Ok(gamma)
}
