//! The reader of format version 1, the binary format that `save` wrote before version 2 (its
//! hand-written writer is gone; states saved with it still load).
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

use super::{check_decay_product, check_ema_updates, corrupt};
use crate::ema::MeanTeacher;
use crate::error::MeanTeacherError;
use crate::params::ParameterSet;
use crate::settings::EmaSettings;
use std::io::Read;

/// The first bytes of a version-1 state.
pub(super) const MAGIC: &[u8; 8] = b"INFERMT\0";
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

/// Restores a version-1 state from `reader` (from its magic bytes on) for a model laid out like
/// `student`; see [`MeanTeacher::load`].
pub(super) fn load<P: ParameterSet + Clone, R: Read>(
    reader: R,
    student: &P,
) -> Result<MeanTeacher<P>, MeanTeacherError> {
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
    check_ema_updates(&settings, step, ema_updates)?;
    let decay_product = r.f64("decay_product")?;
    check_decay_product(decay_product)?;
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
