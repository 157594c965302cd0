//! Format version 2: the state as one JSON document, written and read with `serde`.
//!
//! `serde` replaces the hand-written binary writer and reader of version 1: the fields are
//! declared once (the structs below), unknown or missing fields and malformed text are
//! rejected by the parser with their position, and the file can be read by any JSON tool.
//! `serde_json`'s `float_roundtrip` reads every finite `f64` back bit for bit; the values JSON
//! has no number for are strings (`"inf"`, `"-inf"`, `"nan:0x7ff8000000000000"` with the
//! NaN's bits), so a state restores exactly whatever its weights hold.
//!
//! ```text
//! {"format":"infer-mean-teacher state","version":2,
//!  "state":{"settings":{"alpha_max":0.97,"bias_correction":true,"update_every":2,"start_after":3},
//!           "step":17,"ema_updates":7,"decay_product":0.12,
//!           "parameters":[{"name":"w","shape":[2,2],"values":[1.0,0.5,-0.0,"inf"]}]},
//!  "fnv1a64":"a3c1b2d4e5f60718"}
//! ```
//!
//! (one line, no spaces, no newline at the end: a state cut short by any number of bytes no
//! longer parses; whitespace after it is allowed when reading). `fnv1a64` is the FNV-1a 64 hash of the exact
//! bytes of `state` as 16 lowercase hex digits: a file damaged after it was written is
//! rejected even where the damage still parses (a changed digit).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{check_decay_product, check_ema_updates, corrupt, fnv1a};
use crate::ema::MeanTeacher;
use crate::error::MeanTeacherError;
use crate::params::ParameterSet;
use crate::settings::EmaSettings;

/// The `format` member of every state.
pub(super) const FORMAT: &str = "infer-mean-teacher state";
/// The format version written by [`MeanTeacher::save`].
pub(super) const VERSION: u32 = 2;

/// The outer object, as written.
#[derive(Serialize)]
struct EnvelopeOut<'a> {
    format: &'static str,
    version: u32,
    state: &'a RawValue,
    fnv1a64: String,
}

/// The outer object, as read (its `state` borrowed verbatim for the checksum).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeIn<'a> {
    #[serde(rename = "format")]
    _format: String,
    #[serde(rename = "version")]
    _version: u64,
    #[serde(borrow)]
    state: &'a RawValue,
    fnv1a64: String,
}

/// Just the members that say which format a document is in, read before anything else so
/// that a state of another version is reported as such rather than as unknown fields.
#[derive(Deserialize)]
struct Probe {
    format: String,
    version: u64,
}

#[derive(Serialize)]
struct StateOut<'a> {
    settings: SettingsJson,
    step: u64,
    ema_updates: u64,
    decay_product: F64,
    parameters: Vec<ParameterOut<'a>>,
}

#[derive(Serialize)]
struct ParameterOut<'a> {
    name: &'a str,
    shape: &'a [usize],
    values: Values<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateIn {
    settings: SettingsJson,
    step: u64,
    ema_updates: u64,
    decay_product: F64,
    parameters: Vec<ParameterIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterIn {
    name: String,
    shape: Vec<usize>,
    values: Vec<F64>,
}

/// [`EmaSettings`] as stored (a struct of the format's own, so that renaming a field of the
/// public settings cannot change the format).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsJson {
    alpha_max: F64,
    bias_correction: bool,
    update_every: u64,
    start_after: u64,
}

/// The values of one array, row-major, serialized from the array without a copy.
struct Values<'a>(&'a ndarray::ArrayD<f64>);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|&x| F64(x)))
    }
}

/// An `f64` stored exactly: a JSON number when finite, otherwise `"inf"`, `"-inf"` or
/// `"nan:0x…"` (the NaN's 64 bits in hex, sign and payload kept).
#[derive(Clone, Copy)]
struct F64(f64);

impl Serialize for F64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_finite() {
            serializer.serialize_f64(x)
        } else if x == f64::INFINITY {
            serializer.serialize_str("inf")
        } else if x == f64::NEG_INFINITY {
            serializer.serialize_str("-inf")
        } else {
            serializer.serialize_str(&format!("nan:{:#018x}", x.to_bits()))
        }
    }
}

