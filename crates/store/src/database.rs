//! Where the cluster database is: a SQLite file (the default, `cluster.db` in the data folder, no
//! setup) or a PostgreSQL database shared by the nodes of a cluster (`--database URL`).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::{Result, StoreError, DB_FILE};

/// The cluster database's location. `Display` and `Debug` hide a PostgreSQL password.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user:password@host:5432/name?sslmode=…`).
    Postgres(String),
}

impl Database {
    /// The default: `cluster.db` in the data folder.
    pub fn in_folder(data_dir: &Path) -> Database {
        Database::Sqlite(data_dir.join(DB_FILE))
    }

    /// `url` when given (`--database`), else the default in `data_dir`.
    pub fn resolve(url: Option<&str>, data_dir: &Path) -> Result<Database> {
        match url {
            Some(u) => Database::parse(u),
            None => Ok(Database::in_folder(data_dir)),
        }
    }

    /// Reads `postgres://…` / `postgresql://…` or `sqlite://PATH` / `sqlite:PATH`.
    pub fn parse(url: &str) -> Result<Database> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() || path.contains('?') {
                return Err(StoreError::Invalid(format!(
                    "{url:?}: a SQLite database is `sqlite://PATH` (a file path, no options)"
                )));
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        Err(StoreError::Invalid(format!(
            "{}: the database is `postgres://USER:PASSWORD@HOST:PORT/NAME` or `sqlite://PATH`",
            redact(url)
        )))
    }

    /// Whether a complete `init` made a cluster in this database.
    pub async fn holds_cluster(&self) -> Result<bool> {
        crate::backend::exists(self, true).await
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Database::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
}

/// The URL with the password of its user part (`user:password@`) replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_and_passwords_never_shown() {
        let pg = Database::parse("postgres://capf:s3cret@db.example:5432/cluster?sslmode=require").unwrap();
        assert!(pg.is_postgres());
        assert_eq!(pg.to_string(), "postgres://capf:***@db.example:5432/cluster?sslmode=require");
        assert!(!format!("{pg:?}").contains("s3cret"));
        assert_eq!(Database::parse("sqlite:///srv/c.db").unwrap(), Database::Sqlite("/srv/c.db".into()));
        assert_eq!(Database::parse("sqlite:rel.db").unwrap(), Database::Sqlite("rel.db".into()));
        let err = Database::parse("mysql://u:pw@h/d").unwrap_err().to_string();
        assert!(err.contains("postgres://") && !err.contains("pw@"), "{err}");
        assert!(Database::parse("sqlite://").is_err());
    }
}
