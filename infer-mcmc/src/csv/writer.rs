//! [`CsvWriter`]: a Stan CSV file written incrementally, in CmdStan's layout and Rust's
//! shortest round-trip number form.

use std::fmt::Write as _;
use std::io::Write;

use super::adaptation::LOW_RANK_TITLE;
use super::{Adaptation, CsvError, CsvMetadata, Engine, InverseMetric, Timing, io_error};
use crate::metric::LowRankFactors;

/// Writes a Stan CSV file incrementally: configuration and header on creation, then draws,
/// the adaptation block and draws again, then the timing block on [`finish`](Self::finish).
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::{Adaptation, CsvMetadata, CsvWriter, InverseMetric, StanCsv};
///
/// let columns = StanCsv::nuts_columns(&["x"]);
/// let mut w = CsvWriter::new(Vec::new(), &CsvMetadata::default(), &columns)?;
/// w.write_adaptation(&Adaptation { step_size: 0.9, inverse_metric: InverseMetric::Diagonal(vec![1.2]) })?;
/// w.write_draw(&[-0.5, 1.0, 0.9, 1.0, 1.0, 0.0, 0.6, 0.3])?;
/// let bytes = w.finish(None)?;
/// assert!(String::from_utf8_lossy(&bytes).contains("# Step size = 0.9\n"));
/// # Ok::<(), infer_mcmc::csv::CsvError>(())
/// ```
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    /// Every line after the configuration comments goes through the `csv` writer.
    out: ::csv::Writer<W>,
    columns: usize,
    rows: usize,
    /// The text of one number, reused across fields.
    field: String,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the configuration comments and the header line.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::csv::{CsvError, CsvMetadata, CsvWriter, StanCsv};
    ///
    /// let w = CsvWriter::new(Vec::new(), &CsvMetadata::default(), &StanCsv::nuts_columns(&["a.1"]))?;
    /// let text = String::from_utf8(w.finish(None)?).unwrap();
    /// assert!(text.starts_with("# model = model\n# method = sample\n"));
    /// assert!(text.ends_with("\nlp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,a.1\n"));
    /// let bad = CsvWriter::new(Vec::new(), &CsvMetadata::default(), &["lp__", "a,b"]);
    /// assert!(matches!(bad, Err(CsvError::InvalidName { .. })));
    /// # Ok::<(), CsvError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CsvError::InvalidName`] for an empty name or one holding `,`, `"`, `#` or a line
    /// break; [`CsvError::FirstColumnNotLp`] unless the first column is `lp__`;
    /// [`CsvError::Io`].
    pub fn new<S: AsRef<str>>(
        out: W,
        metadata: &CsvMetadata,
        columns: &[S],
    ) -> Result<Self, CsvError> {
        Self::with_comments(out, &config_comments(metadata), columns)
    }

    /// Writes the given header comments (`comments`: whole lines, each starting with `#` and
    /// ended by `\n`) and the header line: the constructor for outputs other than
    /// [`CsvMetadata`]'s sampler configuration (Pathfinder, Laplace and ADVI, whose header
    /// CmdStan also opens with `# method = …`).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::csv::{CsvError, CsvWriter};
    ///
    /// let mut w = CsvWriter::with_comments(Vec::new(), "# method = laplace\n", &["lp__", "lp_approx__", "x"])?;
    /// w.write_draw(&[-1.0, -1.5, 0.25])?;
    /// let text = String::from_utf8(w.finish(None)?).unwrap();
    /// assert_eq!(text, "# method = laplace\nlp__,lp_approx__,x\n-1,-1.5,0.25\n");
    /// assert!(matches!(
    ///     CsvWriter::with_comments(Vec::new(), "method = laplace\n", &["lp__"]),
    ///     Err(CsvError::InvalidComment { .. })
    /// ));
    /// # Ok::<(), CsvError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`CsvWriter::new`], and [`CsvError::InvalidComment`] for a comment line that does
    /// not start with `#`, holds a carriage return, or is not ended by `\n`.
    pub fn with_comments<S: AsRef<str>>(
        mut out: W,
        comments: &str,
        columns: &[S],
    ) -> Result<Self, CsvError> {
        let first = columns.first().map(|c| c.as_ref());
        if first != Some("lp__") {
            return Err(CsvError::FirstColumnNotLp {
                first: first.map(str::to_owned),
            });
        }
        for c in columns {
            let c = c.as_ref();
            if c.is_empty() || c.contains([',', '"', '#', '\n', '\r']) {
                return Err(CsvError::InvalidName { name: c.to_owned() });
            }
        }
        if !comments.is_empty() && !comments.ends_with('\n') {
            return Err(CsvError::InvalidComment {
                line: comments.lines().last().unwrap_or_default().to_owned(),
            });
        }
        if let Some(bad) = comments
            .split_terminator('\n')
            .find(|l| !l.starts_with('#') || l.contains('\r'))
        {
            return Err(CsvError::InvalidComment {
                line: bad.to_owned(),
            });
        }
        out.write_all(comments.as_bytes())?;
        // Names and numbers never need quotes (names are checked above), so the rows are
        // written as they are, each ended by `\n`.
        let mut out = ::csv::WriterBuilder::new()
            .flexible(true)
            .quote_style(::csv::QuoteStyle::Necessary)
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_writer(out);
        out.write_record(columns.iter().map(AsRef::as_ref))
            .map_err(io_error)?;
        Ok(Self {
            out,
            columns: columns.len(),
            rows: 0,
            field: String::new(),
        })
    }

    /// Writes one draw (one value per column).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::csv::{CsvError, CsvMetadata, CsvWriter};
    ///
    /// let mut w = CsvWriter::new(Vec::new(), &CsvMetadata::default(), &["lp__", "x"])?;
    /// w.write_draw(&[-1.5, 2e-7])?;
    /// assert!(matches!(w.write_draw(&[1.0]), Err(CsvError::RowLength { row: 1, expected: 2, found: 1 })));
    /// assert!(String::from_utf8(w.finish(None)?).unwrap().ends_with("\n-1.5,2e-7\n"));
    /// # Ok::<(), CsvError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CsvError::RowLength`] when `values` does not have one value per column;
    /// [`CsvError::Io`].
    pub fn write_draw(&mut self, values: &[f64]) -> Result<(), CsvError> {
        if values.len() != self.columns {
            return Err(CsvError::RowLength {
                row: self.rows,
                expected: self.columns,
                found: values.len(),
            });
        }
        for v in values {
            self.field.clear();
            let _ = write!(self.field, "{}", Num(*v));
            self.out.write_field(&self.field).map_err(io_error)?;
        }
        self.out.write_record(None::<&[u8]>).map_err(io_error)?;
        self.rows += 1;
        Ok(())
    }

    /// Writes the adaptation block (between the warmup draws and the post-warmup draws).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::csv::{Adaptation, CsvMetadata, CsvWriter, InverseMetric};
    ///
    /// let mut w = CsvWriter::new(Vec::new(), &CsvMetadata::default(), &["lp__", "x", "y"])?;
    /// let diagonal = InverseMetric::Diagonal(vec![0.5, 2.0]);
    /// w.write_adaptation(&Adaptation { step_size: 0.25, inverse_metric: diagonal })?;
    /// let text = String::from_utf8(w.finish(None)?).unwrap();
    /// assert!(text.ends_with(
    ///     "# Adaptation terminated\n# Step size = 0.25\n# Diagonal elements of inverse mass matrix:\n# 0.5, 2\n"
    /// ));
    /// # Ok::<(), infer_mcmc::csv::CsvError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CsvError::Io`].
    pub fn write_adaptation(&mut self, adaptation: &Adaptation) -> Result<(), CsvError> {
        let mut s = String::from("# Adaptation terminated\n");
        let _ = writeln!(s, "# Step size = {}", Num(adaptation.step_size));
        match &adaptation.inverse_metric {
            InverseMetric::Unit => s.push_str("# No free parameters for unit metric\n"),
            InverseMetric::Diagonal(diag) => {
                s.push_str("# Diagonal elements of inverse mass matrix:\n# ");
                push_joined(&mut s, diag, ", ");
                s.push('\n');
            }
            InverseMetric::LowRank(f) => {
                s.push_str("# Diagonal elements of inverse mass matrix:\n# ");
                push_joined(&mut s, &low_rank_diagonal(f), ", ");
                let _ = writeln!(
                    s,
                    "\n# {LOW_RANK_TITLE} (rank {}): M^-1 is D^1/2 (I + U (diag(lambda) - I) U^T) D^1/2",
                    f.eigenvalues.len()
                );
                s.push_str("# D: ");
                push_joined(&mut s, &f.diagonal, ", ");
                s.push_str("\n# lambda: ");
                push_joined(&mut s, &f.eigenvalues, ", ");
                s.push('\n');
                for (j, u) in f.eigenvectors.iter().enumerate() {
                    let _ = write!(s, "# u{}: ", j + 1);
                    push_joined(&mut s, u, ", ");
                    s.push('\n');
                }
            }
            InverseMetric::Dense(rows) => {
                s.push_str("# Elements of inverse mass matrix:\n");
                for row in rows {
                    s.push_str("# ");
                    push_joined(&mut s, row, ", ");
                    s.push('\n');
                }
            }
        }
        self.write_comments(&s)
    }

    /// Writes the timing block (when given), flushes, and returns the output.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::csv::{CsvMetadata, CsvWriter, Timing};
    ///
    /// let w = CsvWriter::new(Vec::new(), &CsvMetadata::default(), &["lp__"])?;
    /// let timing = Timing { warmup_seconds: 1.5, sampling_seconds: 2.0 };
    /// let text = String::from_utf8(w.finish(Some(&timing))?).unwrap();
    /// assert!(text.ends_with("#  Elapsed Time: 1.5 seconds (Warm-up)\n#                2 seconds (Sampling)\n#                3.5 seconds (Total)\n# \n"));
    /// # Ok::<(), infer_mcmc::csv::CsvError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CsvError::Io`].
    pub fn finish(mut self, timing: Option<&Timing>) -> Result<W, CsvError> {
        if let Some(t) = timing {
            let total = t.warmup_seconds + t.sampling_seconds;
            // Column positions as CmdStan writes them: Stan's reader takes the number from
            // character 17 of each line.
            let block = format!(
                "# \n#  Elapsed Time: {} seconds (Warm-up)\n#                {} seconds (Sampling)\n#                {} seconds (Total)\n# \n",
                Num(t.warmup_seconds),
                Num(t.sampling_seconds),
                Num(total)
            );
            self.write_comments(&block)?;
        }
        // Writes the buffered rows out and flushes `W`.
        self.out
            .into_inner()
            .map_err(|e| CsvError::Io(e.into_error()))
    }

    /// Writes comment lines (`text`, each line ended by `\n`) after the rows written so far,
    /// as records of their comma-separated parts: numbers and fixed words, none of which
    /// needs quotes, so each line comes out as it is.
    fn write_comments(&mut self, text: &str) -> Result<(), CsvError> {
        for line in text.lines() {
            self.out.write_record(line.split(',')).map_err(io_error)?;
        }
        Ok(())
    }
}

