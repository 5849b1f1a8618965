//! A guide to the code: where each thing lives and where a new one goes. The long form, with
//! the other crates, is `docs/architecture.md`; this copy lives in rustdoc so that every link
//! below is checked by `cargo doc` with warnings as errors (the gates).
//!
//! # The path of a log line
//!
//! 1. [`decode::open`] sniffs gzip and streams every member; [`decode::CappedReader`] stops a
//!    gzip bomb.
//! 2. [`lines::LineReader`] splits lines with the length cap enforced while reading.
//! 3. [`formats::LineParser`] detects the format from the first line (the most confident
//!    [`formats::LogFormat`] in [`formats::REGISTRY`]) and turns each line into
//!    [`Request`](crate::Request)s, or a [`Reject`](crate::Reject) with a reason.
//! 4. [`ingest::read_log`] drives 1–3 for one object; [`pipeline::read_object`] adds the
//!    counting into a [`tally::Tally`] (the map step, any order, any concurrency).
//! 5. [`engine::run`] absorbs tallies into the [`state::State`], finds offences
//!    ([`window`]), replays bans ([`decision`]), groups networks ([`ranges`]), decides and
//!    settles (the reduce step, time passed in).
//! 6. [`report::Report`] is built from the state and the [`decision::Decision`];
//!    [`explain::explain`] gives the evidence for one address.
//!
//! # Where a new thing goes
//!
//! * **A log format**: one file in `formats/` implementing [`formats::LogFormat`] (and a
//!   [`formats::FileParser`] for per-file state), plus one line in [`formats::REGISTRY`]. A
//!   log type floodgate recognises but does not read goes into [`formats::unsupported`].
//! * **A rule filter or ban behaviour**: the module that states its semantics at its top
//!   ([`rules`], [`window`], [`decision`], [`ranges`]), its key in [`config`], and its default
//!   in `config/default-config.toml`, the only place defaults live.
//! * **A sink** (somewhere committed decisions go) is not in this crate: a file in
//!   `floodgate-aws/src/sinks/` implementing `DecisionSink`, listed by the Lambda
//!   (`floodgate-lambda/src/delivery.rs`) and the CLI's `sync`.
//! * **A Lambda trigger**: a recogniser in `floodgate-lambda/src/events/`; exactly-once ids for
//!   streams are kept in [`state::streams`].

// In scope for the links above (rustdoc resolves them from this module).
#[allow(unused_imports)]
use crate::{
    config, decision, decode, engine, explain, formats, ingest, lines, pipeline, ranges, report,
    rules, state, tally, window,
};
