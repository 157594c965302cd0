//! Hostile input, "shapes": arbitrary dimensions, huge ones included, never make an element
//! count wrap around. Every shape that is built (constructors, reshape, broadcasting, matrix
//! products, concatenation) is either exact or a typed error.

use infer_ad::{AdError, Shape, Tape};
use proptest::prelude::*;
use std::sync::Arc;

/// The exact product of the dimensions, and whether the product of the non-zero ones fits
/// in `isize` (the shape invariant), computed in 128-bit arithmetic (saturating: a product
/// above 2¹²⁷ is only compared, never used).
fn exact(dims: &[usize]) -> (u128, bool) {
    let mut all: u128 = 1;
    let mut nonzero: u128 = 1;
    for &d in dims {
        all = all.saturating_mul(d as u128);
        nonzero = nonzero.saturating_mul(d.max(1) as u128);
    }
    (all, nonzero <= isize::MAX as u128)
}

/// Dimensions from ordinary to huge.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..4,
        1 => Just(1usize << 31),
        1 => Just(1usize << 32),
        1 => Just(1usize << 33),
        1 => Just(1usize << 62),
        1 => Just(usize::MAX),
        1 => Just(isize::MAX as usize),
        1 => any::<usize>(),
    ]
}

fn dims() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(dim(), 0..=6)
}

#[test]
fn tensor_from_slice_with_wrapping_dims_is_an_error() {
    // Issue 13: 2³² · 2³² wrapped to 0, so empty data "filled" the shape.
    let tape = Tape::new();
    assert_eq!(
        tape.tensor_from_slice(&[1 << 32, 1 << 32], &[])
            .unwrap_err(),
        AdError::TooManyElements {
            dims: vec![1 << 32, 1 << 32]
        }
    );
    assert!(tape.constant_from_slice(&[1 << 32, 1 << 32], &[]).is_err());
    // a zero dimension with moderate others is an honest empty tensor
    assert_eq!(
        tape.tensor_from_slice(&[0, 1 << 20], &[]).unwrap().numel(),
        0
    );
}

#[test]
fn matmul_of_empty_matrices_with_a_huge_product_is_an_error() {
    // [2³², 0] · [0, 2³²] is a 2⁶⁴-element product: it wrapped to 0 elements, then the old
    // code indexed rows past the end (a panic).
    let tape = Tape::new();
    let a = tape.tensor_from_slice(&[1 << 32, 0], &[]).unwrap();
    let b = tape.tensor_from_slice(&[0, 1 << 32], &[]).unwrap();
    assert!(matches!(a.matmul(b), Err(AdError::TooManyElements { .. })));
    let data = Arc::new(ndarray::Array2::<f64>::zeros((1 << 32, 0)));
    assert!(matches!(
        tape.data_matmul(&data, b),
        Err(AdError::TooManyElements { .. })
    ));
    // [2³¹, 0] · [0, 2³¹] fits in isize but not on a tape (u32 slot indices): an error,
    // not an attempt to allocate 2⁶² values
    let a = tape.tensor_from_slice(&[1 << 31, 0], &[]).unwrap();
    let b = tape.tensor_from_slice(&[0, 1 << 31], &[]).unwrap();
    assert!(matches!(a.matmul(b), Err(AdError::TooManyElements { .. })));
    // a broadcast whose result would not fit on the tape is an error too
    let col = tape
        .tensor_from_slice(&[1 << 20, 1], &vec![1.0; 1 << 20])
        .unwrap();
    let row = tape
        .tensor_from_slice(&[1, 1 << 20], &vec![1.0; 1 << 20])
        .unwrap();
    assert!(matches!(col.pow(row), Err(AdError::TooManyElements { .. })));
    // a product of moderate size still works: [3, 0] · [0, 2] is a 3 × 2 matrix of zeros
    let c = tape.tensor_from_slice(&[3, 0], &[]).unwrap();
    let d = tape.tensor_from_slice(&[0, 2], &[]).unwrap();
    assert_eq!(c.matmul(d).unwrap().to_vec(), vec![0.0; 6]);
}

/// Runs `f` on a thread and fails if it does not finish within 10 s.
fn within_time_bound(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("finishes in time (and does not panic)");
}

#[test]
fn empty_tensors_with_huge_dimensions_neither_loop_nor_allocate() {
    // An empty [2⁴⁰, 0] matrix is cheap to hold; operations on it looped 2⁴⁰ times over its
    // long axis (a hang) or allocated an output of 2⁴⁰ values (an abort).
    within_time_bound(|| {
        let tape = Tape::new();
        let a = tape.tensor_from_slice(&[1 << 40, 0], &[]).unwrap();
        let x = tape.tensor_from_slice(&[0], &[]).unwrap();
        assert!(matches!(a.matvec(x), Err(AdError::TooManyElements { .. })));
        let b = tape.tensor_from_slice(&[0, 0], &[]).unwrap();
        let c = a.matmul(b).unwrap();
        assert_eq!(c.dims(), &[1 << 40, 0]);
        c.sum().backward();
        let t = tape.tensor_from_slice(&[1 << 40, 3, 0], &[]).unwrap();
        assert_eq!(t.sum_axis(1).unwrap().dims(), &[1 << 40, 0]);
        assert_eq!(t.logsumexp_axis(1).unwrap().numel(), 0);
        assert_eq!(t.slice_axis(1, 1, 3).unwrap().dims(), &[1 << 40, 2, 0]);
        assert_eq!(tape.concat(&[t, t], 1).unwrap().dims(), &[1 << 40, 6, 0]);
        let data = Arc::new(ndarray::Array2::<f64>::zeros((1 << 40, 0)));
        assert!(matches!(
            tape.data_matvec(&data, x),
            Err(AdError::TooManyElements { .. })
        ));
        assert_eq!(tape.data_matmul(&data, b).unwrap().numel(), 0);
    });
}

