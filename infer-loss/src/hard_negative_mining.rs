//! Hard negative mining: keep every positive and only the hardest negatives.

use crate::error::LossError;
use ndarray::{Array2, ArrayView2};

/// Suppresses the bulk of easy negatives: for each example (row), keeps all positive
/// entries and only the hardest negatives, so that kept negatives outnumber positives by at
/// most `neg_pos_ratio`. Returns the mask to apply to the loss; the inputs are not modified.
///
/// **What the labels are.** `losses[[i, j]]` and `labels[[i, j]]` belong to entry `j` (an
/// anchor, a pixel, a candidate box) of example `i`, and `labels[[i, j]]` is that entry's
/// *class id*, with `0` meaning background: an entry is positive when its label is `> 0`
/// and negative otherwise. This is how the Python original's code treats its labels
/// (`labels > 0`), although its docstring speaks of one-hot encodings. Do **not** pass
/// one-hot rows (a row per anchor, a column per class): every such row holds a `1`, so every
/// anchor — background ones included — would count as having a positive. Convert them to
/// class ids first (the column index of the `1`, background = column 0).
///
/// **How many negatives.** In each row with `p` positives, the `⌈neg_pos_ratio · p⌉`
/// negatives with the largest loss are kept (all of them if there are fewer): like the
/// original's `rank < neg_pos_ratio · p`, a fractional product rounds *up* (ratio 2.5 with 1
/// positive keeps 3 negatives). Ties are broken by position (the earlier entry ranks
/// higher). A row without positives keeps nothing; `neg_pos_ratio = 0` keeps positives only.
/// `+∞` losses are allowed and rank highest.
///
/// # Errors
/// [`LossError::ShapeMismatch`] when `losses` and `labels` differ in shape;
/// [`LossError::InvalidArgument`] for a negative or non-finite `neg_pos_ratio`, a NaN loss
/// or a NaN label.
///
/// # Examples
/// ```
/// use ndarray::array;
/// let losses = array![[0.9, 0.1, 0.5, 0.7], [0.3, 0.2, 0.8, 0.6]];
/// // class ids per entry, 0 = background
/// let labels = array![[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]];
/// let mask = infer_loss::hard_negative_mining(losses.view(), labels.view(), 2.0)?;
/// assert_eq!(mask, array![[true, true, false, true], [false, false, false, false]]);
/// # Ok::<(), infer_loss::LossError>(())
/// ```
///
/// Applying the mask to a loss recorded on the tape: the mask is data, so it enters as a
/// constant 0/1 tensor and the masked sum back-propagates only through the kept entries.
/// ```
/// use infer_ad::Tape;
/// use ndarray::array;
/// let tape = Tape::new();
/// let scores = tape.tensor(&array![[2.0, -1.0, 0.5], [0.3, 1.5, -0.2]]);
/// let labels = array![[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]];
/// let per_entry = scores.softplus(); // any per-entry loss on the tape
/// let values = per_entry.value().into_dimensionality::<ndarray::Ix2>()?;
/// let mask = infer_loss::hard_negative_mining(values.view(), labels.view(), 1.0)?;
/// let weights = tape.constant(&mask.mapv(|keep| if keep { 1.0 } else { 0.0 }));
/// let loss = (per_entry * weights).sum();
/// loss.backward();
/// // entry [0, 2] (loss 0.97) is the hardest negative of row 0; entry [0, 1] is dropped
/// assert_eq!(scores.grad()[[0, 1]], 0.0);
/// assert!(scores.grad()[[0, 2]] > 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
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
    if let Some(bad) = labels.iter().find(|x| x.is_nan()) {
        return Err(LossError::InvalidArgument {
            name: "labels",
            value: *bad,
            expected: "class ids, no NaN",
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
        // `as` saturates: a product beyond usize (a huge ratio) keeps every negative.
        let keep = ((num_pos as f64) * neg_pos_ratio).ceil() as usize;
        // stable sort by descending loss: ties keep their original order
        negatives.sort_by(|&a, &b| losses[[i, b]].total_cmp(&losses[[i, a]]));
        for &j in negatives.iter().take(keep) {
            mask[[i, j]] = true;
        }
    }
    Ok(mask)
}
