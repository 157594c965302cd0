//! [`read_csv`]: a Stan CSV file read whole, checked to be complete.

use std::io::{BufRead, ErrorKind, Read};

use super::adaptation::{self, AdaptationState};
use super::config::{Declared, parse_config};
use super::{Adaptation, CsvError, CsvMetadata, Engine, StanCsv, Timing, io_error};

/// Reads a Stan CSV file (one chain): configuration, column names, warmup draws (when
/// `save_warmup` is on), adaptation block, draws and timing. Files written by CmdStan are
/// read too; configuration keys that [`CsvMetadata`] does not hold are ignored, and missing
/// ones keep their defaults.
///
/// Warmup rows are the rows before the adaptation block; without one, and with
/// `save_warmup`, the first `⌈num_warmup / thin⌉` rows.
///
/// # What a complete file is
///
/// Only a complete file is read; a truncated or damaged one is an error. Complete means:
///
/// - the header (after the configuration comments) starts with `lp__` and its column names
///   are non-empty and distinct;
/// - every line that carries data (the header, draws, the adaptation and timing lines) ends
///   with a line break, as CmdStan, cmdstanpy and infer write them: a last line without one
///   may have been cut anywhere (`0.37` of `0.373048`), so it is an error;
/// - when the configuration declares `num_samples`, exactly ⌈`num_samples` / `thin`⌉ draws
///   follow the adaptation block, and with `save_warmup = 1` (in an HMC run) exactly
///   ⌈`num_warmup` / `thin`⌉ warmup draws precede it (`thin` ≥ 1);
/// - when it declares `engaged = 1` and `num_warmup` > 0 for an HMC run (a `stepsize__`
///   column, and not `algorithm = fixed_param`, which has no warmup rows and no adaptation),
///   the adaptation block is present; an adaptation block must be whole: a finite positive
///   step size and a metric line (diagonal: 1 to `P` finite positive values, `P` the number
///   of parameter columns; dense: a square matrix of finite values);
/// - the timing block is optional (a file may end after its last draw), but a timing block
///   that is present has its three lines (warm-up, sampling, total).
///
/// Numbers are read exactly; `inf`, `-inf`, `Infinity` and `NaN` are the non-finite values,
/// and a finite-looking number out of range (`1e999`) is an error.
///
/// # Examples
///
/// ```
/// use infer_mcmc::csv::{CsvError, read_csv};
///
/// let text = "# num_samples = 2\n# num_warmup = 0\nlp__,x\n-1.5,0.25\n-1.25,0.5\n";
/// let csv = read_csv(text.as_bytes())?;
/// assert_eq!(csv.draws.len(), 2);
/// // One draw of the two declared: a truncated file.
/// let cut = &text[..text.len() - "-1.25,0.5\n".len()];
/// assert!(matches!(read_csv(cut.as_bytes()), Err(CsvError::DrawCount { expected: 2, found: 1, .. })));
/// // Cut inside the last draw (no line break): an error too.
/// assert!(matches!(read_csv(&text.as_bytes()[..text.len() - 1]), Err(CsvError::Truncated { .. })));
/// # Ok::<(), CsvError>(())
/// ```
///
/// # Errors
///
/// [`CsvError::MissingHeader`], [`CsvError::FirstColumnNotLp`], [`CsvError::InvalidName`],
/// [`CsvError::DuplicateColumn`], [`CsvError::FieldCount`], [`CsvError::InvalidNumber`],
/// [`CsvError::NumberOutOfRange`], [`CsvError::InvalidValue`] (also `thin = 0`),
/// [`CsvError::InvalidAdaptation`], [`CsvError::InvalidMetric`], [`CsvError::DrawCount`],
/// [`CsvError::Truncated`] (each with its 1-based line number where one applies), or
/// [`CsvError::Io`] (also for text that is not UTF-8).
pub fn read_csv<R: BufRead>(input: R) -> Result<StanCsv, CsvError> {
    let mut metadata = CsvMetadata::default();
    let mut declared = Declared::default();
    let mut columns: Option<Vec<String>> = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut rows_before_adaptation = None;
    let mut adaptation: Option<Adaptation> = None;
    let mut adaptation_line = 0;
    let mut adaptation_state = AdaptationState::None;
    let mut timing: [Option<f64>; 3] = [None; 3];
    let mut timing_line = 0;
    let mut engine_name = String::from("nuts");
    let (mut max_depth, mut int_time) = (10u32, 2.0 * std::f64::consts::PI);
    // One record per line: only `\n` ends one (a `\r` before it stays in the last field,
    // and every field is trimmed), quotes are plain characters, blank lines are skipped, and
    // comment lines come through as records whose first field starts with `#`.
    let mut lines = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .quoting(false)
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_reader(Tracked::new(input));
    let mut record = ::csv::ByteRecord::new();

    while lines.read_byte_record(&mut record).map_err(io_error)? {
        let end = lines.position();
        let terminated = !lines.get_ref().ends_without_break_at(end.byte());
        // `end` is past the line break, on the next line.
        let line_no = end.line() as usize - usize::from(terminated);
        let Ok(fields) = record
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<Vec<&str>, _>>()
        else {
            return Err(not_utf8(&record, terminated));
        };
        let first = fields.first().copied().unwrap_or_default();
        let text = if first.starts_with('#') {
            fields.join(",")
        } else {
            String::new()
        };
        if !terminated {
            // The last line, without a line break: it may have been cut anywhere. Only a line
            // that carries nothing (blank, or `#` and blanks) can end a complete file so.
            let blank = if first.starts_with('#') {
                text.trim_start_matches('#').trim().is_empty()
            } else {
                is_blank(&fields)
            };
            if !blank {
                return Err(CsvError::Truncated {
                    line: line_no,
                    reason: "the last line has no line break",
                });
            }
        }
        if let Some(comment) = text.strip_prefix('#') {
            let comment = comment.trim();
            if columns.is_none() {
                parse_config(
                    comment,
                    line_no,
                    &mut metadata,
                    &mut declared,
                    &mut engine_name,
                    &mut max_depth,
                    &mut int_time,
                )?;
                continue;
            }
            // After the header: adaptation and timing blocks.
            if adaptation::read_comment(&mut adaptation_state, &mut adaptation, comment, line_no)? {
                continue;
            }
            if comment == "Adaptation terminated" {
                if rows_before_adaptation.is_some() {
                    return Err(CsvError::InvalidAdaptation { line: line_no });
                }
                rows_before_adaptation = Some(rows.len());
                adaptation_line = line_no;
                adaptation_state = AdaptationState::StepSize;
            } else if let Some((seconds, kind)) = parse_timing(comment, line_no)? {
                let k = kind as usize;
                // In order (warm-up, sampling, total), each once.
                if timing[k].is_some() || timing[..k].iter().any(Option::is_none) {
                    return Err(CsvError::Truncated {
                        line: line_no,
                        reason: "the timing block is out of order or repeated",
                    });
                }
                timing[k] = Some(seconds);
                timing_line = line_no;
            } else if comment.starts_with("Elapsed Time") {
                return Err(CsvError::Truncated {
                    line: line_no,
                    reason: "a line of the timing block is cut short",
                });
            }
            continue;
        }
        if is_blank(&fields) {
            continue;
        }
        match &columns {
            None => {
                columns = Some(parse_header(&fields, line_no)?);
            }
            Some(cols) => {
                // A draw inside the adaptation block: the block is cut short.
                if !adaptation_state.ends_at_a_draw() {
                    return Err(CsvError::InvalidAdaptation { line: line_no });
                }
                adaptation_state = AdaptationState::None;
                let row = fields
                    .iter()
                    .map(|f| parse_number(f.trim(), line_no))
                    .collect::<Result<Vec<f64>, _>>()?;
                if row.len() != cols.len() {
                    return Err(CsvError::FieldCount {
                        line: line_no,
                        expected: cols.len(),
                        found: row.len(),
                    });
                }
                rows.push(row);
            }
        }
    }
    // All the lines, the blank ones after the last record too.
    let line_no =
        lines.position().line() as usize - 1 + usize::from(lines.get_ref().ends_without_break());
    let end_line = line_no + 1;
    if adaptation_state.is_cut_short() {
        return Err(CsvError::Truncated {
            line: end_line,
            reason: "the adaptation block is cut short",
        });
    }
    let columns = columns.ok_or(CsvError::MissingHeader)?;
    metadata.engine = if engine_name == "static" {
        Engine::Static { int_time }
    } else {
        Engine::Nuts { max_depth }
    };
    // An HMC run (CmdStan runs `fixed_param` instead, without warmup, adaptation or the
    // `stepsize__` column, when asked to or when the model has no parameters).
    let hmc = !declared.fixed_param && columns.iter().any(|c| c == "stepsize__");
    if let Some(a) = &adaptation {
        let params = columns.iter().filter(|c| !c.ends_with("__")).count();
        adaptation::check(a, params, adaptation_line)?;
    } else if hmc && declared.engaged && metadata.adapt_engaged && metadata.num_warmup > 0 {
        return Err(CsvError::Truncated {
            line: end_line,
            reason: "the configuration declares an adaptation block (engaged = 1, num_warmup > 0) and there is none",
        });
    }
    let timing = match timing {
        [Some(warmup_seconds), Some(sampling_seconds), Some(_)] => Some(Timing {
            warmup_seconds,
            sampling_seconds,
        }),
        [None, None, None] => None,
        _ => {
            return Err(CsvError::Truncated {
                line: timing_line + 1,
                reason: "the timing block is cut short",
            });
        }
    };
    // `thin` is at least 1 (checked where it is read).
    let thin = metadata.thin.max(1);
    let expected_warmup = if metadata.save_warmup && hmc {
        metadata.num_warmup.div_ceil(thin)
    } else {
        0
    };
    let warmup_rows = match rows_before_adaptation {
        Some(n) => n,
        None => expected_warmup.min(rows.len()),
    };
    if (declared.num_warmup || declared.save_warmup) && warmup_rows != expected_warmup {
        return Err(CsvError::DrawCount {
            what: "warmup draw",
            expected: expected_warmup,
            found: warmup_rows,
        });
    }
    let draws = rows.split_off(warmup_rows);
    if declared.num_samples {
        let expected = metadata.num_samples.div_ceil(thin);
        if draws.len() != expected {
            return Err(CsvError::DrawCount {
                what: "draw",
                expected,
                found: draws.len(),
            });
        }
    }
    Ok(StanCsv {
        metadata,
        columns,
        warmup_draws: rows,
        adaptation,
        draws,
        timing,
    })
}

