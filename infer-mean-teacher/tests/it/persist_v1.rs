//! Format version 1 (the binary format written before version 2) still loads: states written
//! by the old writer, kept here as hex, restore into exactly the state that the same training
//! steps produce now, and continue and re-save (as version 2) bit for bit.

use infer_mean_teacher::{EmaSettings, MeanTeacher, ParameterSet};
use ndarray::{ArrayD, IxDyn};

type Student = Vec<(String, ArrayD<f64>)>;

fn arr(shape: &[usize], v: Vec<f64>) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
}

fn bits(p: &impl ParameterSet) -> Vec<u64> {
    (0..p.num_arrays())
        .flat_map(|i| p.array(i).1.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        .collect()
}

fn unhex(parts: &[&str]) -> Vec<u8> {
    let h: String = parts.concat();
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// A student of three arrays (a non-ASCII name, a 2-D and an empty shape), scaled by `k`.
fn student(k: f64) -> Student {
    vec![
        (
            "θ".to_string(),
            arr(&[2, 2], vec![1.5 * k, -0.25 / k, 3e-310 * k, 0.1 + k]),
        ),
        (
            "layer.bias".to_string(),
            arr(&[3], vec![k.sin(), -k.ln_1p(), 1e300 / k]),
        ),
        ("empty".to_string(), arr(&[0, 3], vec![])),
    ]
}

fn settings_a() -> EmaSettings {
    EmaSettings {
        alpha_max: 0.9,
        bias_correction: true,
        update_every: 2,
        start_after: 1,
    }
}

/// The training whose state `STATE_A` holds: six updates with `student(k + 0.5)`, α_max
/// raised to 0.97, one more update with `student(8)`.
fn trained_a() -> MeanTeacher<Student> {
    let mut mt = MeanTeacher::new(settings_a(), &student(1.0)).unwrap();
    for k in 1..=6 {
        mt.update(&student(f64::from(k) + 0.5)).unwrap();
    }
    mt.set_alpha_max(0.97).unwrap();
    mt.update(&student(8.0)).unwrap();
    mt
}

/// `trained_a()` saved by `MeanTeacher::save` of the commit before format version 2
/// (e1131b9), 238 bytes.
const STATE_A: &[&str] = &[
    "494e4645524d5400010000000ad7a3703d0aef3f01020000000000000001000000000000000700000000000000030000",
    "0000000000000000000000d03f03000000000000000200000000000000ceb80200000000000000020000000000000002",
    "0000000000000000000000000021402420a5dd0848a9bfdb487f42f138010010111111111117400a000000000000006c",
    "617965722e6269617301000000000000000300000000000000e0694b8d84db96bf9fa3091625b9fdbfcd09fd7017e012",
    "7e0500000000000000656d707479020000000000000000000000000000000300000000000000a8288f946ef0d58b",
];

/// A teacher still copying its student (`start_after` 10, one update) whose weights are
/// `special()`, saved by the same old writer, 142 bytes.
const STATE_B: &[&str] = &[
    "494e4645524d540001000000000000000000e03f0001000000000000000a000000000000000100000000000000000000",
    "0000000000000000000000f03f0100000000000000010000000000000077010000000000000005000000000000000000",
    "000000000080000000000000f87f000000000000f07f000000000000f0ff0100000000000000e62b3bedf08c113b",
];

fn special() -> Student {
    vec![(
        "w".to_string(),
        arr(
            &[5],
            vec![-0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 5e-324],
        ),
    )]
}

#[test]
fn old_state_loads_as_the_same_training_gives_now() {
    let bytes = unhex(STATE_A);
    assert_eq!(bytes.len(), 238);
    assert_eq!(&bytes[..12], b"INFERMT\0\x01\0\0\0");
    let mut now = trained_a();
    let mut old = MeanTeacher::load(bytes.as_slice(), &student(1.0)).unwrap();
    assert_eq!(old.step(), 7);
    assert_eq!(old.num_ema_updates(), now.num_ema_updates());
    assert_eq!(
        old.settings(),
        &EmaSettings {
            alpha_max: 0.97,
            ..settings_a()
        }
    );
    assert_eq!(bits(old.teacher()), bits(now.teacher()));
    // Continuing from the old file is continuing the training.
    for k in [9.0, 10.0, 11.0] {
        assert_eq!(
            old.update(&student(k)).unwrap(),
            now.update(&student(k)).unwrap()
        );
        assert_eq!(bits(old.teacher()), bits(now.teacher()));
    }
    // Re-saved, it is a version-2 state, and the same one as the fresh run's.
    let (mut x, mut y) = (Vec::new(), Vec::new());
    old.save(&mut x).unwrap();
    now.save(&mut y).unwrap();
    assert_eq!(x, y);
    assert!(x.starts_with(br#"{"format":"infer-mean-teacher state","version":2,"#));
    let back = MeanTeacher::load(x.as_slice(), &student(1.0)).unwrap();
    assert_eq!(bits(back.teacher()), bits(now.teacher()));
}

#[test]
fn old_state_with_special_values_converts_bit_for_bit() {
    let bytes = unhex(STATE_B);
    assert_eq!(bytes.len(), 142);
    let old = MeanTeacher::load(bytes.as_slice(), &special()).unwrap();
    assert_eq!(old.step(), 1);
    assert_eq!(old.num_ema_updates(), 0);
    assert_eq!(bits(old.teacher()), bits(&special()));
    let mut json = Vec::new();
    old.save(&mut json).unwrap();
    let text = String::from_utf8(json.clone()).unwrap();
    assert!(
        text.contains(r#""values":[-0.0,"nan:0x7ff8000000000000","inf","-inf",5e-324]"#),
        "{text}"
    );
    let back = MeanTeacher::load(json.as_slice(), &special()).unwrap();
    assert_eq!(bits(back.teacher()), bits(&special()));
    assert_eq!(back.settings(), old.settings());
}
