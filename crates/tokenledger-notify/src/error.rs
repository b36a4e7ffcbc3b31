//! Delivery errors. Every endpoint in them is the redacted one.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API said no (a 4xx, or Telegram's `"ok": false`); retrying will not help.
    #[error("{endpoint} rejected the message (HTTP {status}): {reason}")]
    Rejected {
        endpoint: String,
        status: u16,
        reason: String,
    },
    /// Still failing (5xx, 429 or no connection) after every attempt.
    #[error("{endpoint} failed after {attempts} attempts: {reason}")]
    GaveUp {
        endpoint: String,
        attempts: u32,
        reason: String,
    },
    #[error("`{program}` failed: {reason}")]
    Command { program: String, reason: String },
}
