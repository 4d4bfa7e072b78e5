//! Typed errors for the library. Every message names what the user can fix: the file, the record
//! (line or index) and the field, so the CLI can print it as a one-line cause and the web app can show
//! it next to the file that was dropped.
//!
//! Imports: std and the error crates only (the bottom layer).

/// Everything that can go wrong in the library.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    /// A model folder or one of its files is missing, unreadable or inconsistent.
    #[error("{file}: {msg}")]
    Model {
        /// The file (or folder) the problem is in, as the user named it.
        file: String,
        /// What is wrong with it.
        msg: String,
    },
    /// A record of a data file is malformed.
    #[error("{file}: {record}: {field}: {msg}")]
    Data {
        /// The data file, as the user named it.
        file: String,
        /// Where in the file, e.g. `line 12` or `record 3`.
        record: String,
        /// The field (column or key) at fault.
        field: String,
        /// What is wrong with it.
        msg: String,
    },
    /// The caller asked for something that cannot be done (empty input, bad option value, ...).
    #[error("{0}")]
    Invalid(String),
    /// A tensor operation failed (shape mismatch, device error, ...).
    #[error("tensor error: {0}")]
    Candle(String),
}

/// candle's message without the backtrace it attaches when `RUST_BACKTRACE` is set, so that errors
/// stay one line.
pub fn candle_message(e: &candle_core::Error) -> String {
    match e {
        candle_core::Error::WithBacktrace { inner, .. } => candle_message(inner),
        other => other.to_string(),
    }
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Candle(candle_message(&e))
    }
}

impl Error {
    /// Shorthand for [`Error::Model`].
    pub fn model(file: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Model {
            file: file.into(),
            msg: msg.into(),
        }
    }

    /// Shorthand for [`Error::Data`].
    pub fn data(
        file: impl Into<String>,
        record: impl Into<String>,
        field: impl Into<String>,
        msg: impl Into<String>,
    ) -> Self {
        Error::Data {
            file: file.into(),
            record: record.into(),
            field: field.into(),
            msg: msg.into(),
        }
    }
}

/// Library result type.
pub type Result<T> = std::result::Result<T, Error>;
