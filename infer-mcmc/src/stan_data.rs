//! Data in Stan's JSON format (the `data.json` of CmdStan and posteriordb): an object whose
//! members are the data block's variables — integers and reals as numbers, vectors and arrays
//! as JSON arrays, matrices as arrays of rows — read by name with the type the model expects.
//! A missing or mistyped variable is a [`StanDataError`] naming it.
//!
//! ```
//! use infer_mcmc::stan_data::StanData;
//! let data = StanData::from_json_str(r#"{"N": 3, "y": [1.5, 2, -0.5], "g": [1, 2, 2],
//!                                         "X": [[1, 0.5], [1, 1.5], [1, -2]]}"#)?;
//! assert_eq!(data.usize("N")?, 3);
//! assert_eq!(data.vector("y")?.to_vec(), vec![1.5, 2.0, -0.5]);
//! assert_eq!(data.indices("g")?, vec![0, 1, 1]); // Stan's 1-based indices, 0-based
//! assert_eq!(data.matrix("X")?.dim(), (3, 2));
//! assert!(data.real("sigma").is_err()); // missing: the error names "sigma"
//! # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
//! ```

use ndarray::{Array1, Array2};
use serde_json::Value;
use std::path::Path;

/// Why a Stan JSON data file or one of its variables could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StanDataError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The text is not JSON, or not a JSON object.
    #[error("not Stan JSON data: {reason}")]
    Json {
        /// What the parser said.
        reason: String,
    },
    /// The data has no variable of this name.
    #[error("data variable `{name}` is missing")]
    Missing {
        /// The variable.
        name: String,
    },
    /// The variable (or one of its elements) is not of the expected type.
    #[error("data variable `{name}`: expected {expected}, found {found}")]
    Type {
        /// The variable.
        name: String,
        /// What the model reads it as.
        expected: &'static str,
        /// What the file holds (a JSON value, abbreviated).
        found: String,
    },
    /// The variable has another length or shape than the model needs.
    #[error("data variable `{name}`: expected {expected}, found {found}")]
    Shape {
        /// The variable.
        name: String,
        /// The shape the model needs.
        expected: String,
        /// The shape in the file.
        found: String,
    },
}

/// The variables of a Stan JSON data file.
#[derive(Clone, Debug)]
pub struct StanData {
    vars: serde_json::Map<String, Value>,
}

/// A JSON value abbreviated for an error message.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

