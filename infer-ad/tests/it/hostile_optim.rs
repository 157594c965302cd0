//! Hostile input, "optimizers": arbitrary f64 settings and gradients (NaN, ±∞, ±0,
//! subnormals, ±1e308) for Adam, SGD, gradient clipping and the parameter store. Invalid
//! settings are typed errors where they are set; a step never panics, never turns
//! non-NaN input into NaN parameters, and on non-finite input it is a typed error that
//! changes nothing.

use super::hostile_tapes::hostile_f64;
use infer_ad::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig, clip_grad_norm};
use infer_ad::{AdError, ParamStore, Tape};
use ndarray::{ArrayD, IxDyn, arr1};
use proptest::prelude::*;

fn store_with(values: &[f64], grads: &[f64]) -> ParamStore {
    let mut s = ParamStore::new();
    let half = values.len() / 2;
    let a = s.add("a", arr1(&values[..half])).unwrap();
    let b = s.add("b", arr1(&values[half..])).unwrap();
    s.grad_mut(a).assign(&arr1(&grads[..half]).into_dyn());
    s.grad_mut(b).assign(&arr1(&grads[half..]).into_dyn());
    s
}

fn bits(s: &ParamStore) -> Vec<u64> {
    s.to_flat().iter().map(|v| v.to_bits()).collect()
}

fn grad_bits(s: &ParamStore) -> Vec<u64> {
    s.ids()
        .flat_map(|id| s.grad(id).iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        .collect()
}

#[test]
fn set_lr_rejects_what_new_rejects() {
    // Issue 13: set_lr accepted NaN, −1 and ∞.
    let mut adam = Adam::new(AdamConfig::default()).unwrap();
    let mut sgd = Sgd::new(SgdConfig::default()).unwrap();
    for bad in [f64::NAN, -1.0, f64::INFINITY, f64::NEG_INFINITY, -5e-324] {
        assert!(matches!(
            adam.set_lr(bad),
            Err(AdError::InvalidHyperParameter { name: "lr", .. })
        ));
        assert!(matches!(
            sgd.set_lr(bad),
            Err(AdError::InvalidHyperParameter { name: "lr", .. })
        ));
    }
    assert_eq!(
        adam.config().lr,
        1e-3,
        "a rejected rate leaves the rate as it was"
    );
    assert_eq!(sgd.config().lr, 1e-3);
    adam.set_lr(0.0).unwrap();
    sgd.set_lr(1e308).unwrap();
    assert_eq!((adam.config().lr, sgd.config().lr), (0.0, 1e308));
}

#[test]
fn adam_eps_must_be_positive() {
    // Issue 13: eps = 0 was accepted and a zero gradient then gave 0/0 = NaN.
    for bad in [0.0, -0.0, -1e-8, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Adam::new(AdamConfig {
                eps: bad,
                ..AdamConfig::default()
            }),
            Err(AdError::InvalidHyperParameter { name: "eps", .. })
        ));
    }
    // the smallest positive eps is valid, and a zero gradient leaves the parameter as it is
    let mut adam = Adam::new(AdamConfig {
        eps: 5e-324,
        ..AdamConfig::default()
    })
    .unwrap();
    let mut s = store_with(&[1.0, 2.0], &[0.0, 0.0]);
    adam.step(&mut s).unwrap();
    assert_eq!(s.to_flat(), vec![1.0, 2.0]);
}

#[test]
fn clip_grad_norm_with_an_infinite_gradient_is_an_error() {
    // Issue 13: this returned Ok with NaN gradients (∞ · 0).
    for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        let mut s = store_with(&[0.0, 0.0], &[1.0, bad]);
        let before = grad_bits(&s);
        let e = clip_grad_norm(&mut s, 1.0).unwrap_err();
        assert!(
            matches!(&e, AdError::NonFinite { what: "gradient", name, index: 0, .. } if name == "b"),
            "{e}"
        );
        assert_eq!(grad_bits(&s), before, "the gradients are unchanged");
    }
}

