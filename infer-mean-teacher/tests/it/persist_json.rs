//! Format version 2 (JSON through serde): the exact text `save` writes, checked against the
//! format's description; typed errors for malformed documents, wrong versions and states
//! that do not fit the model, each naming the field or parameter and the value.

use infer_mean_teacher::{EmaSettings, MeanTeacher, MeanTeacherError};
use ndarray::{ArrayD, IxDyn};

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

/// FNV-1a 64, written from its definition (offset basis 0xcbf29ce484222325, prime
/// 0x100000001b3), not from the crate's code.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A whole document around the JSON text `state`, with its checksum, as the format
/// describes.
fn document(version: &str, state: &str) -> Vec<u8> {
    format!(
        r#"{{"format":"infer-mean-teacher state","version":{version},"state":{state},"fnv1a64":"{:016x}"}}"#,
        fnv1a(state.as_bytes())
    )
    .into_bytes()
}

/// The state of one update of `student()` with α_max 0.9 (α = 1/2, so the product of
/// decays is 0.5), parameters given as JSON text.
fn state_text(parameters: &str) -> String {
    format!(
        r#"{{"settings":{{"alpha_max":0.9,"bias_correction":false,"update_every":1,"start_after":0}},"step":1,"ema_updates":1,"decay_product":0.5,"parameters":{parameters}}}"#
    )
}

const PARAMETERS: &str =
    r#"[{"name":"w","shape":[2],"values":[1.0,-2.0]},{"name":"b","shape":[0,3],"values":[]}]"#;

fn saved() -> Vec<u8> {
    let s = student();
    let settings = EmaSettings {
        alpha_max: 0.9,
        bias_correction: false,
        update_every: 1,
        start_after: 0,
    };
    let mut mt = MeanTeacher::new(settings, &s).unwrap();
    mt.update(&s).unwrap();
    let mut bytes = Vec::new();
    mt.save(&mut bytes).unwrap();
    bytes
}

