//! `report.md` (placeholder until the renderer lands).
use super::Report;
/// Render the report as Markdown.
pub fn render(report: &Report) -> String {
    format!("# floodgate report\n\n{} records\n", report.summary.records)
}
