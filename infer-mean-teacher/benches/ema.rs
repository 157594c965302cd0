//! One EMA update over 10⁷ f64 parameters against a plain read-modify-write pass over the
//! same amount of memory (`x ← 0.5 x + 0.5 y` over two 10⁷ slices). Both read two arrays and
//! write one, so the update is bandwidth-bound; the target is a ratio ≤ 2.
//! Run: `cargo bench -p infer-mean-teacher --bench ema`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use infer_ad::ParamStore;
use infer_mean_teacher::{EmaSettings, MeanTeacher};
use ndarray::{Array1, Array2};
use std::hint::black_box;
use std::time::{Duration, Instant};

const N: usize = 10_000_000;

/// A student of 10⁷ parameters in a few arrays of realistic shapes.
fn student() -> ParamStore {
    let mut s = ParamStore::new();
    let mut k = 0.0f64;
    let mut next = move || {
        k += 1.0;
        (k * 0.618_033_988_75).fract() - 0.5
    };
    s.add("w0", Array2::from_shape_fn((2000, 2500), |_| next()))
        .expect("new name");
    s.add("w1", Array2::from_shape_fn((2500, 1999), |_| next()))
        .expect("new name");
    s.add("b", Array1::from_shape_fn(2500, |_| next()))
        .expect("new name");
    assert_eq!(s.num_elements(), N);
    s
}

fn teacher(student: &ParamStore, bias_correction: bool) -> MeanTeacher<ParamStore> {
    let settings = EmaSettings {
        bias_correction,
        ..EmaSettings::default()
    };
    let mut mt = MeanTeacher::new(settings, student).expect("valid settings");
    for _ in 0..200 {
        mt.update(student).expect("same layout"); // past the ramp: α = α_max
    }
    mt
}

fn rmw(x: &mut [f64], y: &[f64]) {
    for (x, &y) in x.iter_mut().zip(y) {
        *x = 0.5 * *x + 0.5 * y;
    }
}

fn bench_ema(c: &mut Criterion) {
    let s = student();
    let mut mt = teacher(&s, false);
    let mut mt_bc = teacher(&s, true);
    let mut x = vec![0.25; N];
    let y = vec![0.75; N];
    let mut g = c.benchmark_group("ema_1e7");
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    g.bench_function("mean_teacher_update", |b| {
        b.iter(|| mt.update(black_box(&s)).expect("same layout"))
    });
    g.bench_function("mean_teacher_update_bias_corrected", |b| {
        b.iter(|| mt_bc.update(black_box(&s)).expect("same layout"))
    });
    g.bench_function("plain_rmw_x=0.5x+0.5y", |b| {
        b.iter(|| rmw(black_box(&mut x), black_box(&y)))
    });
    g.finish();
}

/// Interleaved runs of both, median ratio (less sensitive to machine noise than comparing
/// two criterion estimates taken at different moments).
fn ratio(_c: &mut Criterion) {
    let s = student();
    let mut mt = teacher(&s, false);
    let mut x = vec![0.25; N];
    let y = vec![0.75; N];
    let mut ratios = Vec::new();
    let (mut te, mut tp) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        let t0 = Instant::now();
        mt.update(black_box(&s)).expect("same layout");
        let e = t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        rmw(black_box(&mut x), black_box(&y));
        let p = t0.elapsed().as_secs_f64();
        ratios.push(e / p);
        te.push(e);
        tp.push(p);
    }
    for v in [&mut ratios, &mut te, &mut tp] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "interleaved medians over 15 runs: EMA update {:.2} ms, plain read-modify-write {:.2} ms, ratio {:.2}",
        1e3 * te[7],
        1e3 * tp[7],
        ratios[7]
    );
}

criterion_group!(benches, bench_ema, ratio);
criterion_main!(benches);
