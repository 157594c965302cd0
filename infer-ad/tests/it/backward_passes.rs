//! Backward-pass bookkeeping: stale adjoints of an earlier recording, slots that receive
//! nothing, one input range reached by several nodes, a centre recorded before or after its
//! range, scalar edges and tensor nodes into the same range, several passes and roots on one
//! tape. Expected values are worked out by hand from the formulas in each test.

use infer_ad::Tape;
use ndarray::array;

#[test]
fn stale_adjoints_of_an_earlier_recording_never_leak() {
    let mut tape = Tape::new();
    // First recording: every slot gets a large adjoint.
    let x = tape.tensor(&array![1.0, 2.0, 3.0, 4.0]);
    let y = (x * 1000.0).sum();
    y.backward();
    assert_eq!(x.grad().as_slice().unwrap(), &[1000.0; 4]);
    tape.clear();
    // Second recording, same slots: before any backward pass every gradient reads 0...
    let unused = tape.var(4.0);
    let a = tape.var(1.0);
    let b = tape.var(2.0);
    let c = tape.var(3.0);
    assert_eq!((a.grad(), b.grad(), c.grad()), (0.0, 0.0, 0.0));
    assert_eq!(unused.grad(), 0.0);
    // ...and a leaf the root does not depend on reads 0 after it.
    let z = a * c;
    z.backward();
    assert_eq!(a.grad(), 3.0);
    assert_eq!(b.grad(), 0.0);
    assert_eq!(unused.grad(), 0.0);
    assert_eq!(c.grad(), 1.0);
    assert_eq!(z.grad(), 1.0);
}

#[test]
fn values_recorded_after_the_root_have_zero_gradient() {
    let tape = Tape::new();
    let x = tape.var(2.0);
    let y = x * x; // root of the second pass
    let z = y * 5.0 + x; // root of the first pass
    z.backward();
    assert_eq!(x.grad(), 2.0 * 5.0 * 2.0 + 1.0);
    assert_eq!(y.grad(), 5.0);
    y.backward();
    assert_eq!(x.grad(), 4.0);
    assert_eq!(y.grad(), 1.0);
    assert_eq!(z.grad(), 0.0, "z was recorded after the root");
}

#[test]
fn a_range_claimed_by_two_nodes_accumulates() {
    let tape = Tape::new();
    let x = tape.tensor(&array![1.0, -2.0, 0.5]);
    let m1 = tape.var(0.25);
    let m2 = tape.var(-1.0);
    // s = Σ (x − m1)² + 3 Σ (x − m2)² + Σ x: three nodes with the same input range.
    let s = x.sum_sq_dev(m1).unwrap() + 3.0 * x.sum_sq_dev(m2).unwrap() + x.sum();
    s.backward();
    let xs = [1.0, -2.0, 0.5];
    let g = x.grad();
    for (i, &xi) in xs.iter().enumerate() {
        let want = 2.0 * (xi - 0.25) + 6.0 * (xi + 1.0) + 1.0;
        assert!((g[i] - want).abs() < 1e-12, "x[{i}]: {} vs {want}", g[i]);
    }
    let dm1: f64 = xs.iter().map(|&xi| -2.0 * (xi - 0.25)).sum();
    let dm2: f64 = xs.iter().map(|&xi| -6.0 * (xi + 1.0)).sum();
    assert!((m1.grad() - dm1).abs() < 1e-12);
    assert!((m2.grad() - dm2).abs() < 1e-12);
}

#[test]
fn centre_recorded_before_or_after_its_range() {
    for centre_first in [true, false] {
        let tape = Tape::new();
        let (m, x) = if centre_first {
            let m = tape.var(0.5);
            (m, tape.tensor(&array![1.0, 2.0, 4.0]))
        } else {
            let x = tape.tensor(&array![1.0, 2.0, 4.0]);
            (tape.var(0.5), x)
        };
        // An unrelated leaf between and around, which must read 0.
        let other = tape.var(7.0);
        let s = x.sum_sq_dev(m).unwrap() * 0.5;
        s.backward();
        assert_eq!(x.grad().as_slice().unwrap(), &[0.5, 1.5, 3.5]);
        assert_eq!(m.grad(), -(0.5 + 1.5 + 3.5));
        assert_eq!(other.grad(), 0.0);
    }
}

#[test]
fn scalar_edges_into_a_tensor_range_after_a_tensor_node() {
    // x feeds a reduction (tensor node) and, through an element, a scalar chain: the scalar
    // records are swept first and claim one slot of the range; the reduction then adds.
    let tape = Tape::new();
    let x = tape.tensor(&array![1.0, 2.0, 3.0]);
    let x1 = x.index_axis(0, 1).unwrap().sum(); // x[1] as a scalar
    let t = x.exp().sum() + x1 * x1;
    t.backward();
    let g = x.grad();
    let want = [1f64.exp(), 2f64.exp() + 4.0, 3f64.exp()];
    for i in 0..3 {
        assert!(
            (g[i] - want[i]).abs() < 1e-12,
            "x[{i}]: {} vs {}",
            g[i],
            want[i]
        );
    }
}

