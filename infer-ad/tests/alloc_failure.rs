//! Hostile input, "huge but legal" (issue 13): an operation whose element count passes every
//! shape check and the tape's `u32` slot space, but whose memory is refused, returns a typed
//! error — it does not abort the process in the allocator.
//!
//! The refusal is made deterministic by this binary's global allocator, which refuses every
//! single allocation above a per-thread threshold and forwards everything else to the system
//! allocator. That is what a machine without the memory does (an infallible `Vec` growth then
//! calls `handle_alloc_error`, which aborts), and no test commits the memory it asks for:
//! under Linux's overcommit a real 16 GiB reservation can succeed, and writing it would get
//! the process killed, so the test never relies on the real allocator refusing.
//!
//! Own test binary: a process has one global allocator, and the `it` binary's counts
//! allocations.
// The refusing allocator needs `unsafe impl GlobalAlloc`; it only forwards to `System`.
#![allow(unsafe_code)]

use infer_ad::{AdError, Shape, Tape, Tensor};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Refuses (returns null for) every allocation or reallocation of more than the calling
/// thread's [`LIMIT`] bytes.
struct Refusing;

thread_local! {
    /// Largest allocation this thread may make, in bytes.
    static LIMIT: Cell<usize> = const { Cell::new(DEFAULT_LIMIT) };
}

/// 1 GiB: far above anything these tests keep, far below the refused requests (≥ 16 GiB).
const DEFAULT_LIMIT: usize = 1 << 30;

fn allowed(size: usize) -> bool {
    LIMIT.try_with(|l| size <= l.get()).unwrap_or(true)
}

// SAFETY: forwards every call it does not refuse to the system allocator unchanged; a refusal
// returns null, which the `GlobalAlloc` contract allows for any request. The threshold is a
// const thread-local `Cell`, which does not allocate.
unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !allowed(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        if !allowed(new) {
            return std::ptr::null_mut();
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Refusing = Refusing;

/// Runs `f` with this thread's allocations limited to `bytes` (restored also when `f`
/// panics).
fn with_limit<R>(bytes: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            LIMIT.with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(LIMIT.with(|l| l.replace(bytes)));
    f()
}

fn oom(op: &'static str, elements: usize) -> AdError {
    AdError::OutOfMemory { op, elements }
}

/// A tensor of shape `dims` with every element `v`.
fn filled<'t>(tape: &'t Tape, dims: &[usize], v: f64) -> Tensor<'t> {
    let n = dims.iter().product();
    tape.tensor_from_slice(dims, &vec![v; n]).unwrap()
}

/// The formatted message with which `f` panics.
fn panic_message(f: impl FnOnce()) -> String {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let msg = r.unwrap_err();
    msg.downcast_ref::<String>()
        .expect("a formatted panic message")
        .clone()
}

/// A recording's sizes: slots and records (nothing may be recorded by a refused operation).
fn lens(t: &Tape) -> (usize, usize) {
    (t.len(), t.num_nodes())
}

#[test]
fn broadcast_to_2_pow_31_elements_is_out_of_memory() {
    // 2³¹ f64 = 16 GiB: a legal shape, below the u32 slot space, but not allocatable here.
    let tape = Tape::new();
    let x = tape.tensor(&ndarray::array![1.0]);
    let before = lens(&tape);
    let big = Shape::new(&[1 << 31]).unwrap();
    assert_eq!(
        x.broadcast_to(big).unwrap_err(),
        oom("broadcast_to", 1 << 31)
    );
    assert_eq!(lens(&tape), before);
    // the tape stays usable
    let y = x.broadcast_to(Shape::new(&[3]).unwrap()).unwrap();
    assert_eq!(y.to_vec(), vec![1.0; 3]);
}

#[test]
fn broadcast_beyond_the_slot_space_is_too_many_elements() {
    // 2³³ f64 = 64 GiB (more than this machine's memory) and 2⁴⁰ (8 TiB): legal shapes whose
    // element counts exceed the u32 slot space are rejected before any allocation.
    let tape = Tape::new();
    let x = tape.tensor(&ndarray::array![1.0]);
    let col = filled(&tape, &[1 << 20, 1], 1.0);
    let row = filled(&tape, &[1, 1 << 20], 1.0);
    let before = lens(&tape);
    for dims in [vec![1usize << 33], vec![1 << 20, 1 << 20], vec![1 << 40]] {
        let s = Shape::new(&dims).unwrap();
        assert_eq!(
            x.broadcast_to(s).unwrap_err(),
            AdError::TooManyElements { dims: dims.clone() }
        );
    }
    // a binary operation broadcasting both sides to 2⁴⁰
    assert_eq!(
        col.zip_with_derivative(row, |a, b| (a * b, b, a))
            .unwrap_err(),
        AdError::TooManyElements {
            dims: vec![1 << 20, 1 << 20]
        }
    );
    assert_eq!(lens(&tape), before);
}

