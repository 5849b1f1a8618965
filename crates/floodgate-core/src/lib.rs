//! floodgate-core: the pure engine (decode → formats → Request → engine → report).
pub mod request;
pub use request::{Format, Request};
