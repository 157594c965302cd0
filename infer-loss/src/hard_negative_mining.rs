//! Hard negative mining: keep every positive and only the hardest negatives.

use crate::error::LossError;
use ndarray::{Array2, ArrayView2};

/// Suppresses the bulk of easy negatives: for each example (row), keeps all positive
/// predictions (`labels > 0`) and the `neg_pos_ratio × (number of positives)` negatives with
/// the largest loss, so that negatives outnumber positives by at most that ratio. Returns the
/// mask to apply to the loss; the inputs are not modified. Ties are broken by position (the
/// earlier element ranks higher). A row without positives keeps nothing.
///
/// # Errors
/// [`LossError::ShapeMismatch`] when `losses` and `labels` differ in shape;
/// [`LossError::InvalidArgument`] for a negative or non-finite `neg_pos_ratio` or a NaN loss.
///
/// # Examples
/// ```
/// use ndarray::array;
/// let losses = array![[0.9, 0.1, 0.5, 0.7], [0.3, 0.2, 0.8, 0.6]];
/// let labels = array![[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]];
/// let mask = infer_loss::hard_negative_mining(losses.view(), labels.view(), 2.0)?;
/// assert_eq!(mask, array![[true, true, false, true], [false, false, false, false]]);
/// # Ok::<(), infer_loss::LossError>(())
/// ```
///
/// # References
/// Liu, W. et al. (2016). SSD: Single Shot MultiBox Detector. ECCV (hard negative mining
/// with a 3:1 negative:positive ratio).
pub fn hard_negative_mining(
    losses: ArrayView2<'_, f64>,
    labels: ArrayView2<'_, f64>,
    neg_pos_ratio: f64,
) -> Result<Array2<bool>, LossError> {
    if losses.shape() != labels.shape() {
        return Err(LossError::ShapeMismatch {
            what: "hard_negative_mining losses vs labels",
            left: losses.shape().to_vec(),
            right: labels.shape().to_vec(),
        });
    }
    if !(neg_pos_ratio >= 0.0 && neg_pos_ratio.is_finite()) {
        return Err(LossError::InvalidArgument {
            name: "neg_pos_ratio",
            value: neg_pos_ratio,
            expected: "a finite number ≥ 0",
        });
    }
    if let Some(bad) = losses.iter().find(|x| x.is_nan()) {
        return Err(LossError::InvalidArgument {
            name: "losses",
            value: *bad,
            expected: "no NaN",
        });
    }
    let (rows, cols) = losses.dim();
    let mut mask = Array2::from_elem((rows, cols), false);
    let mut negatives: Vec<usize> = Vec::with_capacity(cols);
    for i in 0..rows {
        negatives.clear();
        let mut num_pos = 0usize;
        for j in 0..cols {
            if labels[[i, j]] > 0.0 {
                mask[[i, j]] = true;
                num_pos += 1;
            } else {
                negatives.push(j);
            }
        }
        let keep = ((num_pos as f64) * neg_pos_ratio).ceil() as usize;
        // stable sort by descending loss: ties keep their original order
        negatives.sort_by(|&a, &b| losses[[i, b]].total_cmp(&losses[[i, a]]));
        for &j in negatives.iter().take(keep) {
            mask[[i, j]] = true;
        }
    }
    Ok(mask)
}
