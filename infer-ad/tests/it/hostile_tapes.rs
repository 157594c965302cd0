//! Hostile input, "tape mixing": every operation that takes two or more handles refuses
//! handles from two tapes before reading any operand — a typed [`AdError::DifferentTapes`]
//! for the methods, a panic naming the operation at the caller's line for the operators —
//! and the same calls on one tape still work.

use infer_ad::{AdError, Tape, Tensor, Var};
use ndarray::{Array2, array};
use proptest::prelude::*;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Once};

/// Extreme and ordinary f64 values: NaN, ±∞, ±0, subnormals, ±1e308, anything.
pub fn hostile_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(0.0),
            Just(-0.0),
            Just(5e-324),
            Just(-5e-324),
            Just(1e308),
            Just(-1e308),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
        ],
        3 => any::<f64>(),
        4 => -10.0f64..10.0,
    ]
}

/// The outcome of one two-handle operation, reduced to "which error, if any".
type Outcome = Result<(), AdError>;

fn ok<T>(r: Result<T, AdError>) -> Outcome {
    r.map(|_| ())
}

/// Every method of infer-ad that takes two or more handles, with its first operand(s) on
/// tape `a` and the other on tape `b` (`a` and `b` may be the same tape). `x` holds `n`
/// values (n ≥ 1); the matrices are n × n.
fn two_handle_methods<'t>(a: &'t Tape, b: &'t Tape, x: &[f64]) -> Vec<(&'static str, Outcome)> {
    let n = x.len();
    let sq: Vec<f64> = (0..n * n).map(|i| x[i % n]).collect();
    let va = a.tensor_from_slice(&[n], x).expect("vector");
    let vb = b.tensor_from_slice(&[n], x).expect("vector");
    let ma = a.tensor_from_slice(&[n, n], &sq).expect("matrix");
    let mb = b.tensor_from_slice(&[n, n], &sq).expect("matrix");
    let (sa, sb) = (a.var(x[0]), b.var(x[n - 1]));
    let data = Arc::new(Array2::from_shape_vec((n, n), sq.clone()).expect("n × n"));
    let grad = vec![1.0; n];
    vec![
        ("dot", ok(va.dot(vb))),
        ("matvec", ok(ma.matvec(vb))),
        ("matmul", ok(ma.matmul(mb))),
        ("tri_solve", ok(ma.tri_solve(vb, true))),
        ("tri_solve", ok(ma.tri_solve(mb, false))),
        ("data_matvec", ok(a.data_matvec(&data, vb))),
        ("data_matmul", ok(a.data_matmul(&data, mb))),
        ("pow", ok(va.pow(vb))),
        ("minimum", ok(va.minimum(vb))),
        ("maximum", ok(ma.maximum(vb))),
        (
            "zip_with_derivative",
            ok(va.zip_with_derivative(vb, |p, q| (p - q, 1.0, -1.0))),
        ),
        ("concat", ok(a.concat(&[va, vb], 0))),
        ("concat", ok(a.concat(&[vb, vb], 0))),
        ("stack", ok(a.stack(&[va, vb], 0))),
        ("stack", ok(a.stack(&[vb], 1))),
        (
            "fused_sum",
            ok(a.fused_sum([va, vb], |_, [p, q]| (p * q, [q, p]))),
        ),
        ("fused_sum", ok(a.fused_sum([vb], |_, [p]| (p, [1.0])))),
        (
            "fused_map",
            ok(a.fused_map([va, sb.as_tensor()], |_, [p, q]| (p + q, [1.0, 1.0]))),
        ),
        (
            "scalar_with_gradients",
            ok(a.scalar_with_gradients(1.0, &[(va, &grad), (vb, &grad)])),
        ),
        ("sum_sq_dev", ok(va.sum_sq_dev(sb))),
        ("stack_vars", ok(a.stack_vars(&[sa, sb]))),
        ("stack_vars", ok(a.stack_vars(&[sb]))),
        ("pow", ok(sa.pow(sb))),
        ("min", ok(sa.min(sb))),
        ("max", ok(sa.max(sb))),
        ("backward", a.backward(sb)),
    ]
}