#[test]
fn binary_ops_with_a_huge_broadcast_are_out_of_memory() {
    // [2¹⁶, 1] ∘ [1, 2¹⁵]: inputs of 64 Ki and 32 Ki elements, a result of 2³¹.
    let tape = Tape::new();
    let a = filled(&tape, &[1 << 16, 1], 1.0);
    let b = filled(&tape, &[1, 1 << 15], 2.0);
    let before = lens(&tape);
    let e = a.zip_with_derivative(b, |x, y| (x * y, y, x)).unwrap_err();
    assert_eq!(e, oom("broadcast_to", 1 << 31));
    assert_eq!(
        tape.fused_map([a, b], |_, [x, y]| (x * y, [y, x]))
            .unwrap_err(),
        oom("broadcast_to", 1 << 31)
    );
    assert_eq!(
        tape.fused_sum([a, b], |_, [x, y]| (x * y, [y, x]))
            .unwrap_err(),
        oom("broadcast_to", 1 << 31)
    );
    assert_eq!(lens(&tape), before);
    // the operators panic with the typed error's message instead of aborting
    let msg = panic_message(|| {
        let _ = a + b;
    });
    assert!(msg.contains("out of memory"), "{msg}");
}

#[test]
fn matrix_products_with_a_huge_result_are_out_of_memory() {
    let tape = Tape::new();
    let a = filled(&tape, &[1 << 16, 1], 1.0);
    let b = filled(&tape, &[1, 1 << 15], 1.0);
    let before = lens(&tape);
    assert_eq!(a.matmul(b).unwrap_err(), oom("matmul", 1 << 31));
    let d = std::sync::Arc::new(ndarray::Array2::<f64>::ones((1 << 16, 1)));
    assert_eq!(
        tape.data_matmul(&d, b).unwrap_err(),
        oom("data_matmul", 1 << 31)
    );
    assert_eq!(lens(&tape), before);
    // the same product of a moderate size still works
    let small = b.slice_axis(1, 0, 2).unwrap();
    assert_eq!(a.matmul(small).unwrap().numel(), 1 << 17);
}

#[test]
fn fused_partials_that_cannot_be_allocated_are_out_of_memory() {
    // n = 2²⁰ elements (8 MiB each buffer); allocations limited to 16 MiB. A contiguous
    // fused sum of three tracked operands needs 4n partials (32 MiB), a fused map 3n.
    let n = 1 << 20;
    let data = vec![0.5; n];
    with_limit(16 << 20, || {
        let tape = Tape::new();
        let x = tape.tensor_from_slice(&[n], &data).unwrap();
        let before = lens(&tape);
        assert_eq!(
            tape.fused_sum([x, x, x], |_, [a, b, c]| (a * b * c, [b * c, a * c, a * b]))
                .unwrap_err(),
            oom("fused_sum", 4 * n)
        );
        assert_eq!(
            tape.fused_map([x, x, x], |_, [a, b, c]| (a + b + c, [1.0; 3]))
                .unwrap_err(),
            oom("fused_map", 3 * n)
        );
        // one tracked operand fits (n partials)
        let y = tape.fused_map([x], |_, [a]| (a * a, [2.0 * a])).unwrap();
        assert_eq!(y.numel(), n);
        assert_eq!(tape.len(), before.0 + n);
    });
}

#[test]
fn leaves_from_unallocatable_data_are_errors_or_panics_not_aborts() {
    // 2²² elements (32 MiB) with allocations limited to 16 MiB: the limit stays above what
    // the panic machinery allocates (a backtrace's buffers, a few MiB).
    let n = 1 << 22;
    let data = vec![0.5; n];
    let arr = ndarray::Array1::from(data.clone());
    with_limit(16 << 20, || {
        let tape = Tape::new();
        assert_eq!(
            tape.tensor_from_slice(&[n], &data).unwrap_err(),
            oom("tensor_from_slice", n)
        );
        assert!(tape.constant_from_slice(&[n], &data).is_err());
        assert!(tape.is_empty());
        let msg = panic_message(|| {
            let _ = tape.constant(&arr);
        });
        assert!(msg.starts_with("constant: cannot allocate"), "{msg}");
    });
}

#[test]
fn backward_never_grows_the_adjoints_of_tensor_operations() {
    // The adjoints are reserved when a tensor operation records, so the backward pass of a
    // tape grown by tensor operations allocates no adjoints, even with allocations refused.
    let n = 1 << 20;
    let tape = Tape::new();
    let x = tape.tensor_from_slice(&[n], &vec![0.5; n]).unwrap();
    let y = tape.fused_map([x], |_, [a]| (a * a, [2.0 * a])).unwrap();
    let s = tape.fused_sum([y], |_, [v]| (v, [1.0])).unwrap();
    with_limit(1 << 16, || tape.backward(s)).unwrap();
    assert_eq!(x.grad()[7], 1.0);
}

