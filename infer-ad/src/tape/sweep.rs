//! The backward sweep: [`Inner::backward`] walks the record stream once in reverse from the
//! root; a scalar record is one multiply–add, a marker record runs its tensor node's
//! [`Node::backward`] — one arm per variant, holding everything that variant's backward step
//! does: when it is skipped, which adjoint ranges it makes hold adjoints of this pass (see
//! [`Lazy`]), and which kernel of [`crate::kernels`] it calls.

use super::lazy::{BLK, Lazy};
use super::node::{MARK, NONE, Node, Rec, unpack};
use super::recording::{Inner, try_grow};
use crate::kernels;
use ndarray::Array2;
use std::sync::Arc;

/// Tapes with at most this many slots zero-fill their adjoints up front (16 kB).
const EAGER: usize = 2048;

impl Inner {
    /// The backward pass from `root`.
    ///
    /// The adjoint vector (one `f64` per slot) and the block bits are the only buffers this
    /// grows. Operations whose output size comes from shapes reserve the adjoints' capacity
    /// when they record (see [`Inner::reserve`]), so that growth here is a resize within
    /// capacity; any remaining growth (slots recorded by scalar operations) is reserved
    /// fallibly before anything is written.
    ///
    /// # Errors
    /// [`crate::AdError::OutOfMemory`] (operation `"backward"`, the number of slots) when the
    /// adjoints cannot be allocated; no gradient is changed then.
    pub(crate) fn backward(&mut self, root: u32) -> Result<(), crate::AdError> {
        let len = self.vals.len();
        if self.adj.len() < len {
            let extra = len - self.adj.len();
            try_grow(&mut self.adj, extra).map_err(|_| crate::AdError::OutOfMemory {
                op: "backward",
                elements: len,
            })?;
        }
        let words = len.div_ceil(BLK).div_ceil(64);
        if len > EAGER && self.live.len() < words {
            let extra = words - self.live.len();
            try_grow(&mut self.live, extra).map_err(|_| crate::AdError::OutOfMemory {
                op: "backward",
                elements: len,
            })?;
        }
        let end = self.recs.partition_point(|r| self.rec_out(r) <= root);
        let Inner {
            vals,
            recs,
            nodes,
            f,
            u,
            data,
            adj,
            adj_valid,
            live,
            scratch,
            max_slots: _,
            // no node recorded while values were deferred reads them backward
            deferred: _,
        } = self;
        // Adjoints are initialized lazily, a block of BLK at a time: a block no contribution
        // reaches is never zeroed before the end of the pass, and a block that a node covers
        // entirely on its first contribution (a data leaf under a reduction) is *written* by
        // that node instead of being zero-filled and then added to — which saves a pass over
        // the largest ranges. A block whose bit is clear holds stale values and stands for
        // zeros.
        let len = vals.len();
        if adj.len() < len {
            // within the capacity reserved above
            adj.resize(len, 0.0);
        }
        let adj = &mut adj[..len];
        let root = root as usize;
        let recs = &recs[..end];
        let parts = Parts {
            vals,
            nodes,
            f,
            u,
            data,
            scratch,
        };
        if len <= EAGER {
            // A small tape: one zero-fill is cheaper than the bookkeeping.
            adj.fill(0.0);
            sweep(Lazy::<false> { adj, live, top: 0 }, root, recs, parts);
        } else {
            live.clear();
            // within the capacity reserved above
            live.resize(words, 0);
            sweep(
                Lazy::<true> {
                    adj,
                    live,
                    top: len,
                },
                root,
                recs,
                parts,
            );
        }
        *adj_valid = len;
        Ok(())
    }

    /// The adjoints of the last backward pass (empty before the first one after a clear).
    #[inline]
    pub(crate) fn grads(&self) -> &[f64] {
        &self.adj[..self.adj_valid]
    }
}

/// The parts of a recording the backward sweep reads.
struct Parts<'a> {
    vals: &'a [f64],
    nodes: &'a [Node],
    f: &'a [f64],
    u: &'a [u32],
    data: &'a [Arc<Array2<f64>>],
    scratch: &'a mut Vec<f64>,
}

