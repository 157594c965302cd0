//! The configuration comments at the top of a Stan CSV file (`# num_samples = 1000`, …).

use super::reader::parse_number;
use super::{CsvError, CsvMetadata, MetricKind};

/// Which counts the configuration comments declared (the others keep their defaults and are
/// not checked).
#[derive(Debug, Default)]
pub(super) struct Declared {
    /// `algorithm = fixed_param`: no warmup iterations, no adaptation.
    pub(super) fixed_param: bool,
    pub(super) num_samples: bool,
    pub(super) num_warmup: bool,
    pub(super) save_warmup: bool,
    pub(super) engaged: bool,
}

/// One configuration comment, `key = value` (`#` and blanks stripped), read into `m`; keys
/// that [`CsvMetadata`] does not hold are ignored, and so are comments without `=`.
pub(super) fn parse_config(
    comment: &str,
    line: usize,
    m: &mut CsvMetadata,
    declared: &mut Declared,
    engine: &mut String,
    max_depth: &mut u32,
    int_time: &mut f64,
) -> Result<(), CsvError> {
    let Some((key, value)) = comment.split_once('=') else {
        return Ok(());
    };
    let key = key.trim();
    let value = value.trim();
    let value = value.strip_suffix("(Default)").unwrap_or(value).trim();
    let invalid = || CsvError::InvalidValue {
        line,
        key: key.to_owned(),
        value: value.to_owned(),
    };
    let uint = || value.parse::<usize>().map_err(|_| invalid());
    let float = || parse_number(value, line).map_err(|_| invalid());
    let boolean = || match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(invalid()),
    };
    match key {
        "model" => m.model = value.to_owned(),
        "num_samples" => {
            m.num_samples = uint()?;
            declared.num_samples = true;
        }
        "num_warmup" => {
            m.num_warmup = uint()?;
            declared.num_warmup = true;
        }
        "save_warmup" => {
            m.save_warmup = boolean()?;
            declared.save_warmup = true;
        }
        "thin" => {
            m.thin = uint()?;
            if m.thin == 0 {
                return Err(invalid());
            }
        }
        "engaged" => {
            m.adapt_engaged = boolean()?;
            declared.engaged = true;
        }
        "gamma" => m.adapt_gamma = float()?,
        "delta" => m.adapt_delta = float()?,
        "kappa" => m.adapt_kappa = float()?,
        "t0" => m.adapt_t0 = float()?,
        "init_buffer" => m.adapt_init_buffer = uint()?,
        "term_buffer" => m.adapt_term_buffer = uint()?,
        "window" => m.adapt_window = uint()?,
        "engine" => *engine = value.to_owned(),
        "algorithm" => declared.fixed_param = value == "fixed_param",
        "max_depth" => *max_depth = value.parse().map_err(|_| invalid())?,
        "int_time" => *int_time = float()?,
        "metric" => m.metric = MetricKind::from_stan_name(value).ok_or_else(invalid)?,
        "stepsize" => m.stepsize = float()?,
        "stepsize_jitter" => m.stepsize_jitter = float()?,
        "id" => m.chain_id = uint()?,
        "seed" | "seed_u64" => m.seed = value.parse().map_err(|_| invalid())?,
        // CmdStan writes `init = 2` for the default radius, or a file name.
        "init" => {
            if let Ok(r) = value.parse() {
                m.init_radius = r;
            }
        }
        _ => {}
    }
    Ok(())
}