#[test]
fn save_writes_the_documented_json() {
    // One line without a newline: no truncation of a state is a whole document.
    let expected = document("2", &state_text(PARAMETERS));
    assert_eq!(
        String::from_utf8(saved()).unwrap(),
        String::from_utf8(expected.clone()).unwrap()
    );
    let back = MeanTeacher::load(expected.as_slice(), &student()).unwrap();
    assert_eq!((back.step(), back.num_ema_updates()), (1, 1));
    // Whitespace around the document is allowed; anything else after it is not.
    let mut spaced = b"  \n".to_vec();
    spaced.extend_from_slice(&expected);
    spaced.extend_from_slice(b" \n\n");
    assert!(MeanTeacher::load(spaced.as_slice(), &student()).is_ok());
    let mut extra = expected.clone();
    extra.extend_from_slice(b"{}");
    match MeanTeacher::load(extra.as_slice(), &student()) {
        Err(MeanTeacherError::Corrupt {
            what: "JSON",
            detail,
        }) => {
            assert!(detail.contains("trailing"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

fn load_err(bytes: &[u8]) -> MeanTeacherError {
    match MeanTeacher::load(bytes, &student()) {
        Err(e) => e,
        Ok(_) => panic!("loaded {}", String::from_utf8_lossy(bytes)),
    }
}

#[test]
fn other_versions_are_reported_as_such() {
    for (version, found) in [("1", 1), ("3", 3), ("99999999999", u32::MAX)] {
        // Whatever the rest of a document of another version holds.
        let doc =
            format!(r#"{{"format":"infer-mean-teacher state","version":{version},"weights":[1]}}"#);
        match load_err(doc.as_bytes()) {
            MeanTeacherError::UnsupportedVersion {
                found: f,
                supported,
            } => {
                assert_eq!((f, supported), (found, 2));
            }
            other => panic!("version {version}: {other:?}"),
        }
    }
    match load_err(br#"{"format":"something else","version":2}"#) {
        MeanTeacherError::Corrupt { what, detail } => {
            assert_eq!(what, "format");
            assert!(detail.contains("something else"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_documents_are_corrupt_with_the_parsers_position() {
    let good = document("2", &state_text(PARAMETERS));
    for n in [1, 10, good.len() / 2, good.len() - 1] {
        match load_err(&good[..n]) {
            MeanTeacherError::Corrupt {
                what: "JSON",
                detail,
            } => {
                assert!(detail.contains("column"), "{detail}");
            }
            other => panic!("cut to {n}: {other:?}"),
        }
    }
    // Missing and unknown fields, and a value of the wrong type, each with a valid checksum.
    let cases = [
        (
            state_text(PARAMETERS).replace(r#""step":1,"#, ""),
            "missing field `step`",
        ),
        (
            state_text(PARAMETERS).replace(r#""step":1,"#, r#""step":1,"lr":0.1,"#),
            "unknown field `lr`",
        ),
        (state_text(PARAMETERS).replace("-2.0", r#""x""#), "\"x\""),
        (
            state_text(PARAMETERS).replace("-2.0", r#""nan:0x0000000000000000""#),
            "nan:0x0000000000000000",
        ),
        (
            state_text(PARAMETERS).replace(r#""step":1"#, r#""step":-1"#),
            "-1",
        ),
    ];
    for (state, message) in cases {
        match load_err(&document("2", &state)) {
            MeanTeacherError::Corrupt {
                what: "JSON",
                detail,
            } => {
                assert!(detail.contains(message), "{message}: {detail}");
            }
            other => panic!("{state}: {other:?}"),
        }
    }
}

#[test]
fn damage_that_still_parses_fails_the_checksum() {
    let good = document("2", &state_text(PARAMETERS));
    let text = String::from_utf8(good).unwrap();
    // A changed digit of a weight: still valid JSON, a different state.
    let damaged = text.replacen("-2.0", "-3.0", 1);
    match load_err(damaged.as_bytes()) {
        MeanTeacherError::Corrupt { what, detail } => {
            assert_eq!(what, "checksum");
            assert!(detail.contains("computed"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn states_that_do_not_fit_name_the_parameter_and_the_value() {
    let renamed = PARAMETERS.replace(r#""name":"b""#, r#""name":"bias""#);
    match load_err(&document("2", &state_text(&renamed))) {
        MeanTeacherError::NameMismatch {
            index,
            student,
            teacher,
        } => assert_eq!(
            (index, student.as_str(), teacher.as_str()),
            (1, "b", "bias")
        ),
        other => panic!("{other:?}"),
    }
    let reshaped = PARAMETERS.replace(r#""shape":[2]"#, r#""shape":[1,2]"#);
    match load_err(&document("2", &state_text(&reshaped))) {
        MeanTeacherError::ShapeMismatch {
            name,
            student,
            teacher,
        } => {
            assert_eq!(name, "w");
            assert_eq!((student, teacher), (vec![2], vec![1, 2]));
        }
        other => panic!("{other:?}"),
    }
    let one = r#"[{"name":"w","shape":[2],"values":[1.0,-2.0]}]"#;
    match load_err(&document("2", &state_text(one))) {
        MeanTeacherError::CountMismatch { student, teacher } => {
            assert_eq!((student, teacher), (2, 1));
        }
        other => panic!("{other:?}"),
    }
    let short = PARAMETERS.replace("[1.0,-2.0]", "[1.0]");
    match load_err(&document("2", &state_text(&short))) {
        MeanTeacherError::Corrupt { what, detail } => {
            assert_eq!(what, "values");
            assert!(
                detail.contains("\"w\"")
                    && detail.contains("[2]")
                    && detail.contains("has 1 values"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Settings and counters are checked as in version 1.
    let bad_alpha = state_text(PARAMETERS).replace("0.9", "1.5");
    match load_err(&document("2", &bad_alpha)) {
        MeanTeacherError::Corrupt { what, detail } => {
            assert_eq!(what, "settings");
            assert!(detail.contains("1.5"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    let bad_count = state_text(PARAMETERS).replace(r#""ema_updates":1"#, r#""ema_updates":2"#);
    match load_err(&document("2", &bad_count)) {
        MeanTeacherError::Corrupt { what, .. } => assert_eq!(what, "ema_updates"),
        other => panic!("{other:?}"),
    }
    let bad_product = state_text(PARAMETERS).replace("0.5", r#""inf""#);
    match load_err(&document("2", &bad_product)) {
        MeanTeacherError::Corrupt { what, detail } => {
            assert_eq!(what, "decay_product");
            assert!(detail.contains("inf"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_f64_class_round_trips_exactly() {
    let values = vec![
        0.0,
        -0.0,
        5e-324,
        -2.2250738585072014e-308,
        f64::MAX,
        f64::MIN_POSITIVE,
        0.1 + 0.2,
        1.0 / 3.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001), // a signalling NaN's payload
        f64::from_bits(0xfff8_dead_beef_0001),
    ];
    let s = vec![(
        "x".to_string(),
        ArrayD::from_shape_vec(IxDyn(&[values.len()]), values.clone()).unwrap(),
    )];
    let settings = EmaSettings {
        start_after: 5,
        ..EmaSettings::default()
    };
    let mut mt = MeanTeacher::new(settings, &s).unwrap();
    mt.update(&s).unwrap();
    let mut bytes = Vec::new();
    mt.save(&mut bytes).unwrap();
    let back = MeanTeacher::load(bytes.as_slice(), &s).unwrap();
    let got: Vec<u64> = back.teacher()[0].1.iter().map(|x| x.to_bits()).collect();
    let want: Vec<u64> = values.iter().map(|x| x.to_bits()).collect();
    assert_eq!(got, want);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains(r#""nan:0xfff8deadbeef0001""#), "{text}");
}

#[test]
fn integers_are_read_only_when_exact() {
    // A number written without a fraction is the same f64 …
    let ints = PARAMETERS.replace("[1.0,-2.0]", "[1,-2]");
    let loaded =
        MeanTeacher::load(document("2", &state_text(&ints)).as_slice(), &student()).unwrap();
    let want: Vec<u64> = [1.0f64, -2.0].iter().map(|x| x.to_bits()).collect();
    let got: Vec<u64> = loaded.teacher()[0].1.iter().map(|x| x.to_bits()).collect();
    assert_eq!(got, want);
    // … unless the f64 nearest to it is another integer (2⁵³ + 1, −(2⁶³ − 1), 2⁶⁴ − 1).
    for v in [
        "9007199254740993",
        "-9223372036854775807",
        "18446744073709551615",
    ] {
        let inexact = PARAMETERS.replace("-2.0", v);
        match load_err(&document("2", &state_text(&inexact))) {
            MeanTeacherError::Corrupt {
                what: "JSON",
                detail,
            } => {
                assert!(
                    detail.contains(v) && detail.contains("not exactly"),
                    "{detail}"
                );
            }
            other => panic!("{v}: {other:?}"),
        }
    }
}
