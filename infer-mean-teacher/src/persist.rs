//! Saving and restoring a [`MeanTeacher`] (settings, counters, teacher weights) in a small
//! self-describing binary format, so that training can resume bit for bit.
//!
//! Layout (all integers and floats little-endian, floats as their IEEE-754 bits):
//!
//! ```text
//! magic      8 bytes  "INFERMT\0"
//! version    u32      1
//! alpha_max  f64      bias_correction u8 (0/1)   update_every u64   start_after u64
//! step u64   ema_updates u64   decay_product f64
//! count u64, then per array: name_len u64, name (UTF-8), ndim u64, dims u64 × ndim,
//!            values f64 × Π dims (row-major)
//! checksum   u64      FNV-1a 64 of every byte above
//! ```

use crate::ema::MeanTeacher;
use crate::error::MeanTeacherError;
use crate::params::ParameterSet;
use crate::settings::EmaSettings;
use std::io::{Read, Write};

const MAGIC: &[u8; 8] = b"INFERMT\0";
const VERSION: u32 = 1;
const MAX_NAME: u64 = 1 << 20;
const MAX_NDIM: u64 = 64;
const CHUNK: usize = 4096;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    h
}

struct HashWriter<W> {
    inner: W,
    hash: u64,
}

impl<W: Write> HashWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), MeanTeacherError> {
        self.hash = fnv(self.hash, bytes);
        self.inner.write_all(bytes)?;
        Ok(())
    }
    fn u64(&mut self, x: u64) -> Result<(), MeanTeacherError> {
        self.put(&x.to_le_bytes())
    }
    fn f64(&mut self, x: f64) -> Result<(), MeanTeacherError> {
        self.u64(x.to_bits())
    }
}

struct HashReader<R> {
    inner: R,
    hash: u64,
}

impl<R: Read> HashReader<R> {
    fn take(&mut self, buf: &mut [u8], what: &'static str) -> Result<(), MeanTeacherError> {
        self.inner.read_exact(buf).map_err(|e| truncated(e, what))?;
        self.hash = fnv(self.hash, buf);
        Ok(())
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, MeanTeacherError> {
        let mut b = [0u8; 8];
        self.take(&mut b, what)?;
        Ok(u64::from_le_bytes(b))
    }
    fn f64(&mut self, what: &'static str) -> Result<f64, MeanTeacherError> {
        Ok(f64::from_bits(self.u64(what)?))
    }
}

fn truncated(e: std::io::Error, what: &'static str) -> MeanTeacherError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        corrupt(what, "the data ends early".to_owned())
    } else {
        MeanTeacherError::Io(e)
    }
}

fn corrupt(what: &'static str, detail: String) -> MeanTeacherError {
    MeanTeacherError::Corrupt { what, detail }
}

impl<P: ParameterSet> MeanTeacher<P> {
    /// Writes the state — settings (with the current `alpha_max`), step counters, the bias
    /// correction's running product and the teacher's weights — to `writer` in the format
    /// described in this module's source. Wrap files in a `BufWriter`.
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
    /// let back = MeanTeacher::load(bytes.as_slice(), &student)?;
    /// assert_eq!(back.step(), 1);
    /// assert_eq!(back.teacher(), mt.teacher());
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    pub fn save<W: Write>(&self, writer: W) -> Result<(), MeanTeacherError> {
        let mut w = HashWriter {
            inner: writer,
            hash: FNV_OFFSET,
        };
        w.put(MAGIC)?;
        w.put(&VERSION.to_le_bytes())?;
        let s = self.settings;
        w.f64(s.alpha_max)?;
        w.put(&[u8::from(s.bias_correction)])?;
        w.u64(s.update_every)?;
        w.u64(s.start_after)?;
        w.u64(self.step)?;
        w.u64(self.ema_updates)?;
        w.f64(self.decay_product)?;
        let n = self.teacher.num_arrays();
        w.u64(n as u64)?;
        let mut buf = Vec::with_capacity(CHUNK * 8);
        for i in 0..n {
            let (name, a) = self.teacher.array(i);
            w.u64(name.len() as u64)?;
            w.put(name.as_bytes())?;
            w.u64(a.ndim() as u64)?;
            for &d in a.shape() {
                w.u64(d as u64)?;
            }
            let mut it = a.iter();
            loop {
                buf.clear();
                for x in it.by_ref().take(CHUNK) {
                    buf.extend_from_slice(&x.to_bits().to_le_bytes());
                }
                if buf.is_empty() {
                    break;
                }
                w.put(&buf)?;
            }
        }
        let h = w.hash;
        w.inner.write_all(&h.to_le_bytes())?;
        w.inner.flush()?;
        Ok(())
    }

