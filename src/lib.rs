//! Billy Edge core: every money rule of the billing API as pure functions, compiled to wasm for the worker.
//!
//! Each module holds one concept and its tests; [`boundary`] is the only module that knows JavaScript.
//! Nothing here reads the clock (`now` comes from the host) and nothing panics on input: every rule returns
//! [`error::CoreError`], which crosses into JS as an `Error` with `code`, `status` and `field`.

pub mod application;
pub mod balance;
pub mod batch;
pub mod boundary;
pub mod checkout;
pub mod company;
pub mod coupon;
pub mod credit;
pub mod customer;
pub mod error;
pub mod escrow;
pub mod hosted_invoice;
pub mod ids;
pub mod input;
pub mod invoice;
pub mod json;
pub mod keys;
pub mod ledger;
pub mod limits;
pub mod list;
pub mod metadata;
pub mod money;
pub mod names;
pub mod next_invoice;
pub mod plan;
pub mod plan_change;
pub mod proration;
pub mod retry;
pub mod schedule;
pub mod sorted;
pub mod stripe;
pub mod subscription;
pub mod time;
pub mod to_json;
pub mod transaction;
pub mod usage;
pub mod usage_ingest;
pub mod webhook;

#[cfg(test)]
mod testutil;
