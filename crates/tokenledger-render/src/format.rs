//! A plain (not daily) report in each of its formats, and the extra
//! groupings each format's charts draw: one table for the CLI's `report`
//! and the collector's `GET /v1/report?format=…`, so both render alike.

use crate::text::TextStyle;
use tokenledger_core::query::GroupKey;
use tokenledger_core::report::ReportData;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    Csv,
    Markdown,
    Html,
    Png,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 6] = [
        ReportFormat::Text,
        ReportFormat::Json,
        ReportFormat::Csv,
        ReportFormat::Markdown,
        ReportFormat::Html,
        ReportFormat::Png,
    ];

    /// The name the CLI's `--format` and the collector's `format=` use.
    pub fn name(self) -> &'static str {
        match self {
            ReportFormat::Text => "text",
            ReportFormat::Json => "json",
            ReportFormat::Csv => "csv",
            ReportFormat::Markdown => "markdown",
            ReportFormat::Html => "html",
            ReportFormat::Png => "png",
        }
    }

    pub fn parse(name: &str) -> Option<ReportFormat> {
        ReportFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Text => "text/plain; charset=utf-8",
            ReportFormat::Json => "application/json",
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Markdown => "text/markdown; charset=utf-8",
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Png => "image/png",
        }
    }

    /// The groupings the format's charts draw from, computed in the same
    /// pass as the report's own (the daily digest has its own charts).
    pub fn chart_groupings(self, daily: bool) -> Vec<Vec<GroupKey>> {
        match self {
            ReportFormat::Text if !daily => crate::text::chart_groupings(),
            ReportFormat::Html => crate::html::groupings(),
            ReportFormat::Png => crate::png::groupings(),
            _ => Vec::new(),
        }
    }

    /// The report rendered; only a chart that cannot be drawn fails.
    pub fn render(
        self,
        data: &ReportData,
        style: &TextStyle,
    ) -> Result<Vec<u8>, crate::png::PngError> {
        Ok(match self {
            ReportFormat::Text => crate::text::render(data, style).into_bytes(),
            ReportFormat::Json => crate::json::render(data).into_bytes(),
            ReportFormat::Csv => crate::csv::render(data).into_bytes(),
            ReportFormat::Markdown => crate::markdown::render(data).into_bytes(),
            ReportFormat::Html => crate::html::render(data).into_bytes(),
            ReportFormat::Png => crate::png::main_chart_png(data)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ReportFormat;

    #[test]
    fn names_round_trip() {
        for format in ReportFormat::ALL {
            assert_eq!(ReportFormat::parse(format.name()), Some(format));
        }
        assert_eq!(ReportFormat::parse("pdf"), None);
    }
}
