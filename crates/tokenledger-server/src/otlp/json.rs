//! OTLP/JSON as senders really write it, made readable by the generated
//! serde code: the protobuf JSON mapping lets 64-bit integers travel as
//! strings or numbers and enums as names or numbers, while the generated
//! code accepts only one form of each.

use serde_json::Value;

/// 64-bit times the generated code reads only as strings.
const STRING_INTS: [&str; 3] = ["timeUnixNano", "startTimeUnixNano", "observedTimeUnixNano"];
/// Integers the generated code reads only as numbers.
const NUMBER_INTS: [&str; 6] = [
    "asInt",
    "count",
    "bucketCounts",
    "droppedAttributesCount",
    "flags",
    "zeroCount",
];

pub fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if STRING_INTS.contains(&key.as_str()) {
                    if let Value::Number(n) = v {
                        *v = Value::String(n.to_string());
                    }
                } else if NUMBER_INTS.contains(&key.as_str()) {
                    to_number(v);
                } else if key == "aggregationTemporality" {
                    enum_number(
                        v,
                        "AGGREGATION_TEMPORALITY_",
                        &["UNSPECIFIED", "DELTA", "CUMULATIVE"],
                    );
                } else if key == "severityNumber" {
                    to_number(v);
                } else {
                    normalize(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

fn to_number(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Ok(n) = s.trim().parse::<i64>() {
                *v = Value::from(n);
            } else if let Ok(n) = s.trim().parse::<u64>() {
                *v = Value::from(n);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_number),
        _ => {}
    }
}

fn enum_number(v: &mut Value, prefix: &str, names: &[&str]) {
    if let Value::String(s) = v {
        let bare = s.strip_prefix(prefix).unwrap_or(s);
        if let Some(i) = names.iter().position(|n| *n == bare) {
            *v = Value::from(i);
        }
    }
}

/// The generated code reads a metric's data (a flattened oneof) leniently:
/// a `sum` it cannot read becomes no data at all, silently. Each one is
/// read here on its own, so a malformed one is reported with its place.
pub fn check_metric_data(value: &Value) -> Result<(), String> {
    use opentelemetry_proto::tonic::metrics::v1::{
        ExponentialHistogram, Gauge, Histogram, Sum, Summary,
    };
    let list = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for (r, rm) in list(value, "resourceMetrics").iter().enumerate() {
        for (s, sm) in list(rm, "scopeMetrics").iter().enumerate() {
            for (m, metric) in list(sm, "metrics").iter().enumerate() {
                let place = format!("resourceMetrics[{r}].scopeMetrics[{s}].metrics[{m}]");
                let Some(object) = metric.as_object() else {
                    return Err(format!("{place} is not an object"));
                };
                for (key, data) in object {
                    let checked = match key.as_str() {
                        "sum" => serde_json::from_value::<Sum>(data.clone()).map(drop),
                        "gauge" => serde_json::from_value::<Gauge>(data.clone()).map(drop),
                        "histogram" => serde_json::from_value::<Histogram>(data.clone()).map(drop),
                        "exponentialHistogram" => {
                            serde_json::from_value::<ExponentialHistogram>(data.clone()).map(drop)
                        }
                        "summary" => serde_json::from_value::<Summary>(data.clone()).map(drop),
                        _ => Ok(()),
                    };
                    checked.map_err(|e| format!("{place}.{key}: {e}"))?;
                }
            }
        }
    }
    Ok(())
}