    /// Restores a state written by [`MeanTeacher::save`] for a model whose parameters are
    /// laid out like `student` (same names and shapes in the same order): the teacher is a
    /// clone of `student`'s structure holding the saved weights, and the settings and counters
    /// are the saved ones. Continuing training from it gives bit-identical results.
    ///
    /// # Errors
    /// [`MeanTeacherError::UnsupportedVersion`] for a format version other than 1;
    /// [`MeanTeacherError::Corrupt`] for bad magic bytes, invalid settings or counters (the
    /// number of EMA updates must be the one the settings give for the saved step), data cut
    /// short, a checksum mismatch, or bytes after the checksum
    /// (`reader` must end where the state ends);
    /// [`MeanTeacherError::CountMismatch`], [`MeanTeacherError::NameMismatch`] or
    /// [`MeanTeacherError::ShapeMismatch`] when the saved teacher does not fit `student`
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
    /// # Ok::<(), MeanTeacherError>(())
    /// ```
    pub fn load<R: Read>(reader: R, student: &P) -> Result<Self, MeanTeacherError>
    where
        P: Clone,
    {
        let mut r = HashReader {
            inner: reader,
            hash: FNV_OFFSET,
        };
        let mut magic = [0u8; 8];
        r.take(&mut magic, "magic")?;
        if &magic != MAGIC {
            return Err(corrupt(
                "magic",
                format!("bytes {magic:?} are not {MAGIC:?}"),
            ));
        }
        let mut v = [0u8; 4];
        r.take(&mut v, "version")?;
        let version = u32::from_le_bytes(v);
        if version != VERSION {
            return Err(MeanTeacherError::UnsupportedVersion {
                found: version,
                supported: VERSION,
            });
        }
        let alpha_max = r.f64("alpha_max")?;
        let mut flag = [0u8; 1];
        r.take(&mut flag, "bias_correction")?;
        let bias_correction = match flag[0] {
            0 => false,
            1 => true,
            b => {
                return Err(corrupt(
                    "bias_correction",
                    format!("byte {b} is not 0 or 1"),
                ));
            }
        };
        let settings = EmaSettings {
            alpha_max,
            bias_correction,
            update_every: r.u64("update_every")?,
            start_after: r.u64("start_after")?,
        };
        settings
            .validate()
            .map_err(|e| corrupt("settings", e.to_string()))?;
        let step = r.u64("step")?;
        let ema_updates = r.u64("ema_updates")?;
        // The settings fix which steps average, so the number of EMA updates follows from
        // `step`; any other count is a crafted or damaged state.
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
        let decay_product = r.f64("decay_product")?;
        if !(0.0..=1.0).contains(&decay_product) {
            return Err(corrupt(
                "decay_product",
                format!("{decay_product} is outside [0, 1]"),
            ));
        }
        let count = r.u64("count")?;
        if count != student.num_arrays() as u64 {
            return Err(MeanTeacherError::CountMismatch {
                student: student.num_arrays(),
                teacher: usize::try_from(count).unwrap_or(usize::MAX),
            });
        }
        let mut teacher = student.clone();
        teacher.reset_auxiliary();
        let mut buf = vec![0u8; CHUNK * 8];
        for i in 0..student.num_arrays() {
            let (sname, sarr) = student.array(i);
            let len = r.u64("name length")?;
            if len > MAX_NAME {
                return Err(corrupt("name length", format!("{len} bytes")));
            }
            let mut name = vec![0u8; len as usize];
            r.take(&mut name, "name")?;
            let name =
                String::from_utf8(name).map_err(|e| corrupt("name", format!("not UTF-8: {e}")))?;
            if name != sname {
                return Err(MeanTeacherError::NameMismatch {
                    index: i,
                    student: sname.to_owned(),
                    teacher: name,
                });
            }
            let ndim = r.u64("ndim")?;
            if ndim > MAX_NDIM {
                return Err(corrupt("ndim", format!("{ndim} dimensions for {name:?}")));
            }
            let mut dims = Vec::with_capacity(ndim as usize);
            for _ in 0..ndim {
                let d = r.u64("dims")?;
                dims.push(usize::try_from(d).unwrap_or(usize::MAX));
            }
            if dims != sarr.shape() {
                return Err(MeanTeacherError::ShapeMismatch {
                    name,
                    student: sarr.shape().to_vec(),
                    teacher: dims,
                });
            }
            let dst = teacher.array_mut(i);
            let mut it = dst.iter_mut();
            let mut left = sarr.len();
            while left > 0 {
                let k = left.min(CHUNK);
                r.take(&mut buf[..8 * k], "values")?;
                for (x, b) in it.by_ref().zip(buf[..8 * k].chunks_exact(8)) {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(b);
                    *x = f64::from_bits(u64::from_le_bytes(w));
                }
                left -= k;
            }
        }
        let expected = r.hash;
        let mut h = [0u8; 8];
        r.inner
            .read_exact(&mut h)
            .map_err(|e| truncated(e, "checksum"))?;
        let found = u64::from_le_bytes(h);
        if found != expected {
            return Err(corrupt(
                "checksum",
                format!("stored {found:#018x}, computed {expected:#018x}"),
            ));
        }
        // A state is the whole of what `reader` holds: bytes after the checksum mean the
        // input is not (only) a state, e.g. two files concatenated or a wrong offset.
        let mut extra = [0u8; 1];
        loop {
            match r.inner.read(&mut extra) {
                Ok(0) => break,
                Ok(_) => {
                    return Err(corrupt(
                        "end of state",
                        "trailing bytes after the checksum".to_owned(),
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(MeanTeacherError::Io(e)),
            }
        }
        Ok(MeanTeacher {
            settings,
            teacher,
            step,
            ema_updates,
            decay_product,
        })
    }
}
