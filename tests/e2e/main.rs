//! End-to-end tests: each starts the real `vigil` binary and talks to it the way
//! agents, SDKs and incident responders do.

mod api;
mod auth;
mod bad_input;
mod captures;
mod cli;
mod compaction;
mod corruption;
mod crash;
mod dashboard;
mod disk;
mod findings;
mod harness;
mod memory;
mod otlp_clients;
mod pg;
mod restart;
mod scenarios;
mod slow_clients;
mod tls;