/// The backward sweep of [`Inner::backward`] over `recs` (newest first) from `root`; `LAZY`
/// says whether the adjoints are initialized lazily (see [`Lazy`]) or were zero-filled.
fn sweep<const LAZY: bool>(
    mut lz: Lazy<'_, LAZY>,
    root: usize,
    recs: &[Rec],
    mut parts: Parts<'_>,
) {
    lz.touch(root);
    lz.adj[root] = 1.0;
    for r in recs.iter().rev() {
        let (out, a) = unpack(r.oa);
        if out != MARK {
            let out = out as usize;
            if !lz.is_live(out) {
                continue;
            }
            let g = lz.adj[out];
            if g != 0.0 {
                let a = a as usize;
                lz.touch(a);
                lz.adj[a] += g * r.d;
            }
            continue;
        }
        let node = parts.nodes[a as usize];
        node.backward(&mut lz, &mut parts);
    }
    lz.finish();
}

impl Node {
    /// This node's step of the backward sweep: sends its output adjoints to its inputs'.
    ///
    /// Each arm (1) returns early when no adjoint reached the node, where that check is cheap
    /// and the node would otherwise touch large ranges; (2) makes every slot it reads or
    /// writes hold an adjoint of this pass (`Lazy::touch_range`; a no-op when not `LAZY`),
    /// or claims its input range for one contribution per slot (`Lazy::claim`, which lets a
    /// first contribution *write* a fresh block instead of zero-filling it and adding);
    /// (3) runs the kernel.
    #[inline(always)]
    fn backward<const LAZY: bool>(self, lz: &mut Lazy<'_, LAZY>, parts: &mut Parts<'_>) {
        let Parts {
            vals,
            f,
            u,
            data,
            scratch,
            ..
        } = parts;
        let (vals, f, u, data) = (*vals, *f, *u, *data);
        let us = |v: u32| v as usize;
        match self {
            Node::Elem { out, a, n, p, s } => {
                let (out, a, n, p) = (us(out), us(a), us(n), us(p));
                lz.touch_range(out, n);
                lz.touch_range(a, if s == 1 { n } else { 1 });
                kernels::elem_backward(lz.adj, f, [out, a, p], n, s == 1);
            }
            Node::Lin { out, a, n, s, c } => {
                let (out, a, n) = (us(out), us(a), us(n));
                // a linear node no adjoint reached contributes nothing (all its output
                // adjoints are zero): skipped without touching its ranges — the offset
                // behind a likelihood that took its gradient directly
                // (`Tape::data_affine_source`)
                if c.is_finite() && !lz.any_live(out, n) {
                    return;
                }
                lz.touch_range(out, n);
                lz.touch_range(a, if s == 1 { n } else { 1 });
                kernels::lin_backward(lz.adj, [out, a], n, s == 1, c);
            }
            Node::Red { out, a, n, p } => {
                if !lz.is_live(us(out)) {
                    return;
                }
                let g = lz.adj[us(out)];
                if g != 0.0 {
                    let (a, n, p) = (us(a), us(n), us(p));
                    lz.claim(a, n, |adj, lo, hi, fresh| {
                        let d = &f[p + lo - a..p + hi - a];
                        if fresh {
                            kernels::scale_into::<true>(&mut adj[lo..hi], d, g);
                        } else {
                            kernels::scale_into::<false>(&mut adj[lo..hi], d, g);
                        }
                    });
                }
            }
            Node::Sum { out, a, n, c } => {
                if !lz.is_live(us(out)) {
                    return;
                }
                let g = lz.adj[us(out)] * c;
                if g != 0.0 {
                    lz.claim(us(a), us(n), |adj, lo, hi, fresh| {
                        if fresh {
                            kernels::splat::<true>(&mut adj[lo..hi], g);
                        } else {
                            kernels::splat::<false>(&mut adj[lo..hi], g);
                        }
                    });
                }
            }
            Node::SqDev { out, a, n, m, mv } => {
                if !lz.is_live(us(out)) {
                    return;
                }
                let g = lz.adj[us(out)];
                if g != 0.0 {
                    let g2 = 2.0 * g;
                    let mut s1 = 0.0;
                    lz.claim(us(a), us(n), |adj, lo, hi, fresh| {
                        s1 += if fresh {
                            kernels::sq_dev_backward::<true>(
                                &mut adj[lo..hi],
                                &vals[lo..hi],
                                mv,
                                g2,
                            )
                        } else {
                            kernels::sq_dev_backward::<false>(
                                &mut adj[lo..hi],
                                &vals[lo..hi],
                                mv,
                                g2,
                            )
                        };
                    });
                    let m = us(m);
                    lz.touch(m);
                    lz.adj[m] -= g2 * s1;
                }
            }
            Node::Dot { out, a, b, n } => {
                if !lz.is_live(us(out)) {
                    return;
                }
                let g = lz.adj[us(out)];
                if g != 0.0 {
                    let (a, b, n) = (us(a), us(b), us(n));
                    lz.touch_range(a, n);
                    lz.touch_range(b, n);
                    kernels::dot_backward(lz.adj, vals, [a, b], n, g);
                }
            }
            Node::Gather { out, n, idx } => {
                let (out, n, idx) = (us(out), us(n), us(idx));
                lz.touch_range(out, n);
                for i in 0..n {
                    let t = u[idx + i] as usize;
                    lz.touch(t);
                    let g = lz.adj[out + i];
                    lz.adj[t] += g;
                }
            }
            Node::Group { out, a, n, p, idx } => {
                let (out, a, n, idx) = (us(out), us(a), us(n), us(idx));
                let groups = &u[idx..idx + n];
                if LAZY {
                    let len = groups.iter().max().map_or(0, |&g| us(g) + 1);
                    lz.touch_range(out, len);
                }
                lz.touch_range(a, n);
                let d = (p != NONE).then(|| &f[us(p)..us(p) + n]);
                kernels::group_backward(lz.adj, groups, d, [out, a]);
            }
            Node::CumSum { out, a, n, inner } => {
                let (out, a, n, inner) = (us(out), us(a), us(n), us(inner));
                lz.touch_range(out, n * inner);
                lz.touch_range(a, n * inner);
                kernels::cumsum_backward(lz.adj, scratch, out, a, n, inner);
            }
            Node::MatVec {
                out,
                a,
                x,
                m,
                k,
                ta,
                tx,
            } => {
                let ([out, a, x], [m, k]) = ([out, a, x].map(us), [m, k].map(us));
                lz.touch_range(out, m);
                lz.touch_range(a, m * k);
                lz.touch_range(x, k);
                kernels::matvec_backward(vals, lz.adj, [out, a, x], m, k, ta, tx);
            }
            Node::MatVecData { out, d, x } => {
                let (out, x, mat) = (us(out), us(x), &data[us(d)]);
                let (m, k) = mat.dim();
                // unreached: skipped without touching its ranges — the product behind a
                // likelihood that took its gradient directly (`Tape::data_affine_source`)
                if !lz.any_live(out, m) {
                    return;
                }
                lz.touch_range(out, m);
                lz.touch_range(x, k);
                kernels::matvec_data_backward(mat, lz.adj, out, x);
            }
            Node::MatMul {
                out,
                a,
                b,
                m,
                k,
                n,
                ta,
                tb,
            } => {
                let ([out, a, b], [m, k, n]) = ([out, a, b].map(us), [m, k, n].map(us));
                lz.touch_range(out, m * n);
                lz.touch_range(a, m * k);
                lz.touch_range(b, k * n);
                kernels::matmul_backward(vals, lz.adj, [out, a, b], [m, k, n], ta, tb);
            }
            Node::MatMulData { out, d, b, n } => {
                let ([out, b, n], mat) = ([out, b, n].map(us), &data[us(d)]);
                let (m, k) = mat.dim();
                lz.touch_range(out, m * n);
                lz.touch_range(b, k * n);
                kernels::matmul_data_backward(mat, lz.adj, out, b, n);
            }
            Node::Cholesky { out, a, n } => {
                let [out, a, n] = [out, a, n].map(us);
                lz.touch_range(out, n * n);
                lz.touch_range(a, n * n);
                kernels::cholesky_backward(vals, lz.adj, scratch, out, a, n);
            }
            Node::TriSolve {
                out,
                l,
                b,
                n,
                m,
                lower,
                tl,
                tb,
            } => {
                let ([out, l, b], [n, m]) = ([out, l, b].map(us), [n, m].map(us));
                lz.touch_range(out, n * m);
                lz.touch_range(l, n * n);
                lz.touch_range(b, n * m);
                kernels::trisolve_backward(vals, lz.adj, scratch, [out, l, b], n, m, lower, tl, tb);
            }
        }
    }
}
