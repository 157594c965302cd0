//! Hostile mean-teacher states: crafted headers with valid checksums, trailing bytes,
//! arbitrary byte strings and counters at their limits. The rule: `load` returns a state or
//! a typed error, never panics; a loaded state's `update` never wraps a counter.

use infer_mean_teacher::{EmaSettings, MeanTeacher, MeanTeacherError, UpdateOutcome};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

type Student = Vec<(String, ArrayD<f64>)>;

fn student() -> Student {
    vec![
        (
            "w".to_string(),
            ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.0, -2.0]).unwrap(),
        ),
        ("b".to_string(), ArrayD::zeros(IxDyn(&[0, 3]))),
    ]
}

/// FNV-1a 64, written from the format's definition (offset basis 0xcbf29ce484222325,
/// prime 0x100000001b3), not from the crate's code.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The header fields of a saved state, free to be set to anything.
#[derive(Debug, Clone, Copy)]
struct Header {
    alpha_max: f64,
    bias_flag: u8,
    update_every: u64,
    start_after: u64,
    step: u64,
    ema_updates: u64,
    decay_product: f64,
}

impl Header {
    fn consistent(step: u64) -> Self {
        Header {
            alpha_max: 0.9,
            bias_flag: 0,
            update_every: 1,
            start_after: 0,
            step,
            ema_updates: step,
            decay_product: 0.0,
        }
    }
}

/// Bytes of a state for `student()` with the given header and a valid checksum, laid out as
/// the module documentation of `persist.rs` describes.
fn craft(h: Header) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"INFERMT\0");
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&h.alpha_max.to_bits().to_le_bytes());
    b.push(h.bias_flag);
    for x in [h.update_every, h.start_after, h.step, h.ema_updates] {
        b.extend_from_slice(&x.to_le_bytes());
    }
    b.extend_from_slice(&h.decay_product.to_bits().to_le_bytes());
    let s = student();
    b.extend_from_slice(&(s.len() as u64).to_le_bytes());
    for (name, a) in &s {
        b.extend_from_slice(&(name.len() as u64).to_le_bytes());
        b.extend_from_slice(name.as_bytes());
        b.extend_from_slice(&(a.ndim() as u64).to_le_bytes());
        for &d in a.shape() {
            b.extend_from_slice(&(d as u64).to_le_bytes());
        }
        for x in a.iter() {
            b.extend_from_slice(&x.to_bits().to_le_bytes());
        }
    }
    let c = fnv1a(&b);
    b.extend_from_slice(&c.to_le_bytes());
    b
}

/// What `save` wrote, in format version 1, for `student()` after one update with the
/// settings below (`MeanTeacher::save` of the commit before format version 2, e1131b9;
/// `save` now writes version 2, which version-1 files are still read beside).
const SAVED_V1: &[&str] = &[
    "494e4645524d540001000000cdccccccccccec3f00010000000000000000000000000000000100000000000000010000",
    "0000000000000000000000e03f0200000000000000010000000000000077010000000000000002000000000000000000",
    "00000000f03f00000000000000c0010000000000000062020000000000000000000000000000000300000000000000b7",
    "b6a4c314545758",
];

#[test]
fn crafted_bytes_match_what_save_writes() {
    // Pins `craft` to the real format, so the tests below exercise `load` on real layouts.
    let s = student();
    let settings = EmaSettings {
        alpha_max: 0.9,
        bias_correction: false,
        update_every: 1,
        start_after: 0,
    };
    let mut mt = MeanTeacher::new(settings, &s).unwrap();
    mt.update(&s).unwrap();
    let hex: String = SAVED_V1.concat();
    let saved: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let h = Header {
        decay_product: 0.5,
        ..Header::consistent(1)
    };
    assert_eq!(saved, craft(h));
    // The old writer's bytes load as the state they were written from.
    let loaded = MeanTeacher::load(saved.as_slice(), &s).unwrap();
    assert_eq!(
        (loaded.step(), loaded.num_ema_updates()),
        (mt.step(), mt.num_ema_updates())
    );
    assert_eq!(loaded.settings(), mt.settings());
    assert_eq!(loaded.teacher(), mt.teacher());
}

/// Regression: a state with `step = u64::MAX` and a valid checksum used to load and then
/// wrap `step` to 0 on `update()`, restarting the schedule silently.
#[test]
fn step_at_u64_max_never_wraps() {
    let s = student();
    let mut mt = MeanTeacher::load(craft(Header::consistent(u64::MAX)).as_slice(), &s).unwrap();
    let teacher_before = mt.teacher().clone();
    match mt.update(&s) {
        Err(MeanTeacherError::CounterExhausted { counter, value }) => {
            assert_eq!((counter, value), ("step", u64::MAX));
        }
        other => panic!("expected CounterExhausted, got {other:?}"),
    }
    assert_eq!(mt.step(), u64::MAX, "nothing changes on the error");
    assert_eq!(mt.teacher(), &teacher_before);

    // One below the limit: exactly one more update, then the typed error.
    let mut mt = MeanTeacher::load(craft(Header::consistent(u64::MAX - 1)).as_slice(), &s).unwrap();
    assert!(matches!(mt.update(&s), Ok(UpdateOutcome::Averaged { .. })));
    assert_eq!(mt.step(), u64::MAX);
    assert!(matches!(
        mt.update(&s),
        Err(MeanTeacherError::CounterExhausted { .. })
    ));
}

