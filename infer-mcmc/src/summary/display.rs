//! The `stansummary` table: the rows, the per-chain table and the number formats.

use std::fmt;

use super::{ChainReport, Summary};
use crate::diagnostics::Diagnostics;

const HEADERS: [&str; 9] = [
    "Mean", "MCSE", "StdDev", "5%", "50%", "95%", "ESS_bulk", "ESS_tail", "R_hat",
];

/// The table cells of one row.
fn cells(d: &Diagnostics) -> [String; 9] {
    [
        significant(d.mean),
        significant(d.mcse_mean),
        significant(d.sd),
        significant(d.q5),
        significant(d.q50),
        significant(d.q95),
        rounded(d.ess_bulk),
        rounded(d.ess_tail),
        fixed3(d.rhat),
    ]
}

/// `(a, b, c)`: one time per chain, as `stansummary` lists them.
fn times(values: impl Iterator<Item = f64>) -> String {
    let list: Vec<String> = values.map(significant).collect();
    format!("({})", list.join(", "))
}

/// One line of a table: the first cell left-aligned, the others right-aligned, two spaces
/// apart, in columns of `widths`.
fn write_row<'a>(
    f: &mut fmt::Formatter<'_>,
    cells: impl IntoIterator<Item = &'a str>,
    widths: [usize; 7],
) -> fmt::Result {
    for (k, (c, w)) in cells.into_iter().zip(widths).enumerate() {
        if k == 0 {
            write!(f, "{c:<w$}")?;
        } else {
            write!(f, "  {c:>w$}")?;
        }
    }
    writeln!(f)
}

