//! [`GlmDesign`]: a design matrix checked once and copied once into the GLM kernel's layout,
//! with the last outcomes it was evaluated with.

use super::{Blocked, LinkKind, shape2};
use crate::DistError;
use infer_ad::Operand;
use ndarray::Array2;
use std::sync::{Arc, Mutex};

/// A design matrix `X` (n observations × k predictors) prepared for the GLM likelihoods
/// [`BernoulliLogitGlmDist`](crate::BernoulliLogitGlmDist),
/// [`PoissonLogGlmDist`](crate::PoissonLogGlmDist) and
/// [`NormalIdGlmDist`](crate::NormalIdGlmDist): checked once (every entry finite), and copied once into the layout their fused kernel reads. Build it
/// once per data set, outside the log density; cloning it is cheap (a reference count), and
/// the likelihoods hold it by reference — nothing of `X` goes onto the tape.
///
/// It also remembers the last outcome vector it was evaluated with (checked, and for the
/// Poisson likelihood with Σ ln yᵢ! computed): a log density evaluated again and again on the
/// same observations compares them with the remembered ones (one pass, no allocation) instead
/// of checking them anew.
///
/// # Examples
/// ```
/// use infer_dist::GlmDesign;
/// use std::sync::Arc;
/// let x = Arc::new(ndarray::array![[1.0, 0.5], [-0.3, 2.0], [0.7, -1.0]]);
/// let design = GlmDesign::new(x)?;
/// assert_eq!((design.nrows(), design.ncols()), (3, 2));
/// assert!(GlmDesign::new(Arc::new(ndarray::array![[f64::NAN]])).is_err());
/// # Ok::<(), infer_dist::DistError>(())
/// ```
#[derive(Debug, Clone)]
pub struct GlmDesign {
    inner: Arc<DesignInner>,
}

#[derive(Debug)]
struct DesignInner {
    x: Arc<Array2<f64>>,
    xb: Blocked,
    last: Mutex<Option<Arc<Outcomes>>>,
}

/// Checked outcomes and the constant part of their log likelihood.
#[derive(Debug)]
pub(super) struct Outcomes {
    link: LinkKind,
    pub(super) y: Vec<f64>,
    /// −Σ ln yᵢ! for the log link, 0 otherwise.
    pub(super) constant: f64,
}

const DESIGN: &str = "GlmDesign";

impl GlmDesign {
    /// Prepares the design matrix `x` (one row per observation).
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] naming `x` for a non-finite entry.
    ///
    /// # Examples
    /// ```
    /// let x = std::sync::Arc::new(ndarray::array![[1.0], [f64::INFINITY]]);
    /// assert!(infer_dist::GlmDesign::new(x).is_err());
    /// ```
    pub fn new(x: Arc<Array2<f64>>) -> Result<Self, DistError> {
        let (x, xb) = super::design(DESIGN, x)?;
        Ok(GlmDesign {
            inner: Arc::new(DesignInner {
                x,
                xb,
                last: Mutex::new(None),
            }),
        })
    }

    /// The design matrix (in standard layout).
    ///
    /// # Examples
    /// ```
    /// let x = std::sync::Arc::new(ndarray::array![[1.0, 2.0]]);
    /// let d = infer_dist::GlmDesign::new(x.clone())?;
    /// assert!(std::sync::Arc::ptr_eq(d.x(), &x));
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn x(&self) -> &Arc<Array2<f64>> {
        &self.inner.x
    }

    /// The number of observations n (rows).
    ///
    /// # Examples
    /// ```
    /// let x = std::sync::Arc::new(ndarray::Array2::zeros((4, 2)));
    /// assert_eq!(infer_dist::GlmDesign::new(x)?.nrows(), 4);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn nrows(&self) -> usize {
        self.inner.x.nrows()
    }

    /// The number of predictors k (columns).
    ///
    /// # Examples
    /// ```
    /// let x = std::sync::Arc::new(ndarray::Array2::zeros((4, 2)));
    /// assert_eq!(infer_dist::GlmDesign::new(x)?.ncols(), 2);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn ncols(&self) -> usize {
        self.inner.x.ncols()
    }

    /// The outcomes `y` checked for the family `link` (the remembered ones when equal).
    pub(super) fn outcomes(
        &self,
        dist: &'static str,
        link: LinkKind,
        y: Operand<'_, '_>,
    ) -> Result<Arc<Outcomes>, DistError> {
        let n = self.nrows();
        if y.numel() != n || y.shape().ndim() != 1 {
            return Err(DistError::ShapeMismatch {
                dist,
                what: "observations y against the rows of x",
                left: y.shape(),
                right: shape2(n, self.ncols()),
            });
        }
        let cached = self
            .inner
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(c) = cached
            && c.link == link
            && same_values(y, &c.y)
        {
            return Ok(c);
        }
        let ys = y.to_vec();
        let constant = check_outcomes(dist, link, &ys)?;
        let out = Arc::new(Outcomes {
            link,
            y: ys,
            constant,
        });
        *self
            .inner
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::clone(&out));
        Ok(out)
    }

    /// The design in the kernel's layout ([`Blocked::data`]).
    pub(super) fn blocked(&self) -> &[f64] {
        self.inner.xb.data()
    }
}

/// Whether the tensor `y` holds the values `want` (read a block at a time, no allocation).
fn same_values(y: Operand<'_, '_>, want: &[f64]) -> bool {
    if let Operand::Data(d) = y {
        return d.values() == want;
    }
    const B: usize = 256;
    let mut buf = [0.0f64; B];
    let mut r0 = 0;
    while r0 < want.len() {
        let m = B.min(want.len() - r0);
        y.value_range_into(r0, &mut buf[..m]);
        if buf[..m] != want[r0..r0 + m] {
            return false;
        }
        r0 += m;
    }
    true
}

/// Checks the outcomes for the family; returns the constant part of the log likelihood
/// (−Σ ln yᵢ! for the Poisson family, 0 otherwise).
fn check_outcomes(dist: &'static str, link: LinkKind, y: &[f64]) -> Result<f64, DistError> {
    let bad = |v: f64, reason: &'static str| DistError::InvalidParameter {
        dist,
        param: "y",
        value: v,
        reason,
    };
    match link {
        LinkKind::Logit => match y.iter().find(|&&v| v != 0.0 && v != 1.0) {
            Some(&v) => Err(bad(v, "must be 0 or 1")),
            None => Ok(0.0),
        },
        LinkKind::Log => {
            let mut c = 0.0;
            for &v in y {
                if !(v >= 0.0 && v.is_finite() && v.fract() == 0.0) {
                    return Err(bad(v, "must be a non-negative integer count"));
                }
                c -= infer_ad::scalar::lgamma(v + 1.0);
            }
            Ok(c)
        }
        LinkKind::Identity => match y.iter().find(|v| !v.is_finite()) {
            Some(&v) => Err(bad(v, "must be finite")),
            None => Ok(0.0),
        },
    }
}
