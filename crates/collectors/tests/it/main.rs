//! Integration tests of the collectors crate, through its public API only.

mod local;
mod scrape;
