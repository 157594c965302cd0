//! Fused custom operations: an elementwise function of several broadcast operands recorded as
//! one node (or one node per tracked operand), with partials computed alongside the value.
//! This is how distributions record a log density over N observations at about the cost of
//! evaluating it.

use crate::error::AdError;
use crate::kernels::lane_sum4;
use crate::operand::{Operand, align_all, compute_deferred_read, sources, widths};
use crate::tape::{Node, Tape, check_same_tape};
use crate::tensor::Tensor;
use crate::var::Var;

pub(crate) mod slice;

/// Runs `f`, which calls user code, on the recording's value slots and partials arena moved
/// out of the tape (`f` receives both buffers and may append to them). This is
/// [`Tape::with_detached`] for the fused operations, which need only those two buffers: moving
/// two vectors out and back is much cheaper than moving the whole recording, and the safety
/// argument is the same — while user code runs no reference into the tape's cell is alive,
/// and a closure that records on this tape meets an empty value buffer instead of an aliased
/// one. Anything it recorded is discarded (values, partials, records, nodes, indices, data) and this
/// panics once the recording is back in place.
///
/// # Panics
/// If the tape was recorded on while `f` ran.
#[inline(always)]
fn with_values_detached<R>(tape: &Tape, f: impl FnOnce(&mut Vec<f64>, &mut Vec<f64>) -> R) -> R {
    let (mut vals, mut parts, recs, nodes, idx, data) = {
        let mut g = tape.inner_raw();
        let vals = std::mem::take(&mut g.vals);
        let parts = std::mem::take(&mut g.f);
        (
            vals,
            parts,
            g.recs.len(),
            g.nodes.len(),
            g.u.len(),
            g.data.len(),
        )
    };
    let r = f(&mut vals, &mut parts);
    let mut g = tape.inner_raw();
    let intruded = !(g.vals.is_empty() && g.f.is_empty())
        || g.recs.len() != recs
        || g.nodes.len() != nodes
        || g.u.len() != idx
        || g.data.len() != data;
    if intruded {
        g.recs.truncate(recs);
        g.nodes.truncate(nodes);
        g.u.truncate(idx);
        g.data.truncate(data);
    }
    g.vals = vals;
    g.f = parts;
    drop(g);
    assert!(
        !intruded,
        "a closure passed to a fused or mapped operation recorded on its own tape; it must \
         only compute with the f64 values it is given"
    );
    r
}

