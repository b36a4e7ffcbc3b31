//! CSV for spreadsheets and scripts: one header, one line per row, then a
//! `TOTAL` line. Numbers are plain (no separators) so they parse as numbers.

use crate::fmt::round_dp;
use ::csv::{Terminator, WriterBuilder};
use tokenledger_core::aggregate::Measures;
use tokenledger_core::report::ReportData;

const MEASURES: [&str; 9] = [
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "total_tokens",
    "cost_usd",
    "sessions",
    "events",
    "unpriced_models",
];

/// Header = group key names then [`MEASURES`]; an unpriced row has an empty
/// `cost_usd` and its models in `unpriced_models`, joined by `;`.
///
/// With no group keys there is no key column to hold the `TOTAL` label, and
/// the only row would repeat the totals, so the output is the header and one
/// line of totals.
pub fn render(data: &ReportData) -> String {
    let keys = data.group_by();
    let mut writer = WriterBuilder::new()
        .terminator(Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let header = keys.iter().map(|k| k.name()).chain(MEASURES);
    // Writing to a Vec cannot fail.
    writer.write_record(header).expect("write to memory");
    if !keys.is_empty() {
        for row in data.rows() {
            let record = row
                .keys
                .iter()
                .map(|(_, v)| v.clone())
                .chain(measure_fields(&row.measures));
            writer.write_record(record).expect("write to memory");
        }
    }
    let labels = keys
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { "TOTAL" } else { "" }.to_string());
    writer
        .write_record(labels.chain(measure_fields(&data.totals)))
        .expect("write to memory");
    let bytes = writer.into_inner().expect("flush to memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

fn measure_fields(m: &Measures) -> [String; 9] {
    let cost = match m.cost_usd {
        Some(c) if m.unpriced_models.is_empty() => round_dp(c, 6).to_string(),
        _ => String::new(),
    };
    [
        m.tokens.input.to_string(),
        m.tokens.output.to_string(),
        m.tokens.cache_read.to_string(),
        m.tokens.cache_write().to_string(),
        m.tokens.total().to_string(),
        cost,
        m.sessions.to_string(),
        m.events.to_string(),
        m.unpriced_models.join(";"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn week_by_day_and_model() {
        insta::assert_snapshot!(render(&fixtures::week_by_day_model()), @"
            day,model,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd,sessions,events,unpriced_models
            2026-02-02,claude-sonnet-4-5,1200,340,50000,3000,54540,0.0123,1,1,
            2026-02-02,glm-4.7,5000,2000,0,0,7000,0.0007,1,1,
            2026-02-03,claude-sonnet-4-5,5000,1600,0,0,6600,0.039,2,2,
            2026-02-05,mystery-model-9,10,5,0,0,15,,1,1,mystery-model-9
            TOTAL,,11210,3945,50000,3000,68155,,4,5,mystery-model-9
            ");
    }

    #[test]
    fn totals_only() {
        insta::assert_snapshot!(render(&fixtures::seed_day()), @"
            input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd,sessions,events,unpriced_models
            16200,3300,0,0,19500,0.0855,2,2,
            ");
    }

    #[test]
    fn empty_report_still_has_header_and_total() {
        insta::assert_snapshot!(render(&fixtures::empty_by_agent()), @"
            agent,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd,sessions,events,unpriced_models
            TOTAL,0,0,0,0,0,0,0,0,
            ");
    }

    #[test]
    fn awkward_names_are_quoted() {
        let mut data = fixtures::empty_by_agent();
        let m = fixtures::measures(1, 2, Some(1e-7), 1);
        data.groupings[0].1.push(fixtures::row(
            &[(tokenledger_core::query::GroupKey::Agent, "a,\"b\"")],
            m,
        ));
        let out = render(&data);
        assert!(
            out.lines()
                .nth(1)
                .unwrap()
                .starts_with("\"a,\"\"b\"\"\",1,2,0,0,3,0,1,1,"),
            "{out}"
        );
        assert!(out.ends_with('\n'));
    }
}
