//! The layout of a model's recorded values: the single source of truth for names and shapes.
//!
//! A [`Layout`] lists every quantity a model records with each draw — its name, shape and
//! [`Block`] (parameter, transformed parameter, generated quantity), where it sits in a
//! recorded row, and, for a parameter, where its coordinates sit in the unconstrained vector
//! the sampler moves on and what its support is. The sampler, [`Fit`](crate::Fit), the
//! summary, the CmdStan CSV writer and the named inits all read names and shapes from here;
//! element names (`theta[1,2]`, CSV `theta.1.2`) are generated from the shapes, never parsed
//! back.
//!
//! Recorded rows hold the blocks in CmdStan's order — parameters, then transformed
//! parameters, then generated quantities — and each quantity's elements row-major (the last
//! index fastest); [`Layout::cmdstan_order`] gives the column-major order CmdStan's CSV files
//! use.
//!
//! # Examples
//!
//! ```
//! use infer_mcmc::layout::{Block, EntrySpec, Layout};
//!
//! let layout = Layout::new(vec![
//!     EntrySpec::parameter("mu", &[], 1, None),
//!     EntrySpec::parameter("theta", &[2, 2], 4, None),
//!     EntrySpec::new("total", &[], Block::GeneratedQuantity),
//! ])?;
//! assert_eq!(layout.len(), 6);
//! assert_eq!(layout.dim(), 5);
//! assert_eq!(layout.names()[2], "theta[1,2]");
//! assert_eq!(layout.cmdstan_names()[2], "theta.2.1"); // CmdStan: first index fastest
//! # Ok::<(), infer_mcmc::layout::LayoutError>(())
//! ```

use std::fmt::Write as _;
use std::ops::Range;

use infer_dist::Constraint;

/// The Stan block a recorded quantity belongs to.
///
/// # Examples
///
/// ```
/// use infer_mcmc::layout::Block;
/// assert!(Block::Parameter < Block::TransformedParameter);
/// assert_eq!(Block::GeneratedQuantity.stan_name(), "generated quantities");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Block {
    /// A parameter: sampled on the unconstrained scale, recorded on the constrained one.
    Parameter,
    /// A transformed parameter: a function of the parameters computed with the log density.
    TransformedParameter,
    /// A generated quantity: computed once per recorded draw, possibly with randomness.
    GeneratedQuantity,
}

impl Block {
    /// The name of the block in a Stan program.
    #[must_use]
    pub fn stan_name(self) -> &'static str {
        match self {
            Block::Parameter => "parameters",
            Block::TransformedParameter => "transformed parameters",
            Block::GeneratedQuantity => "generated quantities",
        }
    }
}

/// The support of a parameter as the layout records it.
///
/// # Examples
///
/// ```
/// use infer_dist::Constraint;
/// use infer_mcmc::layout::ParamSupport;
/// let s = ParamSupport::Fixed(Constraint::Positive);
/// assert_ne!(s, ParamSupport::Bounds { lower: true, upper: false });
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamSupport {
    /// A support fixed in advance.
    Fixed(Constraint),
    /// Lower and/or upper bounds, evaluated at each point (numbers, or expressions of other
    /// parameters).
    Bounds {
        /// Whether a lower bound is given.
        lower: bool,
        /// Whether an upper bound is given.
        upper: bool,
    },
}

/// What a model declares of one quantity; [`Layout::new`] assigns the offsets.
///
/// # Examples
///
/// ```
/// use infer_mcmc::layout::{Block, EntrySpec};
/// let e = EntrySpec::new("y_rep", &[10], Block::GeneratedQuantity);
/// assert_eq!(e.numel(), 10);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EntrySpec {
    /// The name (`"theta"`).
    pub name: String,
    /// The shape; empty for a scalar.
    pub shape: Vec<usize>,
    /// The block.
    pub block: Block,
    /// For a parameter: its number of unconstrained coordinates.
    pub unconstrained_len: usize,
    /// For a parameter: its support.
    pub support: Option<ParamSupport>,
}

impl EntrySpec {
    /// A transformed parameter or generated quantity (or a parameter with no unconstrained
    /// coordinates).
    pub fn new(name: impl Into<String>, shape: &[usize], block: Block) -> Self {
        EntrySpec {
            name: name.into(),
            shape: shape.to_vec(),
            block,
            unconstrained_len: 0,
            support: None,
        }
    }

    /// A parameter with `unconstrained_len` coordinates on the unconstrained scale.
    pub fn parameter(
        name: impl Into<String>,
        shape: &[usize],
        unconstrained_len: usize,
        support: Option<ParamSupport>,
    ) -> Self {
        EntrySpec {
            unconstrained_len,
            support,
            ..EntrySpec::new(name, shape, Block::Parameter)
        }
    }

