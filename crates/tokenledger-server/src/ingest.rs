//! `POST /v1/events` bodies: a JSON array or NDJSON, each item a normalized
//! usage event (the ledger's line form) or a register entry in the seed's
//! line shape. Items are judged one by one: a bad item is rejected with its
//! reason and the others still count.

use serde_json::value::RawValue;
use tokenledger_core::event::UsageEvent;
use tokenledger_core::register::{ParsedLine, parse_line};

/// One item of a batch: the event it stands for, or why it was rejected.
pub type Item = Result<UsageEvent, String>;

/// Splits the body into items. Only a body that is not a batch at all (not
/// a JSON array, not UTF-8 NDJSON) is an error; that is the caller's 400.
pub fn parse_batch(body: &[u8], ndjson: bool) -> Result<Vec<Item>, String> {
    if ndjson {
        let text =
            std::str::from_utf8(body).map_err(|e| format!("the NDJSON body is not UTF-8: {e}"))?;
        return Ok(text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| parse_item(l.as_bytes()))
            .collect());
    }
    let trimmed = body.trim_ascii_start();
    if trimmed.first() == Some(&b'{') {
        return Err("the body is one JSON object; send a JSON array of events, or NDJSON with Content-Type: application/x-ndjson".into());
    }
    let items: Vec<&RawValue> = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not a JSON array of events: {e}"))?;
    Ok(items
        .iter()
        .map(|raw| parse_item(raw.get().as_bytes()))
        .collect())
}

/// A register line has `session_key`; anything else must be a whole event.
fn parse_item(bytes: &[u8]) -> Item {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
    let Some(object) = value.as_object() else {
        return Err("not a JSON object".into());
    };
    if object.contains_key("session_key") {
        return match parse_line(bytes) {
            ParsedLine::Entry(entry) => Ok(entry.into_event()),
            ParsedLine::Malformed(reason) => Err(reason),
            ParsedLine::Ignorable => Err("empty entry".into()),
        };
    }
    let event: UsageEvent = serde_json::from_value(value).map_err(|e| {
        format!("neither a register entry (no \"session_key\") nor a usage event: {e}")
    })?;
    validate(event)
}

fn validate(event: UsageEvent) -> Item {
    if event.session.trim().is_empty() {
        return Err("\"session\" is empty".into());
    }
    if event.agent_id.trim().is_empty() {
        return Err("\"agent_id\" is empty".into());
    }
    if let Some(cost) = event.reported_cost
        && !(cost.is_finite() && cost >= 0.0)
    {
        return Err(format!(
            "\"reported_cost\" {cost} is negative or not finite"
        ));
    }
    let keyed = event.dedupe_key.as_deref().is_some_and(|k| !k.is_empty());
    if !keyed && !event.source.is_session_level() {
        return Err(format!(
            "\"dedupe_key\" is required for {} events (only register and active events are identified by their session)",
            event.source
        ));
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"timestamp":"2026-03-01T10:00:00Z","source":"claude-code","agent_id":"main","session":"s1","model":"claude-sonnet-4-5","tokens":{"input":10,"output":5,"cache_read":0,"cache_write_5m":0,"cache_write_1h":0,"reasoning":0},"reported_cost":null,"task":null,"project":null,"dedupe_key":"cc:1"}"#;
    const LINE: &str = r#"{"timestamp":"2026-03-01T10:00:00Z","session_key":"k1","agent_id":"a","model":"m","tokens_input":1,"tokens_output":2}"#;

    #[test]
    fn reads_events_and_register_lines_item_by_item() {
        let body = format!("[{EVENT},{LINE},{{\"session_key\":\"\"}},42]");
        let items = parse_batch(body.as_bytes(), false).unwrap();
        assert_eq!(items.len(), 4);
        assert!(items[0].is_ok() && items[1].is_ok());
        assert!(items[2].as_ref().unwrap_err().contains("timestamp"));
        assert_eq!(items[3].as_ref().unwrap_err(), "not a JSON object");
        let nd = format!("{EVENT}\n\n{LINE}\n{{broken\n");
        let items = parse_batch(nd.as_bytes(), true).unwrap();
        assert_eq!(items.len(), 3);
        assert!(items[2].as_ref().unwrap_err().starts_with("invalid JSON"));
    }

    #[test]
    fn a_body_that_is_no_batch_is_an_error() {
        assert!(
            parse_batch(b"{}", false)
                .unwrap_err()
                .contains("one JSON object")
        );
        assert!(parse_batch(b"[1,", false).is_err());
        assert!(parse_batch(b"\xff\xfe", true).is_err());
        let unkeyed = EVENT.replace(r#""dedupe_key":"cc:1""#, r#""dedupe_key":null"#);
        let items = parse_batch(format!("[{unkeyed}]").as_bytes(), false).unwrap();
        assert!(items[0].as_ref().unwrap_err().contains("dedupe_key"));
    }
}
