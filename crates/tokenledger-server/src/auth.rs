//! Who may do what: bearer tokens from `[[server.token]]`, kept as SHA-256
//! hashes; a token's scope (write, read, both) and agent prefix; and a
//! token-bucket rate limit per token (per peer address when unauthenticated).

use crate::error::{ApiError, ServerError};
use axum::http::{HeaderMap, StatusCode, header};
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;
use tokenledger_core::server_config::{ServerConfig, TokenConfig};

/// The hex SHA-256 of a token: what `[[server.token]] sha256` holds.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.trim().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Write,
    Read,
}

/// Who a request is from, once admitted.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Agents this caller may write and read: those whose id starts with it.
    pub prefix: Option<String>,
}

pub struct Auth {
    tokens: Vec<TokenConfig>,
    rate: f64,
    burst: f64,
    buckets: Mutex<FxHashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Peers remembered by the rate limiter before it forgets idle ones.
const MAX_BUCKETS: usize = 10_000;

impl Auth {
    pub fn new(config: &ServerConfig) -> Result<Auth, ServerError> {
        let mut tokens = config.tokens.clone();
        for token in &mut tokens {
            token.sha256 = token.sha256.trim().to_ascii_lowercase();
            let valid =
                token.sha256.len() == 64 && token.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !valid {
                return Err(ServerError::Config(format!(
                    "[[server.token]] {:?}: sha256 must be 64 hex digits (tokenledger serve hash-token TOKEN)",
                    token.name
                )));
            }
        }
        Ok(Auth {
            tokens,
            rate: config.rate_per_second,
            burst: config.rate_burst.max(1.0),
            buckets: Mutex::new(FxHashMap::default()),
        })
    }

    pub fn is_open(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Admits the request or says why not (401, 403, 429).
    pub fn check(
        &self,
        headers: &HeaderMap,
        need: Need,
        peer: SocketAddr,
    ) -> Result<Principal, ApiError> {
        if self.tokens.is_empty() {
            self.take(&format!("peer:{}", peer.ip()))?;
            return Ok(Principal { prefix: None });
        }
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "missing bearer token (Authorization: Bearer TOKEN)",
                )
            })?;
        let hash = hash_token(presented);
        let token = self
            .tokens
            .iter()
            .find(|t| t.sha256 == hash)
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unknown bearer token"))?;
        let allowed = match need {
            Need::Write => token.scope.may_write(),
            Need::Read => token.scope.may_read(),
        };
        if !allowed {
            let what = if need == Need::Write { "write" } else { "read" };
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "token {:?} may not {what} (scope {:?})",
                    token.name, token.scope
                ),
            ));
        }
        self.take(&format!("token:{}", token.name))?;
        Ok(Principal {
            prefix: token.prefix.clone().filter(|p| !p.is_empty()),
        })
    }

    /// One request from `who`'s bucket, refilled at the configured rate.
    fn take(&self, who: &str) -> Result<(), ApiError> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(who) {
            // Idle buckets are full anyway: forgetting them changes nothing.
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(who.to_string()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens < 1.0 {
            let wait = ((1.0 - bucket.tokens) / self.rate).ceil().max(1.0);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "rate limit of {} requests/s exceeded; retry in {wait} s",
                    self.rate
                ),
            ));
        }
        bucket.tokens -= 1.0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenledger_core::server_config::TokenScope;

    fn auth(rate: f64, burst: f64) -> Auth {
        let config = ServerConfig {
            rate_per_second: rate,
            rate_burst: burst,
            tokens: vec![TokenConfig {
                name: "ci".into(),
                sha256: hash_token("s3cret"),
                scope: TokenScope::Write,
                prefix: Some("team-a/".into()),
            }],
            ..ServerConfig::default()
        };
        Auth::new(&config).unwrap()
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        headers
    }

    #[test]
    fn tokens_scopes_and_rates() {
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let auth = auth(1.0, 2.0);
        let status = |r: Result<Principal, ApiError>| r.err().map(|e| e.status.as_u16());
        assert_eq!(
            status(auth.check(&HeaderMap::new(), Need::Write, peer)),
            Some(401)
        );
        assert_eq!(
            status(auth.check(&bearer("nope"), Need::Write, peer)),
            Some(401)
        );
        assert_eq!(
            status(auth.check(&bearer("s3cret"), Need::Read, peer)),
            Some(403)
        );
        let ok = auth.check(&bearer("s3cret"), Need::Write, peer).unwrap();
        assert_eq!(ok.prefix.as_deref(), Some("team-a/"));
        assert!(auth.check(&bearer("s3cret"), Need::Write, peer).is_ok());
        assert_eq!(
            status(auth.check(&bearer("s3cret"), Need::Write, peer)),
            Some(429)
        );
    }

    #[test]
    fn a_malformed_hash_is_a_config_error() {
        let config = ServerConfig {
            tokens: vec![TokenConfig {
                name: "x".into(),
                sha256: "abc".into(),
                scope: TokenScope::Both,
                prefix: None,
            }],
            ..ServerConfig::default()
        };
        assert!(Auth::new(&config).is_err());
    }
}