#[test]
fn clip_grad_norm_of_huge_finite_gradients_is_exact() {
    // The squares overflowed: the norm was ∞ and the gradients were scaled to 0.
    let mut s = store_with(&[0.0, 0.0], &[3e200, 4e200]);
    let norm = clip_grad_norm(&mut s, 1.0).unwrap();
    assert!((norm - 5e200).abs() <= 2e-16 * 5e200, "{norm}");
    let grads: Vec<f64> = s.ids().map(|id| s.grad(id)[0]).collect();
    // factor = 1 / (5e200 + 1e-6) = 2e-201 (the 1e-6 is far below one ulp)
    assert!(
        (grads[0] - 0.6).abs() < 1e-15 && (grads[1] - 0.8).abs() < 1e-15,
        "{grads:?}"
    );
    // and of tiny ones: norm 5e-300, factor 1/(5e-300 + 1e-6) ≈ 1e6 > 1, so no clipping
    let mut s = store_with(&[0.0, 0.0], &[3e-300, 4e-300]);
    assert!((clip_grad_norm(&mut s, 1.0).unwrap() - 5e-300).abs() < 1e-314);
}

#[test]
fn adam_with_a_huge_gradient_moves_by_about_lr() {
    // With v = g² the square overflowed to ∞ and the update was 0; the first Adam step is
    // lr · g / (|g| + ε) = lr · sign(g) for any |g| ≫ ε.
    let mut adam = Adam::new(AdamConfig {
        lr: 0.1,
        ..AdamConfig::default()
    })
    .unwrap();
    let mut s = store_with(&[1.0, 1.0], &[1e200, -1e308]);
    adam.step(&mut s).unwrap();
    let v = s.to_flat();
    assert!(
        (v[0] - 0.9).abs() < 1e-15 && (v[1] - 1.1).abs() < 1e-15,
        "{v:?}"
    );
}

#[test]
fn accumulate_grads_from_another_store_is_an_error() {
    // Issue 13: a binding of another store (same shapes) was silently accumulated.
    let mut a = ParamStore::new();
    let mut b = ParamStore::new();
    a.add("w", arr1(&[1.0, 2.0])).unwrap();
    b.add("w", arr1(&[1.0, 2.0])).unwrap();
    let tape = Tape::new();
    let pa = a.bind(&tape);
    pa.leaves()[0].square().sum().backward();
    assert!(matches!(
        b.accumulate_grads(&pa),
        Err(AdError::ForeignBinding { .. })
    ));
    assert_eq!(b.grad_norm(), 0.0, "nothing accumulated");
    a.accumulate_grads(&pa).unwrap();
    assert_eq!(a.grad(a.id("w").unwrap()).as_slice().unwrap(), &[2.0, 4.0]);
    // a clone is the same store; a parameter added after binding, or one whose shape was
    // replaced, makes the binding stale
    let mut c = a.clone();
    c.accumulate_grads(&pa).unwrap();
    c.add("x", arr1(&[0.0])).unwrap();
    assert!(matches!(
        c.accumulate_grads(&pa),
        Err(AdError::ForeignBinding { .. })
    ));
    let w = a.id("w").unwrap();
    *a.value_mut(w) = ArrayD::zeros(IxDyn(&[3]));
    assert!(matches!(
        a.accumulate_grads(&pa),
        Err(AdError::ShapeMismatch {
            op: "accumulate_grads",
            ..
        })
    ));
}