impl Tape {
    /// Records `Σᵢ f(x₁ᵢ, …, x_Kᵢ)` over K operands broadcast to a common shape, as a single
    /// scalar. `f` receives the element index and the K operand values and returns the value
    /// and its K partial derivatives. For a full-size tracked operand the partials are stored
    /// (one f64 per element); for a single-element operand they are summed on the fly.
    /// Untracked operands store nothing.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when an operand lives on another tape;
    /// [`AdError::ShapeMismatch`] when the operands do not broadcast;
    /// [`AdError::TooManyElements`] or [`AdError::OutOfMemory`] when the tape cannot hold
    /// the broadcast operands, the result or the partials.
    ///
    /// # Examples
    /// A Normal log density over data with scalar `loc` and `scale`:
    /// ```
    /// use infer_ad::Tape;
    /// let tape = Tape::new();
    /// let x = tape.constant(&ndarray::array![0.5, -1.0, 2.0]);
    /// let loc = tape.var(0.0).as_tensor();
    /// let scale = tape.var(1.5).as_tensor();
    /// let lp = tape.fused_sum([x, loc, scale], |_, [x, m, s]| {
    ///     let z = (x - m) / s;
    ///     let v = -0.5 * z * z - s.ln() - infer_ad::scalar::LN_SQRT_2PI;
    ///     (v, [-z / s, z / s, (z * z - 1.0) / s])
    /// })?;
    /// lp.backward();
    /// assert!(loc.grad().iter().all(|g| g.is_finite()));
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn fused_sum<'t, const K: usize>(
        &'t self,
        inputs: [Tensor<'t>; K],
        f: impl FnMut(usize, [f64; K]) -> (f64, [f64; K]),
    ) -> Result<Var<'t>, AdError> {
        Ok(self.fused_sum_with_partials(inputs, f)?.0)
    }

    /// [`Tape::fused_sum`], returning as well the sums over the elements of the partials `f`
    /// gave for each single-element operand (a scalar broadcast across the elements), tracked
    /// or not; 0 for the full-size operands (whose partials, when tracked, are stored per
    /// element).
    ///
    /// With an untracked ([`Tensor::detach`]ed) scalar operand nothing is recorded for it, and
    /// the caller can record its gradient from that sum in a form of its own: a family of
    /// distributions whose per-element partial for a scale σ is `g(xᵢ)/σ` (each `g(xᵢ)`
    /// finite while `g(xᵢ)/σ` overflows, to +∞ for one element and −∞ for another, when
    /// 1/σ does) lets `f` return `g(xᵢ)` and divides the sum once.
    ///
    /// # Errors
    /// As [`Tape::fused_sum`].
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// let tape = Tape::new();
    /// let x = tape.var(3.0).as_tensor();
    /// let s = tape.constant(&ndarray::array![1.0, 2.0, 3.0, 4.0]);
    /// let (sum, parts) = tape.fused_sum_with_partials([x, s], |_, [x, s]| (x * s, [s, x]))?;
    /// assert_eq!(sum.value(), 30.0);
    /// assert_eq!(parts, [10.0, 0.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn fused_sum_with_partials<'t, const K: usize>(
        &'t self,
        inputs: [Tensor<'t>; K],
        f: impl FnMut(usize, [f64; K]) -> (f64, [f64; K]),
    ) -> Result<(Var<'t>, [f64; K]), AdError> {
        self.fused_sum_operands(inputs.map(Operand::Tensor), f)
    }

    /// [`Tape::fused_sum_with_partials`] over [`Operand`]s: each a tensor on this tape or
    /// data borrowed for the call, read in place (nothing of it is copied onto the tape, and
    /// nothing recorded refers to it afterwards; data broadcast to a larger shape is expanded
    /// in a buffer of the call). The same loop and the same arithmetic as for the data
    /// recorded as an untracked constant, so the results are the same to the bit.
    ///
    /// # Errors
    /// As [`Tape::fused_sum`].
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand, Tape};
    /// let tape = Tape::new();
    /// let y = [1.0, 2.0, 3.0, 4.0];
    /// let w = tape.var(0.5).as_tensor();
    /// let data = Operand::Data(DataView::vector(&y));
    /// let (a, _) = tape.fused_sum_operands([data, w.into()], |_, [y, w]| (y * w, [w, y]))?;
    /// let c = tape.constant(&ndarray::arr1(&y));
    /// let (b, _) = tape.fused_sum_with_partials([c, w], |_, [y, w]| (y * w, [w, y]))?;
    /// assert_eq!(a.value().to_bits(), b.value().to_bits());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn fused_sum_operands<'a, 't, const K: usize>(
        &'t self,
        mut inputs: [Operand<'a, 't>; K],
        mut f: impl FnMut(usize, [f64; K]) -> (f64, [f64; K]),
    ) -> Result<(Var<'t>, [f64; K]), AdError> {
        let ops = &mut inputs;
        let mut owned: [Vec<f64>; K] = std::array::from_fn(|_| Vec::new());
        let shape = align_all(self, ops, &mut owned, "fused_sum")?;
        compute_deferred_read(self, ops);
        let n = shape.numel();
        let mut strides = [0usize; K];
        let mut full = [false; K];
        let mut len = [0usize; K];
        let width = widths(ops, &owned);
        for k in 0..K {
            strides[k] = usize::from(width[k] == n);
            full[k] = ops[k].is_tracked() && strides[k] == 1 && n > 1;
            len[k] = if strides[k] == 1 { n } else { 1 };
        }
        let mut pofs = [0usize; K];
        let mut acc = [0.0f64; K];
        let mut total = 0.0;
        // Every operand read element by element, and a partial stored for each tracked one:
        // the loop over elements runs without strides or reductions, so that it vectorizes
        // when `f` does.
        let contiguous = n > 1 && (0..K).all(|k| strides[k] == 1);
        // the partials of the full operands, and for a contiguous loop the terms and
        // discarded partials (K + 1 blocks of n in all)
        let blocks = if contiguous {
            K + 1
        } else {
            full.iter().filter(|&&x| x).count()
        };
        self.inner_raw()
            .reserve("fused_sum", 1, blocks.saturating_mul(n), 0, &[])?;
        // `f` is user code: run it on the value and partial buffers moved out of the tape.
        with_values_detached(self, |vals, partials| {
            let srcs = sources(vals, ops, &owned, len);
            let p0 = partials.len();
            let mut p = p0;
            for k in 0..K {
                if full[k] {
                    pofs[k] = p;
                    p += n;
                }
            }
            if contiguous {
                // the terms, and the discarded partials of untracked operands, go to scratch
                // after the partials; the terms are summed in four lanes
                let spare = (0..K).filter(|&k| !full[k]).count();
                partials.resize(p + n * (1 + spare), 0.0);
                let (parts, rest) = partials[p0..].split_at_mut(p - p0);
                let (terms, discard) = rest.split_at_mut(n);
                let (mut kept, mut dropped) =
                    (parts.chunks_exact_mut(n), discard.chunks_exact_mut(n));
                let dst: [&mut [f64]; K] = std::array::from_fn(|k| {
                    let chunk = if full[k] { kept.next() } else { dropped.next() };
                    chunk.unwrap_or_default()
                });
                // lengths stated once, so that the loop below carries no bounds checks
                let dst = dst.map(|d| &mut d[..n]);
                let src: [&[f64]; K] = srcs.map(|s| &s[..n]);
                let terms = &mut terms[..n];
                for i in 0..n {
                    let (v, d) = f(i, std::array::from_fn(|k| src[k][i]));
                    terms[i] = v;
                    for k in 0..K {
                        dst[k][i] = d[k];
                    }
                }
                total = lane_sum4(terms);
                partials.truncate(p);
                return;
            }
            // Some operands are single elements (scalar parameters): blocks of `FUSED_BLOCK`
            // elements, each run as the contiguous loop above — a single-element operand read
            // from a block-long copy of its value, its partials written to a block-long
            // buffer and summed in lanes afterwards — so that the loop over elements has no
            // strides and no serial sum, and vectorizes when `f` does.
            partials.resize(p, 0.0);
            if n == 0 {
                return;
            }
            if n < FUSED_BLOCK_MIN {
                // Few elements: the strided loop. The blocks' stack buffers (K × 2 KiB filled
                // per call) cost more than they save here (measured on eight schools, n = 8:
                // +15 % per gradient with blocks).
                let parts = &mut partials[p0..p];
                for i in 0..n {
                    let xs: [f64; K] = std::array::from_fn(|k| srcs[k][i * strides[k]]);
                    let (v, d) = f(i, xs);
                    total += v;
                    for k in 0..K {
                        if full[k] {
                            parts[pofs[k] - p0 + i] = d[k];
                        } else {
                            acc[k] += d[k];
                        }
                    }
                }
                return;
            }
            let blocks = Blocks {
                srcs,
                parts: &mut partials[p0..p],
                n,
                strides,
                full,
            };
            (total, acc) = blocks.run(&mut f);
        });
        let mut g = self.inner_raw();
        let out = g.next_slot();
        g.vals.push(total);
        for k in 0..K {
            let Operand::Tensor(t) = ops[k] else {
                continue;
            };
            if !t.tracked {
                continue;
            }
            if full[k] {
                g.push_node(Node::Red {
                    out,
                    a: t.start,
                    n: n as u32,
                    p: pofs[k] as u32,
                });
            } else {
                g.push_rec(out, t.start, acc[k]);
            }
        }
        drop(g);
        // the sums are reported for the single-element operands only
        for k in 0..K {
            if strides[k] == 1 && n > 1 {
                acc[k] = 0.0;
            }
        }
        Ok((
            Var {
                tape: self,
                idx: out,
                val: total,
            },
            acc,
        ))
    }

    /// Records the elementwise `f(x₁ᵢ, …, x_Kᵢ)` over K operands broadcast to a common shape,
    /// as one tensor; `f` returns the value and its K partials. One node per tracked operand.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when an operand lives on another tape;
    /// [`AdError::ShapeMismatch`] when the operands do not broadcast;
    /// [`AdError::TooManyElements`] or [`AdError::OutOfMemory`] when the tape cannot hold
    /// the broadcast operands, the result or the partials.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// let b = tape.var(3.0).as_tensor();
    /// let y = tape.fused_map([a, b], |_, [a, b]| (a * b, [b, a]))?;
    /// y.sum().backward();
    /// assert_eq!(b.grad().sum(), 3.0);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn fused_map<'t, const K: usize>(
        &'t self,
        inputs: [Tensor<'t>; K],
        f: impl FnMut(usize, [f64; K]) -> (f64, [f64; K]),
    ) -> Result<Tensor<'t>, AdError> {
        self.fused_map_operands(inputs.map(Operand::Tensor), f)
    }

    /// [`Tape::fused_map`] over [`Operand`]s: each a tensor on this tape or data borrowed for
    /// the call, read in place (the result is recorded; the data is not copied onto the tape
    /// and gets no gradient). The same arithmetic as for the data recorded as an untracked
    /// constant.
    ///
    /// # Errors
    /// As [`Tape::fused_map`].
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{DataView, Operand, Tape};
    /// let tape = Tape::new();
    /// let b = tape.var(3.0).as_tensor();
    /// let y = [1.0, 2.0];
    /// let data = Operand::Data(DataView::vector(&y));
    /// let t = tape.fused_map_operands([data, b.into()], |_, [y, b]| (y * b, [b, y]))?;
    /// assert_eq!(t.to_vec(), vec![3.0, 6.0]);
    /// t.sum().backward();
    /// assert_eq!(b.grad().sum(), 3.0);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn fused_map_operands<'a, 't, const K: usize>(
        &'t self,
        mut inputs: [Operand<'a, 't>; K],
        mut f: impl FnMut(usize, [f64; K]) -> (f64, [f64; K]),
    ) -> Result<Tensor<'t>, AdError> {
        let ops = &mut inputs;
        let mut owned: [Vec<f64>; K] = std::array::from_fn(|_| Vec::new());
        let shape = align_all(self, ops, &mut owned, "fused_map")?;
        compute_deferred_read(self, ops);
        let n = shape.numel();
        let mut strides = [0usize; K];
        let mut len = [0usize; K];
        let mut pofs = [0usize; K];
        let width = widths(ops, &owned);
        for k in 0..K {
            strides[k] = usize::from(width[k] == n);
            len[k] = if strides[k] == 1 { n } else { 1 };
        }
        let tracked_ops = ops.iter().filter(|t| t.is_tracked()).count();
        self.inner_raw()
            .reserve("fused_map", n, tracked_ops * n, 0, shape.dims())?;
        // `f` is user code: run it on the value and partial buffers moved out of the tape.
        let out = with_values_detached(self, |vals, partials| {
            let p0 = partials.len();
            let mut p = p0;
            for k in 0..K {
                if ops[k].is_tracked() {
                    pofs[k] = p;
                    p += n;
                }
            }
            partials.resize(p, 0.0);
            let out = vals.len();
            vals.resize(out + n, 0.0);
            // Inputs precede the output region: split once, then loop over plain slices.
            let (inp, outp) = vals.split_at_mut(out);
            let srcs = sources(inp, ops, &owned, len);
            let tracked = ops.map(|o| o.is_tracked());
            let parts = &mut partials[p0..p];
            for i in 0..n {
                let mut xs = [0.0; K];
                for k in 0..K {
                    xs[k] = srcs[k][i * strides[k]];
                }
                let (v, d) = f(i, xs);
                outp[i] = v;
                for k in 0..K {
                    if tracked[k] {
                        parts[pofs[k] - p0 + i] = d[k];
                    }
                }
            }
            out as u32
        });
        let mut g = self.inner_raw();
        let mut tracked = false;
        for k in 0..K {
            let Operand::Tensor(t) = ops[k] else {
                continue;
            };
            if t.tracked {
                tracked = true;
                g.push_node(Node::Elem {
                    out,
                    a: t.start,
                    n: n as u32,
                    p: pofs[k] as u32,
                    s: strides[k] as u32,
                });
            }
        }
        drop(g);
        Ok(Tensor::from_slot(self, out, shape, tracked))
    }
}

