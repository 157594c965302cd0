//! One mean-teacher training step of the two-moons demo network (2-32-32-2 tanh MLP, batch of
//! 10 labelled + 100 unlabelled rows): forward of student and teacher, masked cross-entropy +
//! weighted KL consistency, backward to the student's parameters. On the tape versus the same
//! step written with plain ndarray `dot` calls and a hand-written backward pass.
//!
//! Run: `cargo bench -p infer-mean-teacher --bench step`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

#[path = "../examples/common/moons.rs"]
#[allow(dead_code)]
mod moons;

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use infer_ad::{ParamStore, Tape};
use infer_mean_teacher::{Constants, kl_consistency, masked_cross_entropy};
use moons::Mlp;
use ndarray::{Array1, Array2, ArrayD, Axis, Ix1, Ix2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

const N_LAB: usize = 10;
const ROWS: usize = 110;
const WEIGHT: f64 = 3.0;

struct Setup {
    mlp: Mlp,
    student: ParamStore,
    teacher: ParamStore,
    x_s: Array2<f64>,
    x_t: Array2<f64>,
    labels: Vec<Option<usize>>,
}

fn setup() -> Setup {
    let mut rng = StdRng::seed_from_u64(7);
    let mut student = ParamStore::new();
    let mlp = Mlp::new(&mut student, &mut rng).unwrap();
    let mut teacher = student.clone();
    let ids: Vec<_> = teacher.ids().collect();
    for id in ids {
        teacher
            .value_mut(id)
            .mapv_inplace(|v| v + rng.random_range(-0.05..0.05));
    }
    let x_s = Array2::from_shape_fn((ROWS, 2), |_| rng.random_range(-1.0..2.0));
    let x_t = x_s.mapv(|v| v + rng.random_range(-0.1..0.1));
    let labels = (0..ROWS).map(|i| (i < N_LAB).then_some(i % 2)).collect();
    Setup {
        mlp,
        student,
        teacher,
        x_s,
        x_t,
        labels,
    }
}

/// The step on the tape; the gradients land in `s.student`'s gradient buffers.
fn tape_step(s: &mut Setup, tape: &mut Tape) {
    tape.clear();
    let p = s.student.bind(tape);
    let t = Constants::bind(&s.teacher, tape);
    let zs = s.mlp.forward(&p, tape.constant(&s.x_s)).unwrap();
    let zt = s.mlp.forward(&t, tape.constant(&s.x_t)).unwrap();
    let loss =
        masked_cross_entropy(zs, &s.labels).unwrap() + kl_consistency(zs, zt).unwrap() * WEIGHT;
    loss.backward();
    s.student.zero_grads();
    s.student.accumulate_grads(&p).unwrap();
}

fn params(store: &ParamStore) -> Vec<ArrayD<f64>> {
    store.ids().map(|id| store.value(id).clone()).collect()
}

fn mat(a: &ArrayD<f64>) -> ndarray::ArrayView2<'_, f64> {
    a.view().into_dimensionality::<Ix2>().unwrap()
}

fn vec1(a: &ArrayD<f64>) -> ndarray::ArrayView1<'_, f64> {
    a.view().into_dimensionality::<Ix1>().unwrap()
}

fn softmax_rows(z: &mut Array2<f64>) {
    for mut row in z.rows_mut() {
        let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
    }
}