#[test]
fn a_step_on_non_finite_input_names_the_parameter_and_changes_nothing() {
    let mut adam = Adam::new(AdamConfig::default()).unwrap();
    let mut s = store_with(&[1.0, 2.0, 3.0, 4.0], &[0.1, 0.2, f64::INFINITY, 0.4]);
    let before = bits(&s);
    let e = adam.step(&mut s).unwrap_err();
    assert!(
        matches!(&e, AdError::NonFinite { what: "gradient", name, index: 0, .. } if name == "b"),
        "{e}"
    );
    assert_eq!(bits(&s), before);
    assert_eq!(adam.steps(), 0, "a rejected step is not counted");
    // weight decay that overflows the gradient
    let mut sgd = Sgd::new(SgdConfig {
        weight_decay: 1e308,
        ..SgdConfig::default()
    })
    .unwrap();
    let mut s = store_with(&[1e308, 0.0], &[0.0, 0.0]);
    let e = sgd.step(&mut s).unwrap_err();
    assert!(
        matches!(
            e,
            AdError::NonFinite {
                what: "weight-decayed gradient",
                ..
            }
        ),
        "{e}"
    );
}

/// Whether an Adam configuration is valid, decided independently of the implementation.
fn adam_valid(c: &AdamConfig) -> bool {
    let unit = |b: f64| (0.0..1.0).contains(&b);
    c.lr >= 0.0
        && c.lr.is_finite()
        && unit(c.beta1)
        && unit(c.beta2)
        && c.eps > 0.0
        && c.eps.is_finite()
        && c.weight_decay >= 0.0
        && c.weight_decay.is_finite()
}

fn sgd_valid(c: &SgdConfig) -> bool {
    let ok = c.lr >= 0.0
        && c.lr.is_finite()
        && c.momentum >= 0.0
        && c.momentum.is_finite()
        && (0.0..=1.0).contains(&c.dampening)
        && c.weight_decay >= 0.0
        && c.weight_decay.is_finite();
    ok && (!c.nesterov || (c.momentum > 0.0 && c.dampening == 0.0))
}

/// A setting: a hostile value (one time in four), or one in the setting's usual range.
fn setting(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    prop_oneof![1 => hostile_f64(), 3 => lo..hi]
}

/// Whether a step may proceed: every value, gradient and g + λθ finite.
fn step_input_finite(s: &ParamStore, wd: f64) -> bool {
    s.ids().all(|id| {
        s.value(id)
            .iter()
            .zip(s.grad(id).iter())
            .all(|(&v, &g)| v.is_finite() && g.is_finite() && (g + wd * v).is_finite())
    })
}

