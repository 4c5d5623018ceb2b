//! The database behind the store. Only SQLite today ([`sqlite`]); a PostgreSQL module can slot in
//! beside it, exporting the same names, with the repository modules unchanged except for SQL
//! dialect details (placeholders are `?` today).

mod sqlite;

pub(crate) use sqlite::{begin_write, connect, Backend, Connection, Pool};
