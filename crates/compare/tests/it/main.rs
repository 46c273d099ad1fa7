//! The compare crate's integration tests: calibration of its tests on simulated traffic.

mod calibration;
