//! Typed errors of the core library. Each names the file or field at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cause is part of the message and deliberately not a `source`:
    /// error chains printed with `{:#}` would name it twice.
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "{path} is a directory, not a register file; point --home or TOKENLEDGER_HOME elsewhere or remove the directory"
    )]
    RegisterIsDirectory { path: PathBuf },
    #[error("{path} is read-only; fix its permissions (chmod u+w) or choose another --home")]
    ReadOnly { path: PathBuf },
    #[error("{path} is on a read-only file system; remount it read-write or choose another --home")]
    ReadOnlyFileSystem { path: PathBuf },
    #[error("invalid {field}: {message}")]
    InvalidField {
        field: &'static str,
        message: String,
    },
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error(transparent)]
    Pricing(#[from] crate::pricing::PricingError),
    /// A store other than the home's files (a database) failed; `store` names
    /// it without credentials.
    #[error("{store}: {message}")]
    Store { store: String, message: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        match source.kind() {
            std::io::ErrorKind::PermissionDenied => Error::ReadOnly { path },
            std::io::ErrorKind::ReadOnlyFilesystem => Error::ReadOnlyFileSystem { path },
            _ => Error::Io {
                path,
                cause: source,
            },
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidField {
            field,
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Something skipped while reading: never fatal, always reported with its location.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub path: PathBuf,
    pub line: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}