    /// The number of elements (1 for a scalar).
    #[must_use]
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// One recorded quantity of a [`Layout`].
///
/// # Examples
///
/// ```
/// use infer_mcmc::layout::{EntrySpec, Layout};
/// let layout = Layout::new(vec![EntrySpec::parameter("beta", &[3], 3, None)])?;
/// let e = layout.entry("beta").expect("declared");
/// assert_eq!((e.offset, e.numel(), e.unconstrained.clone()), (0, 3, Some(0..3)));
/// # Ok::<(), infer_mcmc::layout::LayoutError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The name.
    pub name: String,
    /// The shape; empty for a scalar.
    pub shape: Vec<usize>,
    /// The block.
    pub block: Block,
    /// Where its first element sits in a recorded row.
    pub offset: usize,
    /// For a parameter: its coordinates in the unconstrained vector.
    pub unconstrained: Option<Range<usize>>,
    /// For a parameter: its support.
    pub support: Option<ParamSupport>,
}

impl Entry {
    /// The number of elements (1 for a scalar).
    #[must_use]
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Its columns in a recorded row.
    #[must_use]
    pub fn columns(&self) -> Range<usize> {
        self.offset..self.offset + self.numel()
    }
}

/// Why a layout could not be built.
///
/// # Examples
///
/// ```
/// use infer_mcmc::layout::{EntrySpec, Layout, LayoutError};
/// let err = Layout::new(vec![EntrySpec::parameter("a", &[], 1, None),
///                            EntrySpec::parameter("a", &[], 1, None)]).unwrap_err();
/// assert!(matches!(err, LayoutError::Duplicate { ref name } if name == "a"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// Two quantities have the same name.
    #[error("`{name}` is declared twice")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// A name is empty or holds a character that cannot appear in a CSV header or a Stan
    /// element name.
    #[error(
        "invalid name {name:?}: use letters, digits and `_` (no `,`, `.`, `[`, `]`, `\"`, `#`, spaces or line breaks)"
    )]
    InvalidName {
        /// The name.
        name: String,
    },
    /// The number of recorded values overflows `usize`.
    #[error("`{name}` makes the layout too large")]
    TooLarge {
        /// The name of the quantity that overflowed the count.
        name: String,
    },
}

/// The recorded quantities of a model, in recorded-row order (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    entries: Vec<Entry>,
    names: Vec<String>,
    len: usize,
    dim: usize,
}

/// Formats the element of `name` at the 0-based multi-index `index`: `theta[1,2]` (Stan's
/// 1-based form) or, with `csv`, `theta.1.2` (CmdStan's column form).
fn element_name(name: &str, index: &[usize], csv: bool) -> String {
    let mut s = name.to_owned();
    if index.is_empty() {
        return s;
    }
    s.push(if csv { '.' } else { '[' });
    for (k, i) in index.iter().enumerate() {
        if k > 0 {
            s.push(if csv { '.' } else { ',' });
        }
        let _ = write!(s, "{}", i + 1);
    }
    if !csv {
        s.push(']');
    }
    s
}

/// The multi-index of flat row-major position `flat` in `shape`.
fn unravel(mut flat: usize, shape: &[usize], index: &mut [usize]) {
    for (i, &d) in index.iter_mut().zip(shape).rev() {
        *i = flat % d;
        flat /= d;
    }
}

/// The row-major flat position of the 0-based multi-index `index` in `shape`.
fn row_major(index: &[usize], shape: &[usize]) -> usize {
    index.iter().zip(shape).fold(0, |acc, (&i, &d)| acc * d + i)
}

