//! The binary as a user runs it: a real process, real sockets, real files.

mod annotations;
mod auth;
mod bad_input;
mod check_config;
mod cli;
mod compare;
mod crash;
mod demo;
mod erase;
mod hardening;
mod judge_eval;
mod packaging;
mod quality;
mod serve_flags;
mod server;
mod tidy;
