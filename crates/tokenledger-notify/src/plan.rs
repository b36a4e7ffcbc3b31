//! What one channel will do with one message: a list of steps that can be
//! printed (`--dry-run`) or executed.

use crate::Secret;
use crate::error::Error;
use crate::http::{Client, Request};
use crate::openclaw::Invocation;

#[derive(Debug, Clone)]
pub enum Step {
    Http(Request),
    Command(Invocation),
}

#[derive(Debug, Clone)]
pub struct Plan {
    /// `telegram`, `discord`, `slack` or `openclaw:<channel>:<target>`.
    pub channel: String,
    pub steps: Vec<Step>,
    /// Scrubbed from every error this plan produces.
    pub secrets: Vec<Secret>,
    /// Said once in the dry run and after sending (e.g. Slack cannot take files).
    pub notes: Vec<String>,
}

impl Plan {
    /// The exact payloads, each headed by its channel and position.
    pub fn dry_run(&self) -> String {
        let total = self.steps.len();
        let mut out = String::new();
        for (i, step) in self.steps.iter().enumerate() {
            let body = match step {
                Step::Http(request) => request.describe(),
                Step::Command(invocation) => invocation.describe(),
            };
            out.push_str(&format!("--- {} {}/{total}\n{body}\n", self.channel, i + 1));
        }
        for note in &self.notes {
            out.push_str(&format!("--- {} note: {note}\n", self.channel));
        }
        crate::scrub(&out, &self.secrets)
    }

    /// Runs every step in order and stops at the first failure: later pieces
    /// of a split report would make no sense without the earlier ones.
    /// Returns how many steps were delivered.
    pub fn execute(&self, client: &Client) -> Result<usize, Error> {
        for step in &self.steps {
            match step {
                Step::Http(request) => client.send(request, &self.secrets)?,
                Step::Command(invocation) => invocation.run(&self.secrets)?,
            }
        }
        Ok(self.steps.len())
    }
}
