//! Dates typed on the command line: read by `opencapf_cluster` (the REST API reads them the same).

pub(crate) use opencapf_cluster::{completes_by, parse_date};
