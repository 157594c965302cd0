//! The adaptation block of a Stan CSV file as [`read_csv`](super::read_csv) reads it, line by
//! line, and its final check.
//!
//! CmdStan writes `Adaptation terminated`, `Step size = ε`, then the metric: `No free
//! parameters for unit metric`, or `Diagonal elements of inverse mass matrix:` and one line,
//! or `Elements of inverse mass matrix:` and one line per row. After a diagonal line, infer
//! writes a low-rank metric's factors ([`LOW_RANK_TITLE`], then `D:`, `lambda:` and one `uⱼ:`
//! line per eigenvector); the diagonal line before them holds the diagonal of the whole
//! M⁻¹, so that CmdStan's readers (which stop after it) and ArviZ (which reads only the line
//! after a title naming the inverse mass matrix, and `key = value` lines — the block has
//! neither) see a diagonal metric.

use super::reader::{parse_list, parse_number};
use super::{Adaptation, CsvError, InverseMetric};
use crate::metric::{LowRankFactors, Metric};

/// The title line of a low-rank metric's factors (after `# `).
pub(super) const LOW_RANK_TITLE: &str = "Low-rank factors of the metric";

/// Where the reader is in the adaptation block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AdaptationState {
    /// Not in the block (or after it).
    None,
    StepSize,
    MetricTitle,
    DiagonalRow,
    /// After the diagonal line: a low-rank block may follow.
    AfterDiagonal,
    DenseRows,
    LowRankDiagonal,
    LowRankValues,
    LowRankVectors,
}

impl AdaptationState {
    /// Whether the block may end here at a draw.
    pub(super) fn ends_at_a_draw(self) -> bool {
        matches!(self, Self::None | Self::AfterDiagonal | Self::DenseRows)
    }

    /// Whether the block is cut short if the file ends here.
    pub(super) fn is_cut_short(self) -> bool {
        !matches!(self, Self::None | Self::AfterDiagonal | Self::DenseRows)
    }
}

/// Reads one comment line (its text after `#`, trimmed) in the adaptation block. Returns
/// whether the line was part of it; a line that is not leaves `state` at
/// [`AdaptationState::None`].
pub(super) fn read_comment(
    state: &mut AdaptationState,
    adaptation: &mut Option<Adaptation>,
    comment: &str,
    line: usize,
) -> Result<bool, CsvError> {
    let invalid = || CsvError::InvalidAdaptation { line };
    match *state {
        AdaptationState::None => return Ok(false),
        AdaptationState::StepSize => {
            let value = comment
                .strip_prefix("Step size")
                .and_then(|v| v.trim().strip_prefix('='))
                .ok_or_else(invalid)?;
            let step_size = parse_number(value.trim(), line)?;
            *adaptation = Some(Adaptation {
                step_size,
                inverse_metric: InverseMetric::Unit,
            });
            *state = AdaptationState::MetricTitle;
        }
        AdaptationState::MetricTitle => {
            *state = if comment.starts_with("Diagonal elements of inverse") {
                AdaptationState::DiagonalRow
            } else if comment.starts_with("Elements of inverse") {
                set_metric(adaptation, InverseMetric::Dense(Vec::new()));
                AdaptationState::DenseRows
            } else if comment.starts_with("No free parameters") {
                AdaptationState::None
            } else {
                return Err(invalid());
            };
        }
        AdaptationState::DiagonalRow => {
            set_metric(
                adaptation,
                InverseMetric::Diagonal(parse_list(comment, line)?),
            );
            *state = AdaptationState::AfterDiagonal;
        }
        AdaptationState::AfterDiagonal => {
            if !comment.starts_with(LOW_RANK_TITLE) {
                *state = AdaptationState::None;
                return Ok(false);
            }
            set_metric(
                adaptation,
                InverseMetric::LowRank(LowRankFactors {
                    diagonal: Vec::new(),
                    eigenvalues: Vec::new(),
                    eigenvectors: Vec::new(),
                }),
            );
            *state = AdaptationState::LowRankDiagonal;
        }
        AdaptationState::DenseRows => {
            let is_row = comment
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || "+-.".contains(c) || c == 'N');
            if !is_row {
                *state = AdaptationState::None;
                return Ok(false);
            }
            let row = parse_list(comment, line)?;
            if let Some(Adaptation {
                inverse_metric: InverseMetric::Dense(m),
                ..
            }) = adaptation
            {
                m.push(row);
            }
        }
        AdaptationState::LowRankDiagonal
        | AdaptationState::LowRankValues
        | AdaptationState::LowRankVectors => {
            let Some(Adaptation {
                inverse_metric: InverseMetric::LowRank(f),
                ..
            }) = adaptation
            else {
                return Err(invalid());
            };
            let label = match *state {
                AdaptationState::LowRankDiagonal => "D:".to_owned(),
                AdaptationState::LowRankValues => "lambda:".to_owned(),
                _ => format!("u{}:", f.eigenvectors.len() + 1),
            };
            let values = comment.strip_prefix(&label).ok_or_else(invalid)?.trim();
            let values = if values.is_empty() {
                Vec::new()
            } else {
                parse_list(values, line)?
            };
            if *state == AdaptationState::LowRankDiagonal {
                f.diagonal = values;
                *state = AdaptationState::LowRankValues;
                return Ok(true);
            }
            if *state == AdaptationState::LowRankValues {
                f.eigenvalues = values;
            } else {
                f.eigenvectors.push(values);
            }
            // The block ends after one line per eigenvalue.
            *state = if f.eigenvectors.len() >= f.eigenvalues.len() {
                AdaptationState::None
            } else {
                AdaptationState::LowRankVectors
            };
        }
    }
    Ok(true)
}