impl Tape {
    /// Records a scalar whose value and gradient the caller has computed: `value` depends on
    /// each tensor in `inputs` with the given gradient (one entry per element, in the tensor's
    /// logical row-major order). This is the hook for hand-fused nodes — a GLM likelihood
    /// that computes Xᵀr in its forward pass, a solver with an adjoint — that then compose
    /// with everything else on the tape. Untracked inputs record nothing.
    ///
    /// The caller vouches for the gradient; check it with [`crate::gradcheck`].
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when an input lives on another tape;
    /// [`AdError::LengthMismatch`] when a gradient's length differs from its tensor's number
    /// of elements; [`AdError::OutOfMemory`] when the partials' arena cannot grow to hold
    /// the gradients.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.tensor(&ndarray::array![1.0, 2.0, 3.0]);
    /// // ½‖x‖², with its gradient x
    /// let xs = [1.0, 2.0, 3.0];
    /// let half_sq: f64 = xs.iter().map(|v| 0.5 * v * v).sum();
    /// let y = tape.scalar_with_gradients(half_sq, &[(x, &xs)])?;
    /// (y * 2.0).backward();
    /// assert_eq!(x.grad().iter().copied().collect::<Vec<_>>(), vec![2.0, 4.0, 6.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn scalar_with_gradients<'t>(
        &'t self,
        value: f64,
        inputs: &[(Tensor<'t>, &[f64])],
    ) -> Result<Var<'t>, AdError> {
        for (t, _) in inputs {
            check_same_tape("scalar_with_gradients", self, t.tape)?;
        }
        for (t, grad) in inputs {
            if grad.len() != t.numel() {
                return Err(AdError::LengthMismatch {
                    shape: t.shape,
                    len: grad.len(),
                });
            }
        }
        let parts: usize = inputs
            .iter()
            .filter(|(t, g)| t.tracked && g.len() != 1)
            .map(|(_, g)| g.len())
            .sum();
        // reads no value slot (deferred values stay deferred; see `tape/deferred.rs`)
        let mut g = self.inner_raw();
        g.reserve("scalar_with_gradients", 1, parts, 0, &[])?;
        let out = g.next_slot();
        g.vals.push(value);
        for (t, grad) in inputs {
            if !t.tracked {
                continue;
            }
            if grad.len() == 1 {
                g.push_rec(out, t.start, grad[0]);
                continue;
            }
            // Tensors are contiguous from `start` in row-major order, so gradient entry i
            // belongs to slot start + i.
            g.push_red(out, t.start, grad.len(), |_, i| grad[i]);
        }
        Ok(Var {
            tape: self,
            idx: out,
            val: value,
        })
    }
}

