//! `report.html` (placeholder until the renderer lands).
use super::Report;
/// Render the report as one self-contained HTML page.
pub fn render(report: &Report) -> String {
    format!(
        "<!doctype html><title>floodgate</title><p>{} records</p>",
        report.summary.records
    )
}
