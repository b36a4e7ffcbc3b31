//! The main chart as a PNG, for chat messages and `report --format png`.
//! It is the HTML report's SVG rasterized by resvg with a font compiled into
//! the binary, so the picture is the same on every machine and nothing is
//! read from the system or fetched at run time.

use resvg::{tiny_skia, usvg};
use std::sync::{Arc, OnceLock};
use tokenledger_core::query::GroupKey;
use tokenledger_core::report::ReportData;

/// DejaVu Sans (Bitstream Vera licence, see `fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const FONT_NAME: &str = "DejaVu Sans";
/// Twice the SVG's size: sharp on phone screens, still well under 1 MB.
const SCALE: f32 = 2.0;

/// The groupings [`main_chart_png`] draws from; ask the report engine for
/// them (beside any others) so it computes them in its one pass.
pub fn groupings() -> Vec<Vec<GroupKey>> {
    vec![vec![GroupKey::Hour, GroupKey::Model]]
}

#[derive(Debug)]
pub struct PngError(String);

impl std::fmt::Display for PngError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot draw the chart as PNG: {}", self.0)
    }
}

impl std::error::Error for PngError {}

/// Tokens over time by model ([`crate::html::main_chart_svg`]) as PNG bytes.
pub fn main_chart_png(data: &ReportData) -> Result<Vec<u8>, PngError> {
    svg_to_png(&crate::html::main_chart_svg(data))
}

/// Rasterizes any of this crate's SVG charts.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, PngError> {
    let options = usvg::Options {
        font_family: FONT_NAME.to_string(),
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| PngError(e.to_string()))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(SCALE)
        .ok_or_else(|| PngError("the chart has no size".to_string()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| PngError(format!("{}×{} is too large", size.width(), size.height())))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(SCALE, SCALE),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| PngError(e.to_string()))
}

/// The embedded font only: every family the SVG names resolves to it.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        db.set_sans_serif_family(FONT_NAME);
        Arc::new(db)
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn the_main_chart_is_a_png_of_the_svg_size_doubled() {
        let png = main_chart_png(&fixtures::week_by_day_model()).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR: width and height, big-endian, at bytes 16..24.
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(width, 1520);
    }

    #[test]
    fn text_is_drawn_with_the_embedded_font() {
        // The same chart without any text would leave far fewer dark pixels.
        let with_text = dark_pixels(&svg_to_png(&svg_text("Tokens per day")).unwrap());
        let without = dark_pixels(&svg_to_png(&svg_text("")).unwrap());
        assert!(with_text > without + 100, "{with_text} vs {without}");
    }

    #[test]
    fn an_empty_report_still_draws() {
        assert!(main_chart_png(&fixtures::empty_by_agent()).is_ok());
    }

    fn svg_text(text: &str) -> String {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"200\" height=\"40\" font-family=\"sans-serif\">\
             <rect width=\"200\" height=\"40\" fill=\"#fff\"/><text x=\"4\" y=\"24\" font-size=\"16\">{text}</text></svg>"
        )
    }

    fn dark_pixels(png: &[u8]) -> usize {
        let pixmap = tiny_skia::Pixmap::decode_png(png).unwrap();
        pixmap.pixels().iter().filter(|p| p.red() < 128).count()
    }
}