impl StanData {
    /// Parses the text of a Stan JSON data file.
    ///
    /// # Errors
    /// [`StanDataError::Json`] when the text is not a JSON object.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"N": 2}"#)?;
    /// assert_eq!(data.int("N")?, 2);
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn from_json_str(text: &str) -> Result<Self, StanDataError> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(vars)) => Ok(StanData { vars }),
            Ok(other) => Err(StanDataError::Json {
                reason: format!("the top level is {}, not an object", show(&other)),
            }),
            Err(e) => Err(StanDataError::Json {
                reason: e.to_string(),
            }),
        }
    }

    /// Reads and parses a Stan JSON data file.
    ///
    /// # Errors
    /// [`StanDataError::Io`] when the file cannot be read; [`StanDataError::Json`] as
    /// [`StanData::from_json_str`].
    ///
    /// # Examples
    /// ```
    /// let err = infer_mcmc::stan_data::StanData::from_path("no/such/file.json").unwrap_err();
    /// assert!(err.to_string().contains("no/such/file.json"));
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, StanDataError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| StanDataError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json_str(&text)
    }

    /// The names of the variables, in the file's order of keys (sorted).
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"y": [1], "N": 1}"#)?;
    /// assert_eq!(data.names().collect::<Vec<_>>(), ["N", "y"]);
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }

    fn get(&self, name: &str) -> Result<&Value, StanDataError> {
        self.vars.get(name).ok_or_else(|| StanDataError::Missing {
            name: name.to_owned(),
        })
    }

    fn mistyped(name: &str, expected: &'static str, v: &Value) -> StanDataError {
        StanDataError::Type {
            name: name.to_owned(),
            expected,
            found: show(v),
        }
    }

    /// An `int`.
    ///
    /// # Errors
    /// [`StanDataError::Missing`]; [`StanDataError::Type`] for a value that is not an integer.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"K": 3, "x": 1.5}"#)?;
    /// assert_eq!(data.int("K")?, 3);
    /// assert!(data.int("x").is_err());
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn int(&self, name: &str) -> Result<i64, StanDataError> {
        let v = self.get(name)?;
        v.as_i64()
            .ok_or_else(|| Self::mistyped(name, "an integer", v))
    }

    /// An `int<lower=0>` as a size or count.
    ///
    /// # Errors
    /// As [`StanData::int`], and [`StanDataError::Type`] for a negative value.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"N": 4, "M": -1}"#)?;
    /// assert_eq!(data.usize("N")?, 4);
    /// assert!(data.usize("M").is_err());
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn usize(&self, name: &str) -> Result<usize, StanDataError> {
        let v = self.get(name)?;
        v.as_u64()
            .and_then(|u| usize::try_from(u).ok())
            .ok_or_else(|| Self::mistyped(name, "a non-negative integer", v))
    }

    /// A `real` (an integer in the file is read as a real, as Stan does).
    ///
    /// # Errors
    /// [`StanDataError::Missing`]; [`StanDataError::Type`] for a value that is not a number.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"s": 2, "t": "a"}"#)?;
    /// assert_eq!(data.real("s")?, 2.0);
    /// assert!(data.real("t").is_err());
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn real(&self, name: &str) -> Result<f64, StanDataError> {
        let v = self.get(name)?;
        number(v).ok_or_else(|| Self::mistyped(name, "a number", v))
    }

    /// A `vector` or `array[] real` (also a single number, read as a vector of one element,
    /// as CmdStan writes a length-1 array).
    ///
    /// # Errors
    /// [`StanDataError::Missing`]; [`StanDataError::Type`] naming the first element that is
    /// not a number.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"y": [1, 2.5]}"#)?;
    /// assert_eq!(data.vector("y")?.to_vec(), vec![1.0, 2.5]);
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn vector(&self, name: &str) -> Result<Array1<f64>, StanDataError> {
        let v = self.get(name)?;
        match v {
            Value::Array(items) => items
                .iter()
                .map(|x| number(x).ok_or_else(|| Self::mistyped(name, "an array of numbers", x)))
                .collect::<Result<Vec<f64>, _>>()
                .map(Array1::from),
            x => number(x)
                .map(|s| Array1::from(vec![s]))
                .ok_or_else(|| Self::mistyped(name, "an array of numbers", x)),
        }
    }

    /// A `vector` of a given length.
    ///
    /// # Errors
    /// As [`StanData::vector`], and [`StanDataError::Shape`] for another length.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"y": [1, 2]}"#)?;
    /// assert!(data.vector_of("y", 3).is_err());
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn vector_of(&self, name: &str, len: usize) -> Result<Array1<f64>, StanDataError> {
        let v = self.vector(name)?;
        check_len(name, v.len(), len)?;
        Ok(v)
    }

    /// An `array[] int`.
    ///
    /// # Errors
    /// [`StanDataError::Missing`]; [`StanDataError::Type`] naming the first element that is
    /// not an integer.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"k": [0, 3, 1]}"#)?;
    /// assert_eq!(data.ints("k")?, vec![0, 3, 1]);
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn ints(&self, name: &str) -> Result<Vec<i64>, StanDataError> {
        let v = self.get(name)?;
        match v {
            Value::Array(items) => items
                .iter()
                .map(|x| {
                    x.as_i64()
                        .ok_or_else(|| Self::mistyped(name, "an array of integers", x))
                })
                .collect(),
            x => x
                .as_i64()
                .map(|i| vec![i])
                .ok_or_else(|| Self::mistyped(name, "an array of integers", x)),
        }
    }

    /// An `array[n] int` of a given length.
    ///
    /// # Errors
    /// As [`StanData::ints`], and [`StanDataError::Shape`] for another length.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"k": [0, 3]}"#)?;
    /// assert_eq!(data.ints_of("k", 2)?, vec![0, 3]);
    /// assert!(data.ints_of("k", 3).is_err());
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn ints_of(&self, name: &str, len: usize) -> Result<Vec<i64>, StanDataError> {
        let v = self.ints(name)?;
        check_len(name, v.len(), len)?;
        Ok(v)
    }

    /// An `array[] int<lower=1, upper=n>` of Stan's 1-based indices into something of length
    /// `n`, returned 0-based (for [`infer_ad::Tensor::gather`]).
    ///
    /// # Errors
    /// As [`StanData::ints`], and [`StanDataError::Type`] for an index outside 1..=n.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"g": [1, 3], "h": [0]}"#)?;
    /// assert_eq!(data.indices_into("g", 3)?, vec![0, 2]);
    /// assert!(data.indices_into("g", 2).is_err());
    /// assert!(data.indices_into("h", 2).is_err());
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn indices_into(&self, name: &str, n: usize) -> Result<Vec<usize>, StanDataError> {
        self.ints(name)?
            .into_iter()
            .map(|i| match usize::try_from(i) {
                Ok(u) if (1..=n).contains(&u) => Ok(u - 1),
                _ => Err(StanDataError::Type {
                    name: name.to_owned(),
                    expected: "1-based indices within range",
                    found: format!("{i} (valid: 1..={n})"),
                }),
            })
            .collect()
    }

    /// An `array[] int<lower=1>` of Stan's 1-based indices, returned 0-based.
    ///
    /// # Errors
    /// As [`StanData::ints`], and [`StanDataError::Type`] for an index below 1.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(r#"{"g": [2, 1]}"#)?;
    /// assert_eq!(data.indices("g")?, vec![1, 0]);
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn indices(&self, name: &str) -> Result<Vec<usize>, StanDataError> {
        self.indices_into(name, usize::MAX)
    }

    /// A `matrix[n, k]` or `array[n] vector[k]`, given as an array of `n` rows of `k` numbers.
    ///
    /// # Errors
    /// [`StanDataError::Missing`]; [`StanDataError::Type`] for something other than an array
    /// of arrays of numbers; [`StanDataError::Shape`] for rows of different lengths.
    ///
    /// # Examples
    /// ```
    /// let data = infer_mcmc::stan_data::StanData::from_json_str(
    ///     r#"{"X": [[1, 2], [3, 4], [5, 6]], "bad": [[1], [2, 3]]}"#)?;
    /// let x = data.matrix("X")?;
    /// assert_eq!((x.nrows(), x.ncols(), x[[2, 1]]), (3, 2, 6.0));
    /// assert!(data.matrix("bad").is_err());
    /// # Ok::<(), infer_mcmc::stan_data::StanDataError>(())
    /// ```
    pub fn matrix(&self, name: &str) -> Result<Array2<f64>, StanDataError> {
        let v = self.get(name)?;
        let Value::Array(rows) = v else {
            return Err(Self::mistyped(name, "an array of rows", v));
        };
        let mut flat = Vec::new();
        let mut k = None;
        for row in rows {
            let Value::Array(items) = row else {
                return Err(Self::mistyped(name, "an array of rows", row));
            };
            if *k.get_or_insert(items.len()) != items.len() {
                return Err(StanDataError::Shape {
                    name: name.to_owned(),
                    expected: format!("rows of {} numbers", k.unwrap_or(0)),
                    found: format!("a row of {}", items.len()),
                });
            }
            for x in items {
                flat.push(number(x).ok_or_else(|| Self::mistyped(name, "numbers", x))?);
            }
        }
        let (n, k) = (rows.len(), k.unwrap_or(0));
        Array2::from_shape_vec((n, k), flat).map_err(|e| StanDataError::Shape {
            name: name.to_owned(),
            expected: format!("{n} × {k}"),
            found: e.to_string(),
        })
    }
}

/// [`StanDataError::Shape`] unless `found == len`.
fn check_len(name: &str, found: usize, len: usize) -> Result<(), StanDataError> {
    if found == len {
        Ok(())
    } else {
        Err(StanDataError::Shape {
            name: name.to_owned(),
            expected: format!("{len} elements"),
            found: format!("{found} elements"),
        })
    }
}

/// A JSON number as f64, also Stan's strings for the special values.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Inf" | "Infinity" => Some(f64::INFINITY),
            "-Inf" | "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}
