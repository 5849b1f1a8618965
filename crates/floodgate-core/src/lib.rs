//! floodgate-core: the pure engine of floodgate.
//!
//! Data flows one way: bytes → [`decode`] → [`lines`] → [`formats`] → [`Request`] → engine →
//! decision → report. Nothing here does I/O beyond `Read`/`Write`, reads the clock, or knows AWS:
//! the CLI and the Lambda both drive this crate with the same calls. Start with [`_guide`].

pub mod _guide;
pub mod client_ip;
pub mod config;
pub mod decision;
pub mod decode;
pub mod engine;
pub mod evidence;
pub mod explain;
pub mod explain_json;
pub mod features;
pub mod formats;
pub mod history;
pub mod ingest;
pub mod ingest_par;
pub mod key;
pub mod keymap;
pub mod lateness;
pub mod lines;
pub mod manual;
pub mod near_miss;
pub mod partial;
pub mod paths;
pub mod pipeline;
pub mod ranges;
pub mod reject;
pub mod report;
pub mod request;
pub mod rules;
pub mod sketch;
pub mod state;
pub mod surge;
pub mod tally;
pub mod timefmt;
pub mod ua;
pub mod window;

pub use client_ip::ClientIpSource;
pub use formats::decode_for_display;
pub use ingest::{read_log, FileSummary, IngestError, IngestOptions};
pub use ingest_par::{read_log_par, Parallel};
pub use reject::{Reject, RejectReason, RejectStats};
pub use request::{Format, Request};
