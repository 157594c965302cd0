//! A steady-state gradient evaluation allocates nothing: counted with a global allocator
//! that counts per thread.
// The counting allocator needs `unsafe impl GlobalAlloc`; it only forwards to `System`.
#![allow(unsafe_code)]

use infer_ad::Tape;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; the counter is a const
// thread-local Cell, which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

/// The logistic-regression log density and gradient, as the benchmark computes it.
fn logreg_grad(
    tape: &mut Tape,
    x: &Arc<ndarray::Array2<f64>>,
    y: &[f64],
    beta: &[f64],
    out: &mut [f64],
) -> f64 {
    tape.clear();
    let b = tape
        .tensor_from_slice(&[beta.len()], beta)
        .expect("length matches");
    let eta = tape.data_matvec(x, b).expect("shapes match");
    let ll = tape
        .fused_sum([eta], |i, [e]| {
            let s = infer_ad::scalar::sigmoid(e);
            (y[i] * e - infer_ad::scalar::softplus(e), [y[i] - s])
        })
        .expect("one operand");
    let lp = ll - 0.5 * b.square().sum();
    lp.backward();
    b.grad_into(out);
    lp.value()
}

#[test]
fn steady_state_gradient_allocates_nothing() {
    let (n, d) = (200, 10);
    let x = Arc::new(ndarray::Array2::from_shape_fn((n, d), |(i, j)| {
        ((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.5
    }));
    let y: Vec<f64> = (0..n).map(|i| (i % 3 == 0) as u8 as f64).collect();
    let beta = vec![0.1; d];
    let mut g = vec![0.0; d];
    let mut tape = Tape::new();
    // warm up: buffers grow to their steady-state size
    for _ in 0..3 {
        logreg_grad(&mut tape, &x, &y, &beta, &mut g);
    }
    let cap = tape.capacity();
    let before = allocs();
    for _ in 0..100 {
        logreg_grad(&mut tape, &x, &y, &beta, &mut g);
    }
    let after = allocs();
    assert_eq!(
        after - before,
        0,
        "heap allocations in 100 steady-state gradients"
    );
    assert_eq!(tape.capacity(), cap, "clearing must keep capacity");

    // a scalar chain is allocation-free too, once the buffers have grown
    let chain = |tape: &mut Tape| {
        tape.clear();
        let mut v = tape.var(0.1);
        for _ in 0..1000 {
            v = (v * 1.0001).sin() + 0.01;
        }
        v.backward();
    };
    chain(&mut tape);
    let before = allocs();
    for _ in 0..10 {
        chain(&mut tape);
    }
    assert_eq!(allocs() - before, 0, "allocations in 10 scalar chains");
}