impl<'de> Deserialize<'de> for F64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct F64Visitor;

        impl Visitor<'_> for F64Visitor {
            type Value = F64;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a number, "inf", "-inf" or "nan:0x" and 16 hex digits"#)
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<F64, E> {
                Ok(F64(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<F64, E> {
                // An integer written without a fraction; only exact ones are accepted.
                let x = v as f64;
                if x < 18_446_744_073_709_551_616.0 && x as u64 == v {
                    Ok(F64(x))
                } else {
                    Err(E::custom(format!("{v} is not exactly an f64")))
                }
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<F64, E> {
                let x = v as f64;
                // 2⁶³ (which `i64::MAX` rounds to) saturates back to `i64::MAX`: excluded.
                if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x)
                    && x as i64 == v
                {
                    Ok(F64(x))
                } else {
                    Err(E::custom(format!("{v} is not exactly an f64")))
                }
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<F64, E> {
                let nan = v
                    .strip_prefix("nan:0x")
                    .filter(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u64::from_str_radix(h, 16).ok())
                    .map(f64::from_bits)
                    .filter(|x| x.is_nan());
                match (v, nan) {
                    ("inf", _) => Ok(F64(f64::INFINITY)),
                    ("-inf", _) => Ok(F64(f64::NEG_INFINITY)),
                    (_, Some(x)) => Ok(F64(x)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }

        deserializer.deserialize_any(F64Visitor)
    }
}

/// The state of `mt` as one line of JSON.
pub(super) fn to_vec<P: ParameterSet>(mt: &MeanTeacher<P>) -> Result<Vec<u8>, MeanTeacherError> {
    let s = mt.settings;
    let state = StateOut {
        settings: SettingsJson {
            alpha_max: F64(s.alpha_max),
            bias_correction: s.bias_correction,
            update_every: s.update_every,
            start_after: s.start_after,
        },
        step: mt.step,
        ema_updates: mt.ema_updates,
        decay_product: F64(mt.decay_product),
        parameters: (0..mt.teacher.num_arrays())
            .map(|i| {
                let (name, a) = mt.teacher.array(i);
                ParameterOut {
                    name,
                    shape: a.shape(),
                    values: Values(a),
                }
            })
            .collect(),
    };
    let state = serde_json::value::to_raw_value(&state).map_err(write_error)?;
    let envelope = EnvelopeOut {
        format: FORMAT,
        version: VERSION,
        state: &state,
        fnv1a64: format!("{:016x}", fnv1a(state.get().as_bytes())),
    };
    serde_json::to_vec(&envelope).map_err(write_error)
}

/// Serializing the structs above fails only through the writer, which is a `Vec`.
fn write_error(e: serde_json::Error) -> MeanTeacherError {
    MeanTeacherError::Io(std::io::Error::other(e))
}

fn json_error(e: &serde_json::Error) -> MeanTeacherError {
    corrupt("JSON", e.to_string())
}

/// Restores a JSON state (`bytes`, the whole input) for a model laid out like `student`.
pub(super) fn load<P: ParameterSet + Clone>(
    bytes: &[u8],
    student: &P,
) -> Result<MeanTeacher<P>, MeanTeacherError> {
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    if probe.format != FORMAT {
        return Err(corrupt(
            "format",
            format!("{:?} is not {FORMAT:?}", probe.format),
        ));
    }
    if probe.version != u64::from(VERSION) {
        return Err(MeanTeacherError::UnsupportedVersion {
            found: u32::try_from(probe.version).unwrap_or(u32::MAX),
            supported: VERSION,
        });
    }
    let envelope: EnvelopeIn<'_> = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    let state_text = envelope.state.get();
    let computed = fnv1a(state_text.as_bytes());
    let stored = Some(envelope.fnv1a64.as_str())
        .filter(|h| h.len() == 16 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|h| u64::from_str_radix(h, 16).ok());
    if stored != Some(computed) {
        return Err(corrupt(
            "checksum",
            format!(
                "stored {:?}, computed \"{computed:016x}\"",
                envelope.fnv1a64
            ),
        ));
    }
    let state: StateIn = serde_json::from_str(state_text).map_err(|e| json_error(&e))?;
    let settings = EmaSettings {
        alpha_max: state.settings.alpha_max.0,
        bias_correction: state.settings.bias_correction,
        update_every: state.settings.update_every,
        start_after: state.settings.start_after,
    };
    settings
        .validate()
        .map_err(|e| corrupt("settings", e.to_string()))?;
    check_ema_updates(&settings, state.step, state.ema_updates)?;
    check_decay_product(state.decay_product.0)?;
    if state.parameters.len() != student.num_arrays() {
        return Err(MeanTeacherError::CountMismatch {
            student: student.num_arrays(),
            teacher: state.parameters.len(),
        });
    }
    let mut teacher = student.clone();
    teacher.reset_auxiliary();
    for (i, saved) in state.parameters.into_iter().enumerate() {
        let (name, shape) = {
            let (name, a) = student.array(i);
            (name.to_owned(), a.shape().to_vec())
        };
        if saved.name != name {
            return Err(MeanTeacherError::NameMismatch {
                index: i,
                student: name,
                teacher: saved.name,
            });
        }
        if saved.shape != shape {
            return Err(MeanTeacherError::ShapeMismatch {
                name,
                student: shape,
                teacher: saved.shape,
            });
        }
        let dst = teacher.array_mut(i);
        if saved.values.len() != dst.len() {
            return Err(corrupt(
                "values",
                format!(
                    "parameter {name:?} of shape {shape:?} has {} values, not {}",
                    saved.values.len(),
                    dst.len()
                ),
            ));
        }
        for (x, v) in dst.iter_mut().zip(saved.values) {
            *x = v.0;
        }
    }
    Ok(MeanTeacher {
        settings,
        teacher,
        step: state.step,
        ema_updates: state.ema_updates,
        decay_product: state.decay_product.0,
    })
}