fn lens(t: &Tape) -> (usize, usize) {
    (t.len(), t.num_nodes())
}

#[test]
fn dot_of_two_tapes_is_an_error_not_a_wrong_number() {
    // Issue 13: this returned Ok(5) — the second operand was read from the first tape.
    let (t1, t2) = (Tape::new(), Tape::new());
    let a = t1.tensor(&array![1.0, 2.0]);
    let b = t2.tensor(&array![3.0, 4.0]);
    assert_eq!(a.dot(b).unwrap_err(), AdError::DifferentTapes { op: "dot" });
    // and on one tape it is the inner product
    let c = t1.tensor(&array![3.0, 4.0]);
    assert_eq!(a.dot(c).unwrap().value(), 11.0);
}

#[test]
fn every_two_handle_method_names_itself_in_different_tapes() {
    // Issue 13: matvec, matmul, tri_solve, data_matvec, data_matmul read the wrong tape;
    // pow, minimum, maximum, concat panicked. Each now returns DifferentTapes naming itself
    // (that nothing is recorded is checked below).
    let (t1, t2) = (Tape::new(), Tape::new());
    let x = [2.0, 1.0, 3.0];
    for (op, r) in &two_handle_methods(&t1, &t2, &x) {
        assert_eq!(r, &Err(AdError::DifferentTapes { op }), "{op}");
    }
    // on one tape none of them is DifferentTapes (tri_solve of this matrix is fine too)
    let t = Tape::new();
    for (op, r) in two_handle_methods(&t, &t, &x) {
        assert!(r.is_ok(), "{op}: {r:?}");
    }
}

#[test]
fn nothing_is_recorded_when_the_tapes_differ() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let a = t1.tensor(&array![[1.0, 0.0], [0.0, 1.0]]);
    let b = t2.tensor(&array![3.0, 4.0]);
    let (l1, l2) = (lens(&t1), lens(&t2));
    assert!(a.matvec(b).is_err());
    assert!(a.tri_solve(b, true).is_err());
    assert!(
        t1.fused_sum([a, b], |_, [p, q]| (p + q, [1.0, 1.0]))
            .is_err()
    );
    assert!(t1.concat(&[b], 0).is_err());
    assert_eq!((lens(&t1), lens(&t2)), (l1, l2));
}

thread_local! {
    /// Where the last panic on this thread was raised (file, line), captured by the hook.
    static PANIC_AT: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that records the panic's location for the panicking thread
/// and stays silent for the panics these tests provoke on purpose; any other panic is
/// reported by the previous hook as usual.
fn record_panic_locations() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let loc = info.location().map(|l| (l.file().to_owned(), l.line()));
            let ours = loc
                .as_ref()
                .is_some_and(|(f, _)| f.ends_with("hostile_tapes.rs"));
            PANIC_AT.with(|p| *p.borrow_mut() = loc);
            if !ours {
                prev(info);
            }
        }));
    });
}

/// Runs `f`, which must panic with a message naming `op` and saying that the tapes differ,
/// reported at the operator's own line in this file: the line after the call, where the
/// closure's body is.
#[track_caller]
fn expect_operator_panic(op: &str, f: impl FnOnce()) {
    expect_panic(op, true, f);
}

#[track_caller]
fn expect_panic(op: &str, at_callers_line: bool, f: impl FnOnce()) {
    let line = std::panic::Location::caller().line() + 1;
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("an operator on two tapes panics");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    assert!(
        msg.starts_with(op) && msg.contains("different tapes"),
        "{op}: message {msg:?}"
    );
    let (file, at) = PANIC_AT
        .with(|p| p.borrow_mut().take())
        .expect("location recorded");
    assert!(
        !at_callers_line || (file.ends_with("hostile_tapes.rs") && at == line),
        "{op}: the panic names {file}:{at}, not the caller's line {line}"
    );
}

