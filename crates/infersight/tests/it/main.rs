//! The binary as a user runs it: a real process, real sockets, real files.

mod cli;
mod crash;
mod demo;
mod judge_eval;
mod packaging;
mod quality;
mod server;
mod tidy;