#[test]
fn broadcast_reshape_concat_and_matrix_do_not_wrap() {
    let a = Shape::new(&[1 << 33, 1]).unwrap();
    let b = Shape::new(&[1, 1 << 33]).unwrap();
    assert!(matches!(
        a.broadcast(&b),
        Err(AdError::TooManyElements { .. })
    ));
    assert!(Shape::matrix(1 << 32, 1 << 32).is_err());
    assert_eq!(Shape::matrix(1 << 32, 0).unwrap().numel(), 0);
    let tape = Tape::new();
    let e = tape.tensor_from_slice(&[0], &[]).unwrap();
    assert!(e.reshape(&[0, 1 << 40, 1 << 40]).is_err());
    assert!(e.reshape(&[0, 1 << 20, 1 << 20]).is_ok());
    // concatenating empty parts whose lengths along the axis sum past isize::MAX (two) or
    // usize::MAX (three)
    let p = tape
        .tensor_from_slice(&[0, isize::MAX as usize], &[])
        .unwrap();
    for parts in [&[p, p][..], &[p, p, p][..]] {
        assert!(matches!(
            tape.concat(parts, 1),
            Err(AdError::TooManyElements { .. })
        ));
    }
    assert_eq!(tape.concat(&[p], 1).unwrap().numel(), 0);
    // a capacity hint that cannot be reserved is not a panic
    assert!(Tape::with_capacity(usize::MAX).is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Shape::new is Ok exactly when the invariant holds, and then its element count is the
    /// exact product; strides are exact too.
    #[test]
    fn prop_shape_new_is_exact(d in dims()) {
        let (n, fits) = exact(&d);
        match Shape::new(&d) {
            Ok(s) => {
                prop_assert!(fits);
                prop_assert_eq!(s.numel() as u128, n);
                prop_assert_eq!(s.dims(), &d[..]);
                let st = s.strides();
                for k in 0..d.len() {
                    prop_assert_eq!(st[k] as u128, exact(&d[k + 1..]).0);
                }
            }
            Err(e) => {
                prop_assert!(!fits, "{:?}", e);
                prop_assert_eq!(e, AdError::TooManyElements { dims: d.clone() });
            }
        }
    }

    /// Broadcasting two valid shapes gives an exact shape or a typed error, never a wrapped
    /// count; Shape::matrix likewise.
    #[test]
    fn prop_broadcast_and_matrix_are_exact(a in dims(), b in dims(), r in dim(), c in dim()) {
        if let (Ok(sa), Ok(sb)) = (Shape::new(&a), Shape::new(&b)) {
            match sa.broadcast(&sb) {
                Ok(s) => {
                    let (n, fits) = exact(s.dims());
                    prop_assert!(fits);
                    prop_assert_eq!(s.numel() as u128, n);
                }
                Err(AdError::ShapeMismatch { .. }) => {}
                Err(AdError::TooManyElements { dims }) => prop_assert!(!exact(&dims).1),
                Err(e) => prop_assert!(false, "unexpected {:?}", e),
            }
        }
        let (n, fits) = exact(&[r, c]);
        match Shape::matrix(r, c) {
            Ok(s) => prop_assert!(fits && s.numel() as u128 == n),
            Err(_) => prop_assert!(!fits),
        }
    }

    /// Tensors from slices, reshapes of an empty tensor, and products of empty matrices
    /// with arbitrary dimensions: Ok only with an exact element count equal to the data.
    #[test]
    fn prop_tensor_from_slice_reshape_matmul(d in dims(), len in 0usize..4, m in dim(), k in 0usize..2, n in dim()) {
        let tape = Tape::new();
        let data = vec![0.5; len];
        let (count, fits) = exact(&d);
        match tape.tensor_from_slice(&d, &data) {
            Ok(t) => prop_assert!(fits && count == len as u128 && t.numel() == len),
            Err(AdError::TooManyDims { .. }) => prop_assert!(d.len() > infer_ad::MAX_NDIM),
            Err(AdError::TooManyElements { .. }) => prop_assert!(!fits),
            Err(AdError::LengthMismatch { .. }) => prop_assert!(fits && count != len as u128),
            Err(e) => prop_assert!(false, "unexpected {:?}", e),
        }
        let empty = tape.tensor_from_slice(&[0], &[]).expect("empty");
        match empty.reshape(&d) {
            Ok(t) => prop_assert!(fits && count == 0 && t.numel() == 0),
            Err(_) => prop_assert!(!fits || count != 0),
        }
        // [m, k] · [k, n] with k = 0 (empty operands of any size) or k = 1 with m, n ≤ 3
        let (m, n) = if k == 0 { (m, n) } else { (m % 4, n % 4) };
        let (Ok(a), Ok(b)) = (
            tape.tensor_from_slice(&[m, k], &vec![1.0; m * k]),
            tape.tensor_from_slice(&[k, n], &vec![1.0; k * n]),
        ) else {
            return Ok(());
        };
        // The product has m·n elements: more than a tape's u32::MAX slots (or than isize)
        // is a typed error; a small one is exact. (Sizes in between would be allocated, so
        // they are not tried.)
        let (out, _) = exact(&[m, n]);
        if out > u32::MAX as u128 {
            let r = a.matmul(b);
            let typed = matches!(r, Err(AdError::TooManyElements { .. }));
            prop_assert!(typed, "{:?}", r);
        } else if out <= 16 {
            let c = a.matmul(b).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(c.numel() as u128, out);
            prop_assert!(c.to_vec().iter().all(|&v| v == k as f64));
        }
    }
}