#[test]
fn operators_on_two_tapes_panic_at_the_callers_line() {
    record_panic_locations();
    let (t1, t2) = (Tape::new(), Tape::new());
    let (x, y) = (t1.var(1.0), t2.var(2.0));
    let (u, v) = (t1.tensor(&array![1.0, 2.0]), t2.tensor(&array![3.0, 4.0]));
    expect_operator_panic("add", || {
        let _ = x + y;
    });
    expect_operator_panic("sub", || {
        let _ = x - y;
    });
    expect_operator_panic("mul", || {
        let _ = x * y;
    });
    expect_operator_panic("div", || {
        let _ = x / y;
    });
    expect_operator_panic("add", || {
        let _ = u + v;
    });
    expect_operator_panic("sub", || {
        let _ = u - v;
    });
    expect_operator_panic("mul", || {
        let _ = u * v;
    });
    expect_operator_panic("div", || {
        let _ = u / v;
    });
    expect_operator_panic("mul", || {
        let _ = u * y;
    });
    expect_operator_panic("add", || {
        let _ = y + u;
    });
    // (through `Iterator::sum`, which does not pass the caller's line on)
    expect_panic("add", false, || {
        let _ = [x, y].into_iter().sum::<Option<Var>>();
    });
    // f64 constants never panic, and one tape works
    let w: Tensor = (u + 1.0) * 2.0 - u / 4.0;
    assert_eq!(w.to_vec(), vec![3.75, 5.5]);
    assert_eq!(((x + 1.0) * x / x - x).value(), 1.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every two-handle method (26 calls per case) on arbitrary values and lengths: handles
    /// from two tapes give DifferentTapes naming the method and record nothing; on one tape
    /// no call panics or reports DifferentTapes.
    #[test]
    fn prop_two_handle_methods(x in proptest::collection::vec(hostile_f64(), 1..5)) {
        let (t1, t2) = (Tape::new(), Tape::new());
        let mixed = catch_unwind(AssertUnwindSafe(|| {
            let out = two_handle_methods(&t1, &t2, &x);
            out.into_iter().map(|(op, r)| (op, r.err())).collect::<Vec<_>>()
        }));
        let mixed = mixed.map_err(|_| TestCaseError::fail("a method panicked on two tapes"))?;
        for (op, e) in mixed {
            prop_assert_eq!(e, Some(AdError::DifferentTapes { op }));
        }
        let t = Tape::new();
        let same = catch_unwind(AssertUnwindSafe(|| {
            let out = two_handle_methods(&t, &t, &x);
            out.into_iter().map(|(op, r)| (op, r.err())).collect::<Vec<_>>()
        }));
        let same = same.map_err(|_| TestCaseError::fail("a method panicked on one tape"))?;
        for (op, e) in same {
            prop_assert!(!matches!(e, Some(AdError::DifferentTapes { .. })), "{}", op);
        }
    }

    /// The check comes before anything is read or recorded: a rejected call leaves both
    /// tapes exactly as they were.
    #[test]
    fn prop_rejected_calls_record_nothing(x in proptest::collection::vec(hostile_f64(), 1..5)) {
        let (t1, t2) = (Tape::new(), Tape::new());
        let n = x.len();
        let a = t1.tensor_from_slice(&[n], &x).expect("vector");
        let b = t2.tensor_from_slice(&[n], &x).expect("vector");
        let m = t1.tensor_from_slice(&[n, 1], &x).expect("column");
        let s = t2.var(x[0]);
        let before = (lens(&t1), lens(&t2));
        prop_assert!(a.dot(b).is_err());
        prop_assert!(m.matmul(b.reshape(&[1, n]).expect("row")).is_err());
        prop_assert!(a.pow(b).is_err());
        prop_assert!(a.sum_sq_dev(s).is_err());
        prop_assert!(t1.stack_vars(&[s]).is_err());
        prop_assert!(t1.concat(&[a, b], 0).is_err());
        prop_assert!(t1.fused_map([a, b], |_, [p, q]| (p, [1.0, q])).is_err());
        prop_assert_eq!((lens(&t1), lens(&t2)), before);
    }
}