/// Runs three steps with gradients `grads[k]`, checking each against the rules.
fn run_steps(
    opt: &mut dyn Optimizer,
    s: &mut ParamStore,
    wd: f64,
    grads: &[Vec<f64>],
) -> Result<(), TestCaseError> {
    for g in grads {
        let ids: Vec<_> = s.ids().collect();
        let mut at = 0;
        for id in ids {
            let n = s.grad(id).len();
            s.grad_mut(id)
                .iter_mut()
                .zip(&g[at..at + n])
                .for_each(|(d, &v)| *d = v);
            at += n;
        }
        let nan_in = s.to_flat().iter().chain(g).any(|v| v.is_nan());
        let finite_in = step_input_finite(s, wd);
        let before = bits(s);
        let r = opt.step(s);
        if finite_in {
            prop_assert!(r.is_ok(), "{:?}", r);
            prop_assert!(
                nan_in || s.to_flat().iter().all(|v| !v.is_nan()),
                "NaN parameters from non-NaN input: {:?}",
                s.to_flat()
            );
        } else {
            let typed = matches!(r, Err(AdError::NonFinite { .. }));
            prop_assert!(typed, "{:?}", r);
            prop_assert_eq!(bits(s), before.clone(), "a rejected step changes nothing");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Adam over arbitrary settings, values and gradients (three steps per case).
    #[test]
    fn prop_adam(
        lr in setting(0.0, 1.0), beta1 in setting(0.0, 1.0), beta2 in setting(0.0, 1.0),
        eps in setting(1e-12, 1e-4), wd in setting(0.0, 0.1), amsgrad in any::<bool>(),
        values in proptest::collection::vec(hostile_f64(), 4),
        grads in proptest::collection::vec(proptest::collection::vec(hostile_f64(), 4), 3),
        new_lr in hostile_f64(),
    ) {
        let cfg = AdamConfig { lr, beta1, beta2, eps, weight_decay: wd, amsgrad };
        let adam = Adam::new(cfg);
        prop_assert_eq!(adam.is_ok(), adam_valid(&cfg), "{:?}", cfg);
        let Ok(mut adam) = adam else { return Ok(()) };
        let mut s = store_with(&values, &[0.0; 4]);
        run_steps(&mut adam, &mut s, wd, &grads)?;
        let valid_lr = new_lr >= 0.0 && new_lr.is_finite();
        prop_assert_eq!(adam.set_lr(new_lr).is_ok(), valid_lr);
        prop_assert_eq!(adam.config().lr.to_bits(), if valid_lr { new_lr } else { lr }.to_bits());
    }

    /// SGD over arbitrary settings, values and gradients (three steps per case).
    #[test]
    fn prop_sgd(
        lr in setting(0.0, 1.0), momentum in setting(0.0, 1.0), dampening in setting(0.0, 1.0),
        wd in setting(0.0, 0.1), nesterov in any::<bool>(),
        values in proptest::collection::vec(hostile_f64(), 4),
        grads in proptest::collection::vec(proptest::collection::vec(hostile_f64(), 4), 3),
        new_lr in hostile_f64(),
    ) {
        let cfg = SgdConfig { lr, momentum, dampening, weight_decay: wd, nesterov };
        let sgd = Sgd::new(cfg);
        prop_assert_eq!(sgd.is_ok(), sgd_valid(&cfg), "{:?}", cfg);
        let Ok(mut sgd) = sgd else { return Ok(()) };
        let mut s = store_with(&values, &[0.0; 4]);
        run_steps(&mut sgd, &mut s, wd, &grads)?;
        prop_assert_eq!(sgd.set_lr(new_lr).is_ok(), new_lr >= 0.0 && new_lr.is_finite());
    }

    /// Gradient clipping: typed errors for invalid max_norm or non-finite gradients (nothing
    /// changed); otherwise the norm returned agrees with an independent overflow-free norm,
    /// the gradients stay finite and their norm ends at most max_norm.
    #[test]
    fn prop_clip_grad_norm(
        max_norm in setting(1e-3, 10.0),
        grads in proptest::collection::vec(hostile_f64(), 4),
    ) {
        let mut s = store_with(&[0.0; 4], &grads);
        let before = grad_bits(&s);
        let r = clip_grad_norm(&mut s, max_norm);
        if !(max_norm > 0.0 && max_norm.is_finite()) {
            let typed = matches!(r, Err(AdError::InvalidHyperParameter { name: "max_norm", .. }));
            prop_assert!(typed, "{:?}", r);
            prop_assert_eq!(grad_bits(&s), before);
            return Ok(());
        }
        if grads.iter().any(|g| !g.is_finite()) {
            let typed = matches!(r, Err(AdError::NonFinite { what: "gradient", .. }));
            prop_assert!(typed, "{:?}", r);
            prop_assert_eq!(grad_bits(&s), before);
            return Ok(());
        }
        let norm = r.map_err(|e| TestCaseError::fail(e.to_string()))?;
        // independent: a fold of hypot (no squares formed)
        let reference = grads.iter().fold(0.0f64, |acc, g| acc.hypot(*g));
        if reference.is_infinite() {
            prop_assert_eq!(norm, f64::INFINITY, "a norm above f64::MAX");
        } else {
            prop_assert!((norm - reference).abs() <= 1e-14 * reference, "{} vs {}", norm, reference);
        }
        let after: Vec<f64> = s.ids().flat_map(|id| s.grad(id).iter().copied().collect::<Vec<_>>()).collect();
        prop_assert!(after.iter().all(|g| g.is_finite()), "{:?}", after);
        let new_norm = after.iter().fold(0.0f64, |acc, g| acc.hypot(*g));
        prop_assert!(new_norm <= max_norm * (1.0 + 1e-12) || new_norm <= reference, "{} > {}", new_norm, max_norm);
    }
}
