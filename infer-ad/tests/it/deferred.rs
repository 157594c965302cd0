//! Deferred data products (`Tape::data_matvec` with a tracked vector): whatever is recorded
//! or read after the product, its values — and every value and gradient computed from them —
//! equal those of the same computation with the product evaluated at once (an untracked
//! operand is evaluated at once, by the same kernel), bit for bit.

use infer_ad::{Tape, Tensor};
use ndarray::{Array1, Array2};
use proptest::prelude::*;
use std::sync::Arc;

/// What is done after `eta = data_matvec(x, β) (± α)` and before its values are read.
#[derive(Debug, Clone, Copy)]
enum After {
    /// Nothing.
    Nothing,
    /// A scalar operation on `Var`s (which never reads the tape).
    Scalars,
    /// A fused sum over another tensor (does not read `eta`).
    FusedOther,
    /// Elementwise operations and a sum on another tensor (do not read `eta`).
    ElementwiseOther,
    /// A tensor operation on `eta` itself.
    UseEta,
    /// A second deferred product.
    SecondProduct,
    /// Reading one element of `eta` as a `Var`.
    Element,
}

fn after_strategy() -> impl Strategy<Value = After> {
    prop_oneof![
        Just(After::Nothing),
        Just(After::Scalars),
        Just(After::FusedOther),
        Just(After::ElementwiseOther),
        Just(After::UseEta),
        Just(After::SecondProduct),
        Just(After::Element),
    ]
}

/// Records `eta = X·β` (`alpha` = (α, form): + α for form 1, − α for −1, α + (the product)
/// for 2), then `after`, then `Σ wᵢ etaᵢ + extra`; returns eta's
/// values, the total, and the gradients with respect to β and α. `deferred` = false takes
/// eta's values before anything else is recorded.
fn run(
    x: &Arc<Array2<f64>>,
    beta: &Array1<f64>,
    alpha: Option<(f64, f64)>,
    after: After,
    read_first: bool,
) -> (Vec<f64>, f64, Vec<f64>, f64) {
    let tape = Tape::new();
    let b = tape.tensor(beta);
    let a = tape.var(alpha.map_or(0.0, |(a, _)| a));
    let mut eta = tape.data_matvec(x, b).expect("shapes");
    if let Some((_, form)) = alpha {
        eta = match form {
            1.0 => eta + a,
            -1.0 => eta - a,
            _ => a + eta,
        };
    }
    if read_first {
        let _ = eta.to_vec();
        assert!(
            tape.deferred_affine(eta).is_none(),
            "read values are not deferred"
        );
    } else {
        assert!(
            tape.deferred_affine(eta).is_some(),
            "a fresh product is deferred"
        );
    }
    let mut extra = tape.var(0.0);
    match after {
        After::Nothing => {}
        After::Scalars => extra = (a * 2.0 + 1.0).exp().ln(),
        After::FusedOther => {
            let (s, _) = tape
                .fused_sum_with_partials([b], |_, [v]| (v * v, [2.0 * v]))
                .expect("fused");
            extra = s;
        }
        After::ElementwiseOther => {
            extra = (b.square() * 0.5 + b).sum();
            assert_eq!(tape.deferred_affine(eta).is_some(), !read_first);
        }
        After::UseEta => extra = (eta * 0.5).sum(),
        After::SecondProduct => {
            extra = tape.data_matvec(x, b * 2.0).expect("shapes").sum();
        }
        After::Element => extra = eta.at(&[0]).expect("index") * 3.0,
    }
    let w: Vec<f64> = (0..eta.numel()).map(|i| 0.5 + (i % 5) as f64).collect();
    let total = (eta * tape.constant(&Array1::from(w))).sum() + extra;
    total.backward();
    let values = eta.to_vec();
    (
        values,
        total.value(),
        b.grad().iter().copied().collect(),
        a.grad(),
    )
}

fn case(n: usize, k: usize, seed: u64) -> (Arc<Array2<f64>>, Array1<f64>) {
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0
    };
    let x = Array2::from_shape_fn((n, k), |_| next());
    let beta = Array1::from_shape_fn(k, |_| next());
    (Arc::new(x), beta)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn deferred_products_equal_eager_ones_bit_for_bit(
        n in 1usize..40,
        k in 1usize..12,
        seed in 0u64..1000,
        offset in prop_oneof![Just(None), Just(Some((0.7, 1.0))), Just(Some((-1.3, -1.0))), Just(Some((2.1, 2.0)))],
        after in after_strategy(),
    ) {
        let (x, beta) = case(n, k, seed);
        let lazy = run(&x, &beta, offset, after, false);
        let eager = run(&x, &beta, offset, after, true);
        prop_assert_eq!(lazy.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            eager.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        prop_assert_eq!(lazy.1.to_bits(), eager.1.to_bits());
        prop_assert_eq!(lazy.2, eager.2);
        prop_assert_eq!(lazy.3.to_bits(), eager.3.to_bits());
    }
}

/// The same values as the product of an untracked operand (evaluated at once).
#[test]
fn deferred_values_equal_the_untracked_product() {
    let (x, beta) = case(37, 9, 5);
    let tape = Tape::new();
    let eta = tape.data_matvec(&x, tape.tensor(&beta)).expect("shapes");
    let c = tape.data_matvec(&x, tape.constant(&beta)).expect("shapes");
    assert!(tape.deferred_affine(eta).is_some());
    assert!(
        tape.deferred_affine(c).is_none(),
        "an untracked product is computed at once"
    );
    let (a, b) = (eta.to_vec(), c.to_vec());
    assert_eq!(
        a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

/// Only the whole product, or the product plus a scalar, is a recipe; a view, a scaled
/// product, or a second offset is not (and reading any of them computes the values).
#[test]
fn deferred_recipes_are_exact() {
    let (x, beta) = case(6, 3, 9);
    let tape = Tape::new();
    let b = tape.tensor(&beta);
    let a = tape.var(0.25);
    let eta = tape.data_matvec(&x, b).expect("shapes");
    let sum = eta + a;
    let r = tape.deferred_affine(sum).expect("product + scalar");
    assert_eq!(
        r.offset.map(|(s, c)| (s.to_vec(), c)),
        Some((vec![0.25], 1.0))
    );
    assert!(
        tape.deferred_affine(eta).is_none(),
        "the product's recipe moved to the sum"
    );
    let twice = sum + a; // a second offset computes the values
    assert!(tape.deferred_affine(twice).is_none());
    assert!(tape.deferred_affine(sum).is_none());
    let t: Tensor<'_> = tape.data_matvec(&x, b).expect("shapes");
    let half = t.slice_axis(0, 0, 3).expect("slice");
    assert!(tape.deferred_affine(half).is_none());
    let direct: Vec<f64> = (0..6)
        .map(|i| (0..3).map(|j| x[[i, j]] * beta[j]).sum::<f64>())
        .collect();
    for (got, want) in half.to_vec().iter().zip(&direct) {
        assert!((got - want).abs() <= 1e-12, "{got} vs {want}");
    }
}