#[test]
fn repeated_passes_on_one_recording_agree() {
    let tape = Tape::new();
    let x = tape.tensor(&array![[1.0, 2.0], [3.0, 4.0]]);
    let v = tape.tensor(&array![0.5, -1.0]);
    let y = x.matvec(v).unwrap().sum() + x.sum_sq_dev(tape.var(1.0)).unwrap();
    y.backward();
    let (gx, gv) = (x.grad(), v.grad());
    y.backward();
    assert_eq!(x.grad(), gx);
    assert_eq!(v.grad(), gv);
    // ∂/∂x_ij = v_j + 2 (x_ij − 1); ∂/∂v_j = Σ_i x_ij.
    assert_eq!(gx, array![[0.5, 1.0], [4.5, 5.0]].into_dyn());
    assert_eq!(gv, array![4.0, 6.0].into_dyn());
}

/// Data of `n` values that are all different (so a gradient landing in the wrong slot shows).
fn data(n: usize, k: f64) -> ndarray::Array1<f64> {
    ndarray::Array1::from_iter((0..n).map(|i| ((i * 37 + 11) % 101) as f64 / 10.0 - k))
}

#[test]
fn long_ranges_across_many_blocks_with_stale_adjoints() {
    let mut tape = Tape::new();
    // Fill the adjoints with garbage from a first, differently laid out recording.
    let junk = tape.tensor(&data(5000, 3.0));
    (junk * 1e6).sum().backward();
    for layout in 0..3 {
        tape.clear();
        // Parameters before, between or after the data; an unused range in the middle.
        let pre = tape.var(0.7);
        let (m, x, unused) = match layout {
            0 => {
                let m = tape.var(0.25);
                let x = tape.tensor(&data(1001, 0.0));
                (m, x, tape.tensor(&data(500, 1.0)))
            }
            1 => {
                let x = tape.tensor(&data(1001, 0.0));
                let unused = tape.tensor(&data(500, 1.0));
                (tape.var(0.25), x, unused)
            }
            _ => {
                let unused = tape.tensor(&data(500, 1.0));
                let x = tape.tensor(&data(1001, 0.0));
                (tape.var(0.25), x, unused)
            }
        };
        // s = pre · Σ(x − m)² + Σ x + 2 x[700] + Σ exp(x / 10)
        let x700 = x.index_axis(0, 700).unwrap().sum();
        let s = pre * x.sum_sq_dev(m).unwrap() + x.sum() + 2.0 * x700 + (x * 0.1).exp().sum();
        s.backward();
        let xs = data(1001, 0.0);
        let g = x.grad();
        for i in 0..1001 {
            let mut want = 2.0 * 0.7 * (xs[i] - 0.25) + 1.0 + 0.1 * (0.1 * xs[i]).exp();
            if i == 700 {
                want += 2.0;
            }
            assert!(
                (g[i] - want).abs() < 1e-10,
                "layout {layout}, x[{i}]: {} vs {want}",
                g[i]
            );
        }
        let ssd: f64 = xs.iter().map(|v| (v - 0.25) * (v - 0.25)).sum();
        let dm: f64 = xs.iter().map(|v| -2.0 * 0.7 * (v - 0.25)).sum();
        assert!(
            (pre.grad() - ssd).abs() < 1e-8 * ssd,
            "layout {layout}: d/dpre"
        );
        assert!(
            (m.grad() - dm).abs() < 1e-8 * dm.abs().max(1.0),
            "layout {layout}: d/dm"
        );
        assert!(
            unused.grad().iter().all(|&v| v == 0.0),
            "layout {layout}: a range the root does not depend on must read 0"
        );
    }
}

#[test]
fn reductions_over_one_long_range_in_either_order() {
    let tape = Tape::new();
    let x = tape.tensor(&data(777, 2.0));
    let c = tape.var(1.5);
    // Sum node first, then a fused reduction, then the squared deviations, on the same range.
    let s = x.sum() * c + x.sum_sq_dev(c).unwrap() + (x * x).sum();
    s.backward();
    let xs = data(777, 2.0);
    let g = x.grad();
    for i in 0..777 {
        let want = 1.5 + 2.0 * (xs[i] - 1.5) + 2.0 * xs[i];
        assert!((g[i] - want).abs() < 1e-10, "x[{i}]: {} vs {want}", g[i]);
    }
}

// Tapes above 2048 slots take the lazy path (smaller ones zero-fill up front); this one and
// `long_ranges_across_many_blocks_with_stale_adjoints` are long enough.
#[test]
fn nodes_off_the_path_to_the_root_read_no_stale_adjoints() {
    let mut tape = Tape::new();
    let junk = tape.tensor(&data(3000, 3.0));
    (junk * 1e6).sum().backward();
    tape.clear();
    let p = tape.var(1.0);
    let pad1 = tape.tensor(&data(1000, 0.0));
    // A scalar operation the root does not use, in a block nothing else reaches.
    let _q = p * 3.0;
    let pad2 = tape.tensor(&data(1000, 0.0));
    let x = tape.tensor(&data(300, 1.0));
    // An elementwise node over several blocks of which the root uses one element.
    let y = (x * 0.5).exp();
    let root = p * 2.0 + y.index_axis(0, 5).unwrap().sum();
    root.backward();
    assert_eq!(p.grad(), 2.0);
    let xs = data(300, 1.0);
    let g = x.grad();
    for i in 0..300 {
        let want = if i == 5 {
            0.5 * (0.5 * xs[5]).exp()
        } else {
            0.0
        };
        assert!((g[i] - want).abs() < 1e-12, "x[{i}]: {} vs {want}", g[i]);
    }
    assert!(
        pad1.grad()
            .iter()
            .chain(pad2.grad().iter())
            .all(|&v| v == 0.0)
    );
}