impl Summary {
    /// The per-chain table and its totals.
    fn fmt_chains(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEADS: [&str; 7] = [
            "Chain",
            "Draws",
            "Divergent",
            "Max_treedepth",
            "Gradient_evals",
            "Warmup_s",
            "Sampling_s",
        ];
        let row = |id: String, r: &ChainReport| -> [String; 7] {
            [
                id,
                r.draws.to_string(),
                r.divergent.to_string(),
                r.max_treedepth_hits.to_string(),
                r.gradient_evals.to_string(),
                significant(r.warmup_seconds),
                significant(r.sampling_seconds),
            ]
        };
        let mut table: Vec<[String; 7]> = self
            .chain_reports
            .iter()
            .map(|r| row(r.id.to_string(), r))
            .collect();
        let sum = self
            .chain_reports
            .iter()
            .fold(None::<ChainReport>, |acc, r| {
                Some(acc.map_or(*r, |a| ChainReport {
                    id: 0,
                    draws: a.draws + r.draws,
                    divergent: a.divergent + r.divergent,
                    max_treedepth_hits: a.max_treedepth_hits + r.max_treedepth_hits,
                    gradient_evals: a.gradient_evals + r.gradient_evals,
                    warmup_seconds: a.warmup_seconds + r.warmup_seconds,
                    sampling_seconds: a.sampling_seconds + r.sampling_seconds,
                }))
            });
        if let Some(total) = sum {
            table.push(row("Total".to_owned(), &total));
        }
        let mut widths = HEADS.map(str::len);
        for r in &table {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        write_row(f, HEADS, widths)?;
        for r in &table {
            write_row(f, r.iter().map(String::as_str), widths)?;
        }
        Ok(())
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} chains: each with {} draws; {} draws in total.",
            self.chains,
            self.draws,
            self.chains * self.draws
        )?;
        writeln!(f)?;
        if !self.chain_reports.is_empty() {
            let warmup = self.chain_reports.iter().map(|r| r.warmup_seconds);
            let sampling = self.chain_reports.iter().map(|r| r.sampling_seconds);
            writeln!(
                f,
                "Warmup took {} seconds, {} seconds total",
                times(warmup.clone()),
                significant(warmup.sum())
            )?;
            writeln!(
                f,
                "Sampling took {} seconds, {} seconds total",
                times(sampling.clone()),
                significant(sampling.sum())
            )?;
        }
        if !self.chain_reports.is_empty() || self.wall_seconds.is_some() {
            let mut parts = Vec::new();
            if let Some(w) = self.wall_seconds {
                parts.push(format!("Wall time {} seconds", significant(w)));
            }
            if !self.chain_reports.is_empty() {
                parts.push(format!(
                    "{} gradient evaluations in total",
                    self.gradient_evals()
                ));
            }
            writeln!(f, "{}", parts.join("; "))?;
            writeln!(f)?;
        }
        let sampler_cells: Vec<[String; 9]> = self
            .sampler_rows
            .iter()
            .map(|r| cells(&r.diagnostics))
            .collect();
        let param_cells: Vec<[String; 9]> =
            self.rows.iter().map(|r| cells(&r.diagnostics)).collect();
        let name_width = self
            .rows
            .iter()
            .chain(&self.sampler_rows)
            .map(|r| r.name.chars().count())
            .chain([4])
            .max()
            .unwrap_or(4);
        let mut widths = HEADERS.map(str::len);
        for row in sampler_cells.iter().chain(&param_cells) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        write!(f, "{:<name_width$}", "")?;
        for (h, w) in HEADERS.iter().zip(widths) {
            write!(f, "  {h:>w$}")?;
        }
        writeln!(f)?;
        for (rows, cells) in [
            (&self.sampler_rows, &sampler_cells),
            (&self.rows, &param_cells),
        ] {
            if rows.is_empty() {
                continue;
            }
            writeln!(f)?;
            for (row, cell) in rows.iter().zip(cells) {
                write!(f, "{:<name_width$}", row.name)?;
                for (c, w) in cell.iter().zip(widths) {
                    write!(f, "  {c:>w$}")?;
                }
                writeln!(f)?;
            }
        }
        if !self.chain_reports.is_empty() {
            writeln!(f)?;
            self.fmt_chains(f)?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "ESS_bulk and ESS_tail are the effective sample sizes of the bulk and of the 5% and 95%\n\
             tails; R_hat is the rank-normalized split R-hat (Vehtari et al. 2021), close to 1.00\n\
             at convergence."
        )?;
        if !self.chain_reports.is_empty() {
            writeln!(
                f,
                "Divergent and Max_treedepth count the sampling draws whose trajectory diverged or\n\
                 reached the maximum tree depth; Gradient_evals counts every evaluation of the\n\
                 log density's gradient, warmup included."
            )?;
        }
        let warnings = self.warnings();
        if !warnings.is_empty() {
            writeln!(f)?;
            writeln!(f, "Warnings:")?;
            for w in warnings {
                writeln!(f, "  {w}")?;
            }
        }
        Ok(())
    }
}

/// Three significant digits: fixed notation for magnitudes in `[1e-3, 1e6)`, scientific
/// otherwise.
fn significant(x: f64) -> String {
    if !x.is_finite() {
        return non_finite(x);
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    let exponent = x.abs().log10().floor();
    if (-3.0..6.0).contains(&exponent) {
        let decimals = (2.0 - exponent).max(0.0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.2e}")
    }
}

fn rounded(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.0}")
    } else {
        non_finite(x)
    }
}

fn fixed3(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        non_finite(x)
    }
}

fn non_finite(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x > 0.0 {
        "inf".to_owned()
    } else {
        "-inf".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(significant(1234.567), "1235");
        assert_eq!(significant(12.3456), "12.3");
        assert_eq!(significant(-0.012345), "-0.0123");
        assert_eq!(significant(0.00012345), "1.23e-4");
        assert_eq!(significant(1.5e7), "1.50e7");
        assert_eq!(significant(0.0), "0");
        assert_eq!(significant(f64::NAN), "NaN");
        assert_eq!(fixed3(1.00234), "1.002");
        assert_eq!(rounded(399.6), "400");
    }
}