/// The operands of [`Tape::fused_sum`]'s loop when some operands are single elements: each
/// operand's values, the partials of the full-size tracked operands (`n` each, in operand
/// order), and each operand's stride (1 full-size, 0 single) and whether its partials are
/// kept.
struct Blocks<'a, const K: usize> {
    srcs: [&'a [f64]; K],
    parts: &'a mut [f64],
    n: usize,
    strides: [usize; K],
    full: [bool; K],
}

impl<const K: usize> Blocks<'_, K> {
    /// Blocks of [`FUSED_BLOCK`] elements, each run as the contiguous loop of
    /// [`Tape::fused_sum`] — a single-element operand read from a block-long copy of its
    /// value, its partials written to a block-long buffer and summed in lanes afterwards — so
    /// that the loop over elements has no strides and no serial sum, and vectorizes when `f`
    /// does. Returns the total and the summed partials of the operands whose partials are not
    /// kept.
    #[inline(always)]
    fn run(self, f: &mut impl FnMut(usize, [f64; K]) -> (f64, [f64; K])) -> (f64, [f64; K]) {
        let Blocks {
            srcs,
            parts,
            n,
            strides,
            full,
        } = self;
        let (mut total, mut acc) = (0.0, [0.0; K]);
        let mut consts = [[0.0f64; FUSED_BLOCK]; K];
        let mut sums = [[0.0f64; FUSED_BLOCK]; K];
        let mut terms = [0.0f64; FUSED_BLOCK];
        for k in 0..K {
            if strides[k] == 0 {
                consts[k] = [srcs[k][0]; FUSED_BLOCK];
            }
        }
        let mut b = 0;
        while b < n {
            let len = FUSED_BLOCK.min(n - b);
            let mut kept = parts.chunks_exact_mut(n);
            let mut summed = sums.iter_mut();
            let dst: [&mut [f64]; K] = std::array::from_fn(|k| {
                let buf = summed.next().map_or(&mut [][..], |s| &mut s[..]);
                if full[k] {
                    kept.next().map_or(&mut [][..], |c| &mut c[b..b + len])
                } else {
                    &mut buf[..len]
                }
            });
            let dst = dst.map(|d| &mut d[..len]);
            let src: [&[f64]; K] = std::array::from_fn(|k| {
                if strides[k] == 1 {
                    &srcs[k][b..b + len]
                } else {
                    &consts[k][..len]
                }
            });
            let terms = &mut terms[..len];
            for i in 0..len {
                let (v, d) = f(b + i, std::array::from_fn(|k| src[k][i]));
                terms[i] = v;
                for k in 0..K {
                    dst[k][i] = d[k];
                }
            }
            total += lane_sum4(terms);
            for k in 0..K {
                if !full[k] {
                    acc[k] += lane_sum4(&sums[k][..len]);
                }
            }
            b += len;
        }
        (total, acc)
    }
}

/// Elements per block of [`Tape::fused_sum`]'s loop when some operands are single elements
/// (the block's buffers, K + 1 of 2 kB each, stay in the L1 cache).
const FUSED_BLOCK: usize = 256;

/// Fewer elements than this take [`Tape::fused_sum`]'s strided loop instead of the blocks.
const FUSED_BLOCK_MIN: usize = 64;