#[test]
fn backward_of_a_scalar_grown_tape_is_out_of_memory_when_refused() {
    // Scalar operations grow the values only; the backward pass then reserves the adjoints
    // fallibly: a refused allocation is an error from Tape::backward (no gradient is
    // changed) and a panic naming it from Var::backward, never an abort.
    // 2²¹ additions: 2²² slots, 32 MiB of adjoints, with allocations limited to 16 MiB
    // (above what the panic machinery allocates).
    let n = 1 << 21;
    let tape = Tape::new();
    let mut acc = tape.var(0.0);
    for i in 0..n {
        acc = acc + tape.var(i as f64);
    }
    let len = tape.len();
    assert_eq!(
        with_limit(16 << 20, || tape.backward(acc)).unwrap_err(),
        oom("backward", len)
    );
    let msg = panic_message(|| {
        with_limit(16 << 20, || acc.backward());
    });
    assert!(msg.starts_with("backward: cannot allocate"), "{msg}");
    // with memory, the same pass works
    tape.backward(acc).unwrap();
    assert_eq!(acc.grad(), 1.0);
}

#[test]
fn the_slot_limit_bounds_the_tape_before_allocating() {
    let mut tape = Tape::new();
    assert_eq!(tape.max_slots(), u32::MAX as usize);
    tape.set_max_slots(1 << 20);
    let x = tape.tensor(&ndarray::array![1.0, 2.0]);
    assert_eq!(
        x.broadcast_to(Shape::new(&[1 << 19, 2]).unwrap())
            .unwrap_err(),
        AdError::TooManyElements {
            dims: vec![1 << 19, 2]
        }
    );
    assert!(
        tape.tensor_from_slice(&[1 << 20], &vec![0.0; 1 << 20])
            .is_err()
    );
    assert_eq!(
        x.broadcast_to(Shape::new(&[1000, 2]).unwrap())
            .unwrap()
            .numel(),
        2000
    );
    tape.set_max_slots(usize::MAX);
    assert_eq!(tape.max_slots(), u32::MAX as usize);
}

/// Dimensions from ordinary to large; the product of a few is beyond any memory.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 1usize..5,
        1 => Just(1usize << 8),
        1 => Just(1usize << 12),
        1 => Just(1usize << 16),
    ]
}

/// Largest single allocation of the property test: 64 MiB.
const PROP_LIMIT: usize = 64 << 20;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Broadcasting two tensors of at most 2¹⁶ elements each (operand a keeps the
    /// dimensions whose bit of `mask` is set, b the others) to a common shape of up to
    /// 2⁶⁴ elements: an exact result when it fits, otherwise a typed error —
    /// TooManyElements beyond the u32 slot space, OutOfMemory within it — with nothing
    /// recorded. Never an abort.
    #[test]
    fn prop_huge_broadcasts_are_typed_errors(d in proptest::collection::vec(dim(), 1..=4), mask in any::<u8>()) {
        let pick = |keep: bool| -> Vec<usize> {
            d.iter().enumerate().map(|(i, &x)| if (mask >> i & 1 == 1) == keep { x } else { 1 }).collect()
        };
        let (da, db) = (pick(true), pick(false));
        let count = |v: &[usize]| v.iter().map(|&x| x as u128).product::<u128>();
        prop_assume!(count(&da) <= 1 << 16 && count(&db) <= 1 << 16);
        let (na, nb) = (count(&da) as usize, count(&db) as usize);
        let total: u128 = d.iter().map(|&x| x as u128).product();
        for op in 0..2 {
            // each operation on a fresh tape
            let tape = Tape::new();
            let a = tape.tensor_from_slice(&da, &vec![1.0; na]).unwrap();
            let b = tape.tensor_from_slice(&db, &vec![2.0; nb]).unwrap();
            let before = lens(&tape);
            let r = with_limit(PROP_LIMIT, || {
                if op == 0 {
                    a.zip_with_derivative(b, |x, y| (x * y, y, x)).map(|t| t.numel())
                } else {
                    tape.fused_map([a, b], |_, [x, y]| (x + y, [1.0, 1.0])).map(|t| t.numel())
                }
            });
            match r {
                Ok(n) => prop_assert_eq!(n as u128, total),
                Err(AdError::TooManyElements { .. }) => {
                    prop_assert!(total > (u32::MAX as usize - before.0) as u128);
                }
                Err(AdError::OutOfMemory { .. }) => {
                    // refused: some buffer — the values (the operands, their two broadcast
                    // copies and the result), the indices or the two operands' partials — of
                    // at most 3·total + slots elements exceeded the limit, and a small
                    // result is never refused
                    prop_assert!(total <= u32::MAX as u128);
                    prop_assert!((3 * total + before.0 as u128) * 8 > PROP_LIMIT as u128);
                    prop_assert!(total > (PROP_LIMIT / 64) as u128);
                }
                Err(e) => prop_assert!(false, "unexpected {:?}", e),
            }
            if total > (PROP_LIMIT / 8) as u128 {
                // the first broadcast copy was already refused: nothing recorded
                prop_assert_eq!(lens(&tape), before);
            }
        }
    }
}
