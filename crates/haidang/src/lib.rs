//! The pieces of the `haidang` binary, as a library so that integration tests and the
//! benchmark harness start the same server the binary does.

pub mod backup;
pub mod config;
pub mod demo;
pub mod demo_reports;
pub mod import;
pub mod jobs;
pub mod mqtt;
pub mod server;
pub mod simulator;