/// Shortest round-trip form; scientific notation outside `[1e-5, 1e16)`.
struct Num(f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = self.0;
        let a = x.abs();
        if x.is_nan() {
            f.write_str("NaN")
        } else if a == 0.0 || !x.is_finite() || (1e-5..1e16).contains(&a) {
            write!(f, "{x}")
        } else {
            write!(f, "{x:e}")
        }
    }
}

/// The diagonal of M⁻¹ = D^{1/2} (I + U (Λ − I) Uᵀ) D^{1/2}: Dᵢ (1 + Σⱼ (λⱼ − 1) uⱼᵢ²).
fn low_rank_diagonal(f: &LowRankFactors) -> Vec<f64> {
    let mut out: Vec<f64> = vec![1.0; f.diagonal.len()];
    for (u, l) in f.eigenvectors.iter().zip(&f.eigenvalues) {
        for (o, x) in out.iter_mut().zip(u) {
            *o += (l - 1.0) * x * x;
        }
    }
    out.iter().zip(&f.diagonal).map(|(o, d)| o * d).collect()
}

fn push_joined(s: &mut String, values: &[f64], sep: &str) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        let _ = write!(s, "{}", Num(*v));
    }
}

fn config_comments(m: &CsvMetadata) -> String {
    let b = |v: bool| u8::from(v);
    let mut s = String::new();
    let _ = writeln!(s, "# model = {}", m.model);
    s.push_str("# method = sample\n#   sample\n");
    let _ = writeln!(s, "#     num_samples = {}", m.num_samples);
    let _ = writeln!(s, "#     num_warmup = {}", m.num_warmup);
    let _ = writeln!(s, "#     save_warmup = {}", b(m.save_warmup));
    let _ = writeln!(s, "#     thin = {}", m.thin);
    s.push_str("#     adapt\n");
    let _ = writeln!(s, "#       engaged = {}", b(m.adapt_engaged));
    let _ = writeln!(s, "#       gamma = {}", Num(m.adapt_gamma));
    let _ = writeln!(s, "#       delta = {}", Num(m.adapt_delta));
    let _ = writeln!(s, "#       kappa = {}", Num(m.adapt_kappa));
    let _ = writeln!(s, "#       t0 = {}", Num(m.adapt_t0));
    let _ = writeln!(s, "#       init_buffer = {}", m.adapt_init_buffer);
    let _ = writeln!(s, "#       term_buffer = {}", m.adapt_term_buffer);
    let _ = writeln!(s, "#       window = {}", m.adapt_window);
    s.push_str("#     algorithm = hmc\n#       hmc\n");
    match m.engine {
        Engine::Nuts { max_depth } => {
            let _ = writeln!(
                s,
                "#         engine = nuts\n#           nuts\n#             max_depth = {max_depth}"
            );
        }
        Engine::Static { int_time } => {
            let _ = writeln!(
                s,
                "#         engine = static\n#           static\n#             int_time = {}",
                Num(int_time)
            );
        }
    }
    let _ = writeln!(s, "#         metric = {}", m.metric.stan_name());
    let _ = writeln!(s, "#         stepsize = {}", Num(m.stepsize));
    let _ = writeln!(s, "#         stepsize_jitter = {}", Num(m.stepsize_jitter));
    let _ = writeln!(s, "# id = {}", m.chain_id);
    let _ = writeln!(s, "# init = {}", Num(m.init_radius));
    s.push_str("# random\n");
    if u32::try_from(m.seed).is_ok() {
        let _ = writeln!(s, "#   seed = {}", m.seed);
    } else {
        let _ = writeln!(s, "#   seed_u64 = {}", m.seed);
    }
    let _ = writeln!(s, "# infer_version = {}", env!("CARGO_PKG_VERSION"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_stay_short() {
        for x in [
            0.0,
            -0.0,
            1.0,
            3.0,
            0.1,
            1e-300,
            5e-324,
            1.7976931348623157e308,
            -2.5e-7,
        ] {
            let s = Num(x).to_string();
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{s}");
        }
        assert_eq!(Num(3.0).to_string(), "3");
        assert_eq!(Num(0.45).to_string(), "0.45");
        assert_eq!(Num(1e-300).to_string(), "1e-300");
        assert_eq!(Num(f64::NEG_INFINITY).to_string(), "-inf");
        assert_eq!(Num(f64::NAN).to_string(), "NaN");
    }
}