impl Layout {
    /// Builds the layout: quantities keep their declaration order within a block, the blocks
    /// go parameters, transformed parameters, generated quantities; parameters take their
    /// unconstrained coordinates in declaration order.
    ///
    /// # Errors
    /// [`LayoutError::Duplicate`], [`LayoutError::InvalidName`], [`LayoutError::TooLarge`].
    pub fn new(specs: Vec<EntrySpec>) -> Result<Self, LayoutError> {
        let mut order: Vec<usize> = (0..specs.len()).collect();
        order.sort_by_key(|&i| specs[i].block);
        let mut entries = Vec::with_capacity(specs.len());
        let (mut len, mut dim) = (0usize, 0usize);
        let mut unconstrained = vec![None; specs.len()];
        for (i, s) in specs.iter().enumerate() {
            if s.block == Block::Parameter {
                let end =
                    dim.checked_add(s.unconstrained_len)
                        .ok_or_else(|| LayoutError::TooLarge {
                            name: s.name.clone(),
                        })?;
                unconstrained[i] = Some(dim..end);
                dim = end;
            }
        }
        for &i in &order {
            let s = &specs[i];
            let valid =
                !s.name.is_empty() && s.name.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !valid {
                return Err(LayoutError::InvalidName {
                    name: s.name.clone(),
                });
            }
            if entries.iter().any(|e: &Entry| e.name == s.name) {
                return Err(LayoutError::Duplicate {
                    name: s.name.clone(),
                });
            }
            let n = s
                .shape
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d));
            let end = n.and_then(|n| len.checked_add(n));
            let Some(end) = end else {
                return Err(LayoutError::TooLarge {
                    name: s.name.clone(),
                });
            };
            entries.push(Entry {
                name: s.name.clone(),
                shape: s.shape.clone(),
                block: s.block,
                offset: len,
                unconstrained: unconstrained[i].clone(),
                support: s.support,
            });
            len = end;
        }
        let mut names = Vec::with_capacity(len);
        for e in &entries {
            let mut index = vec![0; e.shape.len()];
            for flat in 0..e.numel() {
                unravel(flat, &e.shape, &mut index);
                names.push(element_name(&e.name, &index, false));
            }
        }
        Ok(Layout {
            entries,
            names,
            len,
            dim,
        })
    }

    /// One real vector parameter `name` of length `dim` on the whole real line: the layout of
    /// a plain log density on ℝⁿ.
    ///
    /// # Errors
    /// [`LayoutError::InvalidName`] for a name that cannot be recorded.
    ///
    /// # Examples
    /// ```
    /// let l = infer_mcmc::layout::Layout::vector("x", 2)?;
    /// assert_eq!(l.names(), ["x[1]", "x[2]"]);
    /// assert!(infer_mcmc::layout::Layout::vector("x.y", 2).is_err());
    /// # Ok::<(), infer_mcmc::layout::LayoutError>(())
    /// ```
    pub fn vector(name: &str, dim: usize) -> Result<Self, LayoutError> {
        Layout::new(vec![EntrySpec::parameter(
            name,
            &[dim],
            dim,
            Some(ParamSupport::Fixed(Constraint::Real)),
        )])
    }

    /// The quantities in recorded-row order.
    #[must_use]
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The quantity `name`, if recorded.
    #[must_use]
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The number of values in a recorded row.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The dimension of the unconstrained space (the parameters' coordinates).
    #[must_use]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The element names in recorded-row order, Stan's 1-based form (`theta[1,2]`).
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Calls `f` with each element's quantity and 0-based multi-index, in CmdStan's column
    /// order: the blocks in row order, each container column-major (the first index fastest).
    fn for_each_cmdstan(&self, mut f: impl FnMut(&Entry, &[usize])) {
        for e in &self.entries {
            let mut index = vec![0; e.shape.len()];
            for k in 0..e.numel() {
                let mut rem = k;
                for (i, &d) in index.iter_mut().zip(&e.shape) {
                    *i = rem % d;
                    rem /= d;
                }
                f(e, &index);
            }
        }
    }

    /// The recorded-row column of each CSV column, in CmdStan's order: the blocks in row
    /// order, each container column-major (the first index fastest).
    #[must_use]
    pub fn cmdstan_order(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.len);
        self.for_each_cmdstan(|e, index| out.push(e.offset + row_major(index, &e.shape)));
        out
    }

    /// The CSV header names in [`cmdstan_order`](Self::cmdstan_order) (`theta.2.1`).
    #[must_use]
    pub fn cmdstan_names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.len);
        self.for_each_cmdstan(|e, index| out.push(element_name(&e.name, index, true)));
        out
    }

    /// The recorded-row column of element `index` (0-based) of `name`.
    ///
    /// # Examples
    /// ```
    /// use infer_mcmc::layout::{EntrySpec, Layout};
    /// let l = Layout::new(vec![EntrySpec::parameter("a", &[2, 3], 6, None)])?;
    /// assert_eq!(l.column("a", &[1, 0]), Some(3));
    /// assert_eq!(l.column("a", &[2, 0]), None);
    /// # Ok::<(), infer_mcmc::layout::LayoutError>(())
    /// ```
    #[must_use]
    pub fn column(&self, name: &str, index: &[usize]) -> Option<usize> {
        let e = self.entry(name)?;
        if index.len() != e.shape.len() || index.iter().zip(&e.shape).any(|(&i, &d)| i >= d) {
            return None;
        }
        Some(e.offset + row_major(index, &e.shape))
    }
}
