//! The report: one serialisable model, rendered as JSON, Markdown and HTML.
//!
//! [`Report::build`] gathers everything a reviewer needs from the configuration, the state
//! (its last run) and the decision. The JSON form is the contract (schema in
//! docs/report-schema.md, versioned by [`SCHEMA`]); Markdown ([`markdown`]) and HTML ([`html`])
//! render the same model. Everything that came from logs is attacker-controlled and is escaped
//! by the renderers.

mod build;
mod csp;
pub mod html;
mod html_attack;
pub mod markdown;
mod model;
pub mod notice;
mod svg;
pub mod text;

pub use model::*;

/// Schema identifier of `report.json`. Bumped on any incompatible change.
pub const SCHEMA: &str = "floodgate-report/2";

/// How many top paths and user agents a ban shows.
pub const TOP_N: usize = 5;

/// Bans shown in detail in report.html and report.md (the most severe; all are in report.json).
pub const DETAIL_BANS: usize = 300;
/// Entries of long lists (blocklist, dropped, changes, files) shown in the HTML page.
pub const HTML_LIST: usize = 1000;

/// `300000` → `5m`.
pub fn human_duration(ms: i64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(ms.max(0) as u64))
        .to_string()
        .replace(' ', "")
}

impl Report {
    /// `report.json`: compact (one line; at 40,000 bans indentation alone would be a third of
    /// the file, written on every Lambda run that reports). `jq .` pretty-prints it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("report serialises") + "\n"
    }

    /// The files of a run, `(name, content type, text)`: the same set for the CLI's `--out`
    /// and the Lambda's reports prefix.
    pub fn files(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![
            ("report.json", "application/json", self.to_json()),
            (
                "report.md",
                "text/markdown; charset=utf-8",
                markdown::render(self),
            ),
            (
                "report.html",
                "text/html; charset=utf-8",
                html::render(self),
            ),
            (
                "blocklist-ipv4.txt",
                "text/plain; charset=utf-8",
                Report::blocklist_text(&self.blocklist.ipv4),
            ),
            (
                "blocklist-ipv6.txt",
                "text/plain; charset=utf-8",
                Report::blocklist_text(&self.blocklist.ipv6),
            ),
        ]
    }

    /// A blocklist file: one CIDR a line, sorted, newline-terminated (empty when none).
    pub fn blocklist_text(entries: &[String]) -> String {
        entries.iter().map(|e| format!("{e}\n")).collect()
    }
}
