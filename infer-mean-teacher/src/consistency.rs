//! Consistency losses between student and teacher predictions, with the teacher side
//! detached (a constant on the tape).

use crate::error::MeanTeacherError;
use infer_ad::{Tensor, Var};

fn check_logits(student: &Tensor<'_>, teacher: &Tensor<'_>) -> Result<usize, MeanTeacherError> {
    let ok = student.ndim() == 2 && student.dims() == teacher.dims() && student.numel() > 0;
    if ok {
        Ok(student.dims()[0])
    } else {
        Err(MeanTeacherError::LogitShape {
            student: student.dims().to_vec(),
            teacher: teacher.dims().to_vec(),
        })
    }
}

/// Squared error between the student's and the teacher's class probabilities, divided by the
/// number of classes and averaged over the batch — the mean teacher's consistency cost:
///
/// `L = 1/(B·C) Σᵦ Σ꜀ (softmax(zₛ)ᵦ꜀ − softmax(zₜ)ᵦ꜀)²`
///
/// for logits `z` of shape `[B, C]`. The teacher's logits are detached first, so no gradient
/// reaches them whatever they are bound to. Multiply by the ramped consistency weight (see
/// [`sigmoid_rampup`](crate::sigmoid_rampup)).
///
/// # Errors
/// [`MeanTeacherError::LogitShape`] when the logits are not two non-empty matrices of the same
/// shape.
///
/// # Panics
/// If the two tensors live on different tapes.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_mean_teacher::softmax_mse;
/// let tape = Tape::new();
/// let s = tape.tensor(&ndarray::array![[0.0, 0.0]]);
/// let t = tape.tensor(&ndarray::array![[0.0, 2.0f64.ln()]]); // p = (1/3, 2/3)
/// let loss = softmax_mse(s, t)?;
/// let expected = ((0.5f64 - 1.0 / 3.0).powi(2) + (0.5f64 - 2.0 / 3.0).powi(2)) / 2.0;
/// assert!((loss.value() - expected).abs() < 1e-15);
/// loss.backward();
/// assert_eq!(t.grad().iter().copied().fold(0.0, f64::max), 0.0); // teacher detached
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
///
/// # References
/// Tarvainen, A. & Valpola, H. (2017). Mean teachers are better role models. NeurIPS
/// (`softmax_mse_loss` of the authors' code: sum over the batch, divided by the number of
/// classes, then by the batch size).
pub fn softmax_mse<'t>(
    student_logits: Tensor<'t>,
    teacher_logits: Tensor<'t>,
) -> Result<Var<'t>, MeanTeacherError> {
    check_logits(&student_logits, &teacher_logits)?;
    let ps = student_logits.softmax(1)?;
    let pt = teacher_logits.detach().softmax(1)?;
    let n = student_logits.numel() as f64;
    Ok((ps - pt).square().sum() * (1.0 / n))
}

/// KL(teacher ‖ student) between the class distributions of the two logits, averaged over the
/// batch, computed from log-softmax for stability:
///
/// `L = 1/B Σᵦ Σ꜀ pₜ,ᵦ꜀ (log pₜ,ᵦ꜀ − log pₛ,ᵦ꜀)`, `log p = log_softmax(z)`.
///
/// The teacher's logits are detached; the gradient with respect to the student's logits is
/// `(pₛ − pₜ)/B`.
///
/// # Errors
/// [`MeanTeacherError::LogitShape`] when the logits are not two non-empty matrices of the same
/// shape.
///
/// # Panics
/// If the two tensors live on different tapes.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_mean_teacher::kl_consistency;
/// let tape = Tape::new();
/// let s = tape.tensor(&ndarray::array![[1.0, -1.0], [0.5, 0.5]]);
/// let same = kl_consistency(s, s)?;
/// assert!(same.value().abs() < 1e-15);
/// let t = tape.tensor(&ndarray::array![[-1.0, 1.0], [0.5, 0.5]]);
/// let kl = kl_consistency(s, t)?;
/// assert!(kl.value() > 0.0);
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
///
/// # References
/// Tarvainen, A. & Valpola, H. (2017). Mean teachers are better role models. NeurIPS
/// (`softmax_kl_loss` of the authors' code).
pub fn kl_consistency<'t>(
    student_logits: Tensor<'t>,
    teacher_logits: Tensor<'t>,
) -> Result<Var<'t>, MeanTeacherError> {
    let b = check_logits(&student_logits, &teacher_logits)?;
    let ls = student_logits.log_softmax(1)?;
    let lt = teacher_logits.detach().log_softmax(1)?;
    let pt = lt.exp();
    Ok((pt * (lt - ls)).sum() * (1.0 / b as f64))
}

/// Cross-entropy from logits over the labelled rows only (a masked sum), averaged over the
/// labelled rows:
///
/// `L = −1/|S| Σ_{b ∈ S} log_softmax(z)_{b, y_b}`, `S = {b : labels[b] = Some(y_b)}`,
///
/// computed with a stable log-softmax (log-sum-exp). Rows labelled `None` (unlabelled data in
/// the same batch) contribute nothing; with no labelled row the loss is 0 with zero gradient.
/// The gradient with respect to a labelled row's logits is `(softmax(z_b) − onehot(y_b))/|S|`.
///
/// # Errors
/// [`MeanTeacherError::LogitShape`] when `logits` is not a non-empty matrix;
/// [`MeanTeacherError::LabelMismatch`] when `labels` has another length than the batch or a
/// class index is out of range.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_mean_teacher::masked_cross_entropy;
/// let tape = Tape::new();
/// let z = tape.tensor(&ndarray::array![[0.0, 0.0], [5.0, -5.0]]);
/// let ce = masked_cross_entropy(z, &[Some(1), None])?;
/// assert!((ce.value() - 2.0f64.ln()).abs() < 1e-15); // only row 0 counts
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
pub fn masked_cross_entropy<'t>(
    logits: Tensor<'t>,
    labels: &[Option<usize>],
) -> Result<Var<'t>, MeanTeacherError> {
    let b = check_logits(&logits, &logits)?;
    let c = logits.dims()[1];
    if labels.len() != b {
        return Err(MeanTeacherError::LabelMismatch {
            detail: format!("{} labels for {b} rows of logits", labels.len()),
        });
    }
    let mut mask = ndarray::Array2::<f64>::zeros((b, c));
    let mut count = 0usize;
    for (i, y) in labels.iter().enumerate() {
        if let Some(y) = *y {
            if y >= c {
                return Err(MeanTeacherError::LabelMismatch {
                    detail: format!("row {i}: class {y} of {c}"),
                });
            }
            mask[[i, y]] = 1.0;
            count += 1;
        }
    }
    let tape = logits.tape();
    let scale = if count == 0 { 0.0 } else { -1.0 / count as f64 };
    Ok((tape.constant(&mask) * logits.log_softmax(1)?).sum() * scale)
}
