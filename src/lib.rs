//! numbatch: bulk phone-number assignment.
//!
//! The pipeline, left to right: [`read`] → [`batch`] → [`validate`] →
//! [`queue`] → [`apply`] → [`report`], with the [`store`] (SQLite) and the
//! command line ([`cli`], [`cmd`]) at the edges. [`pipeline`] joins them.

pub mod apply;
pub mod batch;
pub mod cli;
pub mod cmd;
pub mod codes;
pub mod error;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod queue;
pub mod read;
pub mod report;
pub mod store;
pub mod testhook;
pub mod text;
pub mod timing;
pub mod validate;
