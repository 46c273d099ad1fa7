//! Integration tests of the rules crate: the default pack, evaluation
//! semantics, reload, the HTTP API and notifications, through the public API only.

mod api;
mod evaluation;
mod pack;