/// The header line: `lp__` first, names non-empty and distinct.
fn parse_header(fields: &[&str], line: usize) -> Result<Vec<String>, CsvError> {
    let names: Vec<String> = fields.iter().map(|c| c.trim().to_owned()).collect();
    if names.first().map(String::as_str) != Some("lp__") {
        return Err(CsvError::FirstColumnNotLp {
            first: names.first().cloned(),
        });
    }
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    for n in &names {
        if n.is_empty() {
            return Err(CsvError::InvalidName { name: n.clone() });
        }
        if !seen.insert(n.as_str()) {
            return Err(CsvError::DuplicateColumn {
                line,
                name: n.clone(),
            });
        }
    }
    Ok(names)
}

#[derive(Clone, Copy)]
enum TimingKind {
    Warmup = 0,
    Sampling = 1,
    Total = 2,
}

/// A number as CmdStan writes them; `inf`, `-inf`, `Infinity` and `NaN` (any case) are the
/// only non-finite forms, so `1e999` (which Rust would read as ∞) is out of range.
pub(super) fn parse_number(text: &str, line: usize) -> Result<f64, CsvError> {
    let x = text.parse::<f64>().map_err(|_| CsvError::InvalidNumber {
        line,
        text: text.to_owned(),
    })?;
    if x.is_infinite() {
        let word = text.trim_start_matches(['+', '-']);
        if !(word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity")) {
            return Err(CsvError::NumberOutOfRange {
                line,
                text: text.to_owned(),
            });
        }
    }
    Ok(x)
}