/// Regression: EMA-update counts that the settings cannot produce are rejected (it used to
/// accept any `ema_updates ≤ step`).
#[test]
fn inconsistent_counters_are_rejected() {
    let s = student();
    for (step, ema_updates) in [(u64::MAX, 0), (5, 4), (5, 6), (0, 1)] {
        let bytes = craft(Header {
            ema_updates,
            ..Header::consistent(step)
        });
        match MeanTeacher::load(bytes.as_slice(), &s) {
            Err(MeanTeacherError::Corrupt { what, .. }) => assert_eq!(what, "ema_updates"),
            other => panic!("step {step}, ema_updates {ema_updates}: {other:?}"),
        }
    }
    let copying = Header {
        start_after: 10,
        ..Header::consistent(7)
    };
    assert!(
        MeanTeacher::load(
            craft(Header {
                ema_updates: 0,
                ..copying
            })
            .as_slice(),
            &s
        )
        .is_ok()
    );
    assert!(MeanTeacher::load(craft(copying).as_slice(), &s).is_err());
}

/// Regression: bytes after a valid state's checksum used to be ignored.
#[test]
fn trailing_bytes_are_rejected() {
    let s = student();
    let good = craft(Header::consistent(3));
    assert!(MeanTeacher::load(good.as_slice(), &s).is_ok());
    for extra in [&[0u8][..], &[0xff; 7], b"\n", &good] {
        let mut b = good.clone();
        b.extend_from_slice(extra);
        match MeanTeacher::load(b.as_slice(), &s) {
            Err(MeanTeacherError::Corrupt { what, .. }) => assert_eq!(what, "end of state"),
            other => panic!("{} trailing bytes: {other:?}", extra.len()),
        }
    }
}

fn hostile_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(5e-324),
        Just(1e308),
        Just(-1e308),
        Just(1.0),
        0.0f64..1.0,
    ]
}

fn hostile_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        Just(0u64),
        Just(1),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        0u64..8,
    ]
}

/// States that `crafted_headers_load_or_fail_cleanly` loaded (checked to be many).
static LOADED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[test]
fn crafted_headers_cover_loadable_states() {
    // Runs the property below's cases through proptest's runner and checks that a fair
    // share of them loaded, so the update half of the property is not vacuous.
    crafted_headers_load_or_fail_cleanly();
    assert!(LOADED.load(std::sync::atomic::Ordering::Relaxed) >= 100);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any header with a valid checksum: `load` gives Ok or `Corrupt`, never a panic; a
    /// loaded state takes three updates with counters that move by exactly one or a typed
    /// error, and a teacher that stays finite (the student is finite).
    #[test]
    fn crafted_headers_load_or_fail_cleanly(
        alpha_max in hostile_f64(),
        bias_flag in prop_oneof![Just(0u8), Just(1u8), any::<u8>()],
        update_every in hostile_u64(),
        start_after in hostile_u64(),
        step in hostile_u64(),
        ema_updates in hostile_u64(),
        decay_product in hostile_f64(),
        make_consistent in any::<bool>(),
    ) {
        let s = student();
        // Half the cases get the update count the settings imply, so that many states load
        // and the update path is exercised at the counters' limits too.
        let ema_updates = match (make_consistent, update_every) {
            (true, 1..) => step.saturating_sub(start_after) / update_every,
            _ => ema_updates,
        };
        let h = Header { alpha_max, bias_flag, update_every, start_after, step, ema_updates, decay_product };
        let Ok(mut mt) = MeanTeacher::load(craft(h).as_slice(), &s) else { return Ok(()); };
        LOADED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for _ in 0..3 {
            let before = (mt.step(), mt.num_ema_updates());
            match mt.update(&s) {
                Ok(_) => {
                    prop_assert_eq!(mt.step(), before.0 + 1);
                    prop_assert!(mt.num_ema_updates() - before.1 <= 1);
                    prop_assert!(mt.teacher().iter().all(|(_, a)| a.iter().all(|x| x.is_finite())));
                }
                Err(MeanTeacherError::CounterExhausted { .. }) => {
                    prop_assert_eq!((mt.step(), mt.num_ema_updates()), before);
                }
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }

    /// Arbitrary byte strings, and valid states with arbitrary bytes appended, never load
    /// as a state (and never panic).
    #[test]
    fn arbitrary_bytes_never_panic(
        noise in proptest::collection::vec(any::<u8>(), 0..200),
        step in 0u64..100,
    ) {
        let s = student();
        prop_assert!(MeanTeacher::load(noise.as_slice(), &s).is_err());
        let mut b = craft(Header::consistent(step));
        let valid_len = b.len();
        b.extend_from_slice(&noise);
        prop_assert_eq!(MeanTeacher::load(b.as_slice(), &s).is_ok(), b.len() == valid_len);
    }
}
