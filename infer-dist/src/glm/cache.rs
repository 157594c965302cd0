//! The kernel's layout ([`Blocked`]) of the data matrices the plain spelling's fast path
//! meets, kept between evaluations: a log density records `data_matvec(&x, β)` on every
//! gradient with the same `Arc`'d matrix, and the blocked copy is what makes the fused
//! kernel fast (vector loads along observations, one pass over the data).
//!
//! Keyed by the matrix's allocation, held by a [`Weak`] reference: while the entry lives, the
//! allocation cannot be freed and reused for another matrix, and `Arc::get_mut` refuses to
//! hand out a mutable reference (it counts weak references), so the same address means the
//! same contents. Entries whose matrix is gone are dropped on the next lookup.

use super::Blocked;
use ndarray::Array2;
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// At most this many matrices are kept (the least recently used is dropped first).
const MAX_ENTRIES: usize = 8;
/// Matrices with more elements than this (128 MiB of `f64`) are not copied: the fast path
/// then reads the product's values from the tape instead.
const MAX_ELEMENTS: usize = 1 << 24;

/// What the fast path keeps of a data matrix.
pub(crate) struct Cached {
    /// The matrix in the kernel's layout.
    pub(crate) blocked: Blocked,
    /// maxᵢ Σⱼ |xᵢⱼ| (+∞ when an element is not finite): with it, |α + xᵢ·β| ≤
    /// `row_abs_max`·maxⱼ |βⱼ| + |α| bounds every logit without computing one.
    pub(crate) row_abs_max: f64,
}

struct Entry {
    key: Weak<Array2<f64>>,
    cached: Arc<Cached>,
}

static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// The blocked copy of `data` and its row bound, made on first use. `None` for a matrix above
/// [`MAX_ELEMENTS`], or one only the tape holds (a standard-layout copy the tape made of a
/// transposed or sliced matrix, new on every evaluation: copying it again would not pay).
pub(crate) fn cached(data: &Arc<Array2<f64>>) -> Option<Arc<Cached>> {
    if data.len() > MAX_ELEMENTS || Arc::strong_count(data) < 3 {
        // strong references: the tape's, the caller's `DataAffine`, and the user's own
        return None;
    }
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    cache.retain(|e| e.key.strong_count() > 0);
    let key = Arc::as_ptr(data);
    if let Some(i) = cache.iter().position(|e| std::ptr::eq(e.key.as_ptr(), key)) {
        let e = cache.remove(i);
        let b = Arc::clone(&e.cached);
        cache.push(e);
        return Some(b);
    }
    let row_abs_max = data
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|v| v.abs()).sum::<f64>())
        .fold(
            0.0,
            |m: f64, v| if v.is_nan() { f64::INFINITY } else { m.max(v) },
        );
    let b = Arc::new(Cached {
        blocked: Blocked::new(data),
        row_abs_max,
    });
    if cache.len() == MAX_ENTRIES {
        cache.remove(0);
    }
    cache.push(Entry {
        key: Arc::downgrade(data),
        cached: Arc::clone(&b),
    });
    Some(b)
}
