//! Typed errors of the CLEO layer; each names the file or field at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CleoError {
    /// The cause is part of the message and deliberately not a `source`:
    /// error chains printed with `{:#}` would name it twice.
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Core(#[from] tokenledger_core::Error),
}

impl CleoError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CleoError::Io {
            path: path.into(),
            cause: source,
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        CleoError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// Invalid input (exit 2) as opposed to I/O or configuration (exit 1).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            CleoError::Invalid { .. }
                | CleoError::Core(tokenledger_core::Error::InvalidField { .. })
        )
    }
}

pub type Result<T, E = CleoError> = std::result::Result<T, E>;