fn set_metric(adaptation: &mut Option<Adaptation>, metric: InverseMetric) {
    if let Some(a) = adaptation {
        a.inverse_metric = metric;
    }
}

/// The adapted step size and metric: finite, positive where they must be, and a shape that
/// `params` parameter columns can hold; a low-rank metric's factors as
/// [`Metric::low_rank`] requires them (orthonormal eigenvectors).
pub(super) fn check(a: &Adaptation, params: usize, line: usize) -> Result<(), CsvError> {
    let fail = |reason: String| Err(CsvError::InvalidMetric { line, reason });
    if !(a.step_size > 0.0 && a.step_size.is_finite()) {
        return fail(format!(
            "step size {} is not finite and positive",
            a.step_size
        ));
    }
    let size_ok = |n: usize| (1..=params).contains(&n);
    match &a.inverse_metric {
        InverseMetric::Unit => Ok(()),
        InverseMetric::Diagonal(d) => {
            if !size_ok(d.len()) {
                return fail(format!(
                    "diagonal metric of length {} for {params} parameter columns (1 ..= {params})",
                    d.len()
                ));
            }
            match d.iter().find(|v| !(**v > 0.0 && v.is_finite())) {
                Some(v) => fail(format!(
                    "diagonal metric element {v} is not finite and positive"
                )),
                None => Ok(()),
            }
        }
        InverseMetric::Dense(rows) => {
            let n = rows.len();
            if !size_ok(n) {
                return fail(format!(
                    "dense metric of {n} rows for {params} parameter columns (1 ..= {params})"
                ));
            }
            if let Some(r) = rows.iter().find(|r| r.len() != n) {
                return fail(format!(
                    "dense metric is not square: a row of {} values in {n} rows",
                    r.len()
                ));
            }
            match rows.iter().flatten().find(|v| !v.is_finite()) {
                Some(v) => fail(format!("dense metric element {v} is not finite")),
                None => Ok(()),
            }
        }
        InverseMetric::LowRank(f) => {
            if !size_ok(f.diagonal.len()) {
                return fail(format!(
                    "low-rank metric of dimension {} for {params} parameter columns (1 ..= {params})",
                    f.diagonal.len()
                ));
            }
            match Metric::low_rank(
                f.diagonal.clone(),
                f.eigenvalues.clone(),
                f.eigenvectors.clone(),
            ) {
                Ok(_) => Ok(()),
                Err(e) => fail(format!("low-rank metric: {e}")),
            }
        }
    }
}