pub(super) fn parse_list(text: &str, line: usize) -> Result<Vec<f64>, CsvError> {
    text.split(',')
        .map(|v| parse_number(v.trim(), line))
        .collect()
}

/// `Elapsed Time: 0.05 seconds (Warm-up)`, `0.02 seconds (Sampling)`, `… (Total)`.
fn parse_timing(comment: &str, line: usize) -> Result<Option<(f64, TimingKind)>, CsvError> {
    let kind = if comment.ends_with("(Warm-up)") {
        TimingKind::Warmup
    } else if comment.ends_with("(Sampling)") {
        TimingKind::Sampling
    } else if comment.ends_with("(Total)") {
        TimingKind::Total
    } else {
        return Ok(None);
    };
    let body = comment.strip_prefix("Elapsed Time:").unwrap_or(comment);
    let number = body.split_whitespace().next().unwrap_or("");
    Ok(Some((parse_number(number, line)?, kind)))
}

/// Whether a line (its fields) carries nothing but blanks.
fn is_blank(fields: &[&str]) -> bool {
    match fields {
        [] => true,
        [only] => only.trim().is_empty(),
        _ => false,
    }
}

/// The error for a line that is not UTF-8, as the line's own bytes give it.
fn not_utf8(record: &::csv::ByteRecord, terminated: bool) -> CsvError {
    let mut line = record.iter().collect::<Vec<_>>().join(&b',');
    if terminated {
        line.push(b'\n');
    }
    CsvError::Io(match std::str::from_utf8(&line) {
        Err(e) => std::io::Error::new(ErrorKind::InvalidData, e),
        Ok(_) => ErrorKind::InvalidData.into(),
    })
}

/// The input as the `csv` reader reads it, with what that reader does not tell: whether the
/// input ends with a line break (the reader ends a record at the end of the input as at one).
struct Tracked<R> {
    inner: R,
    /// Bytes read so far.
    read: u64,
    /// The last byte read.
    last: Option<u8>,
    /// Whether the input has ended.
    ended: bool,
}

impl<R> Tracked<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            read: 0,
            last: None,
            ended: false,
        }
    }

    /// Whether the input ends with a last line that has no line break.
    fn ends_without_break(&self) -> bool {
        self.last.is_some_and(|b| b != b'\n')
    }

    /// Whether the record that ends at byte `end` is that last line.
    fn ends_without_break_at(&self, end: u64) -> bool {
        self.ended && end == self.read && self.ends_without_break()
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // The first read passes one byte at most: the `csv` reader drops a byte-order mark
        // that its first read holds whole, and a file starting with one is read as the bytes
        // it holds (its first line is neither a comment nor a header).
        let len = if self.read == 0 {
            buf.len().min(1)
        } else {
            buf.len()
        };
        let n = loop {
            match self.inner.read(&mut buf[..len]) {
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                result => break result?,
            }
        };
        if n == 0 {
            self.ended |= len > 0;
        } else {
            self.read += n as u64;
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }
}