/// The same step with ndarray `dot` and a hand-written backward; returns the gradients in
/// parameter order (w0, b0, w1, b1, w2, b2).
fn ndarray_step(
    ps: &[ArrayD<f64>],
    pt: &[ArrayD<f64>],
    x_s: &Array2<f64>,
    x_t: &Array2<f64>,
    labels: &[Option<usize>],
) -> Vec<Array2<f64>> {
    let (w0, b0, w1, b1, w2, b2) = (
        mat(&ps[0]),
        vec1(&ps[1]),
        mat(&ps[2]),
        vec1(&ps[3]),
        mat(&ps[4]),
        vec1(&ps[5]),
    );
    // student forward
    let h1 = (x_s.dot(&w0) + b0).mapv_into(f64::tanh);
    let h2 = (h1.dot(&w1) + b1).mapv_into(f64::tanh);
    let mut p_s = h2.dot(&w2) + b2;
    softmax_rows(&mut p_s);
    // teacher forward
    let g1 = (x_t.dot(&mat(&pt[0])) + vec1(&pt[1])).mapv_into(f64::tanh);
    let g2 = (g1.dot(&mat(&pt[2])) + vec1(&pt[3])).mapv_into(f64::tanh);
    let mut p_t = g2.dot(&mat(&pt[4])) + vec1(&pt[5]);
    softmax_rows(&mut p_t);
    // d loss / d logits: (p − onehot)/n_lab on labelled rows + w (p_s − p_t)/B
    let n_lab = labels.iter().filter(|l| l.is_some()).count() as f64;
    let b = x_s.nrows() as f64;
    let mut dz = (&p_s - &p_t) * (WEIGHT / b);
    for (i, l) in labels.iter().enumerate() {
        if let Some(y) = *l {
            for c in 0..dz.ncols() {
                let onehot = if c == y { 1.0 } else { 0.0 };
                dz[[i, c]] += (p_s[[i, c]] - onehot) / n_lab;
            }
        }
    }
    let gw2 = h2.t().dot(&dz);
    let gb2 = dz.sum_axis(Axis(0));
    let dh2 = dz.dot(&w2.t()) * h2.mapv(|h| 1.0 - h * h);
    let gw1 = h1.t().dot(&dh2);
    let gb1 = dh2.sum_axis(Axis(0));
    let dh1 = dh2.dot(&w1.t()) * h1.mapv(|h| 1.0 - h * h);
    let gw0 = x_s.t().dot(&dh1);
    let gb0 = dh1.sum_axis(Axis(0));
    let row = |v: Array1<f64>| v.insert_axis(Axis(0));
    vec![gw0, row(gb0), gw1, row(gb1), gw2, row(gb2)]
}

fn bench(c: &mut Criterion) {
    let mut s = setup();
    let mut tape = Tape::new();
    let (ps, pt) = (params(&s.student), params(&s.teacher));
    // Same gradients both ways (the comparison is of equal work).
    tape_step(&mut s, &mut tape);
    let hand = ndarray_step(&ps, &pt, &s.x_s, &s.x_t, &s.labels);
    let ids: Vec<_> = s.student.ids().collect();
    for (id, h) in ids.iter().zip(&hand) {
        for (a, b) in s.student.grad(*id).iter().zip(h.iter()) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }
    let mut group = c.benchmark_group("mean_teacher_step");
    group.bench_function("tape", |bch| bch.iter(|| tape_step(&mut s, &mut tape)));
    group.bench_function("ndarray_hand_backward", |bch| {
        bch.iter(|| black_box(ndarray_step(&ps, &pt, &s.x_s, &s.x_t, &s.labels)))
    });
    group.finish();
    // Interleaved timing (less sensitive to load drift on a shared machine).
    let reps = 2000;
    let (mut t_tape, mut t_nd) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        let t0 = Instant::now();
        for _ in 0..reps {
            tape_step(&mut s, &mut tape);
        }
        t_tape.push(t0.elapsed().as_secs_f64() / reps as f64);
        let t0 = Instant::now();
        for _ in 0..reps {
            black_box(ndarray_step(&ps, &pt, &s.x_s, &s.x_t, &s.labels));
        }
        t_nd.push(t0.elapsed().as_secs_f64() / reps as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (a, b) = (median(&mut t_tape), median(&mut t_nd));
    println!(
        "interleaved medians over 15 runs of {reps} steps: tape {:.1} µs, ndarray {:.1} µs, ratio {:.2}",
        a * 1e6,
        b * 1e6,
        a / b
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
