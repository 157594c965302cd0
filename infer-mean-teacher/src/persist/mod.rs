//! Saving and restoring a [`MeanTeacher`] (settings, counters, teacher weights) so that
//! training can resume bit for bit.
//!
//! [`MeanTeacher::save`] writes format version 2, a JSON document written and read with
//! `serde` (`json.rs` describes it); [`MeanTeacher::load`] reads it and also version 1, the
//! binary format written before (`v1.rs`), told apart by the first bytes (version 1 starts
//! with the magic bytes `INFERMT\0`, version 2 with `{`).

mod json;
mod v1;

use std::io::{Cursor, Read, Write};

use crate::ema::MeanTeacher;
use crate::error::MeanTeacherError;
use crate::params::ParameterSet;
use crate::settings::EmaSettings;

/// FNV-1a 64 of `bytes` (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn corrupt(what: &'static str, detail: String) -> MeanTeacherError {
    MeanTeacherError::Corrupt { what, detail }
}

/// The settings fix which steps average, so the number of EMA updates follows from `step`;
/// any other count is a crafted or damaged state.
fn check_ema_updates(
    settings: &EmaSettings,
    step: u64,
    ema_updates: u64,
) -> Result<(), MeanTeacherError> {
    let expected_updates = if step > settings.start_after {
        (step - settings.start_after) / settings.update_every
    } else {
        0
    };
    if ema_updates != expected_updates {
        return Err(corrupt(
            "ema_updates",
            format!(
                "{ema_updates} EMA updates in {step} steps, the settings give {expected_updates}"
            ),
        ));
    }
    Ok(())
}

/// The bias correction's running product of decays lies in `[0, 1]`.
fn check_decay_product(decay_product: f64) -> Result<(), MeanTeacherError> {
    if !(0.0..=1.0).contains(&decay_product) {
        return Err(corrupt(
            "decay_product",
            format!("{decay_product} is outside [0, 1]"),
        ));
    }
    Ok(())
}

/// Reads up to `buf.len()` bytes, fewer only at the end of `reader`.
fn read_head<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize, MeanTeacherError> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(MeanTeacherError::Io(e)),
        }
    }
    Ok(n)
}

impl<P: ParameterSet> MeanTeacher<P> {
    /// Writes the state — settings (with the current `alpha_max`), step counters, the bias
    /// correction's running product and the teacher's weights — to `writer` as format
    /// version 2: one line of JSON, every `f64` exact (non-finite values as strings such as
    /// `"inf"`), with a checksum of the state (described in this module's source). Wrap files
    /// in a `BufWriter`.
    ///
    /// # Errors
    /// [`MeanTeacherError::Io`] when writing fails.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let mut student = vec![("w".to_string(), ndarray::arr1(&[1.0, 2.0]).into_dyn())];
    /// let mut mt = MeanTeacher::new(EmaSettings::default(), &student)?;
    /// mt.update(&student)?;
    /// let mut bytes = Vec::new();
    /// mt.save(&mut bytes)?;
    /// let text = String::from_utf8(bytes.clone()).unwrap();
    /// assert!(text.starts_with(r#"{"format":"infer-mean-teacher state","version":2,"#));
    /// assert!(text.contains(r#""parameters":[{"name":"w","shape":[2],"values":[1.0,2.0]}]"#));
    /// let back = MeanTeacher::load(bytes.as_slice(), &student)?;
    /// assert_eq!(back.step(), 1);
    /// assert_eq!(back.teacher(), mt.teacher());
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn save<W: Write>(&self, mut writer: W) -> Result<(), MeanTeacherError> {
        writer.write_all(&json::to_vec(self)?)?;
        writer.flush()?;
        Ok(())
    }

    /// Restores a state written by [`MeanTeacher::save`] — format version 2, or version 1
    /// written by earlier builds — for a model whose parameters are laid out like `student`
    /// (same names and shapes in the same order): the teacher is a clone of `student`'s
    /// structure holding the saved weights, and the settings and counters are the saved ones.
    /// Continuing training from it gives bit-identical results.
    ///
    /// # Errors
    /// [`MeanTeacherError::UnsupportedVersion`] for a version-1 (binary) header declaring a
    /// version other than 1, or a JSON state declaring a version other than 2;
    /// [`MeanTeacherError::Corrupt`] for input that is neither (bad magic bytes), malformed
    /// JSON (the parser's message with its line and column), a missing or unknown field, a
    /// value that is not a number, invalid settings or counters (the number of EMA updates
    /// must be the one the settings give for the saved step), a parameter whose number of
    /// values does not fit its shape, data cut short, a checksum mismatch, or bytes after the
    /// state (`reader` must end where the state ends; a JSON state may be followed by
    /// whitespace); [`MeanTeacherError::CountMismatch`], [`MeanTeacherError::NameMismatch`]
    /// or [`MeanTeacherError::ShapeMismatch`] when the saved teacher does not fit `student`
    /// (reported with the saved side as the teacher); [`MeanTeacherError::Io`] when reading
    /// fails.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher, MeanTeacherError};
    /// let student = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let err = MeanTeacher::load(&b"not a state"[..], &student).unwrap_err();
    /// assert!(matches!(err, MeanTeacherError::Corrupt { .. }));
    /// let err = MeanTeacher::load(&b"INFERMT\0\x02\0\0\0"[..], &student).unwrap_err();
    /// assert!(matches!(err, MeanTeacherError::UnsupportedVersion { found: 2, supported: 1 }));
    /// let err = MeanTeacher::load(&br#"{"format":"infer-mean-teacher state","version":3}"#[..], &student)
    ///     .unwrap_err();
    /// assert!(matches!(err, MeanTeacherError::UnsupportedVersion { found: 3, supported: 2 }));
    ///
    /// let mut bytes = Vec::new();
    /// MeanTeacher::new(EmaSettings::default(), &student)?.save(&mut bytes)?;
    /// let other = vec![("v".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let err = MeanTeacher::load(bytes.as_slice(), &other).unwrap_err();
    /// assert!(matches!(err, MeanTeacherError::NameMismatch { index: 0, .. }));
    /// # Ok::<(), MeanTeacherError>(())
    /// ```
    pub fn load<R: Read>(mut reader: R, student: &P) -> Result<Self, MeanTeacherError>
    where
        P: Clone,
    {
        let mut head = [0u8; 8];
        let n = read_head(&mut reader, &mut head)?;
        let head = &head[..n];
        if head == v1::MAGIC {
            return v1::load(Cursor::new(head).chain(reader), student);
        }
        let text = head.trim_ascii_start();
        if text.is_empty() || text[0] == b'{' {
            let mut bytes = head.to_vec();
            reader.read_to_end(&mut bytes)?;
            return json::load(&bytes, student);
        }
        // Neither format: the version-1 reader names the bad (or missing) magic bytes.
        v1::load(Cursor::new(head).chain(reader), student)
    }
}
