//! File modes of the data folder: the database holds pending authentication strings and the
//! audit log, so only the cluster's owner may read it. The folder is 0700 and `cluster.db`, its
//! `-wal` and `-shm` are 0600. SQLite gives the `-wal` and `-shm` files it creates the mode of the
//! database file, so a database created 0600 keeps them 0600.

use std::fs::{self, OpenOptions, Permissions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::{Database, Result, StoreError};

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Makes `data_dir` 0700 (creating it).
pub(crate) fn prepare_folder(data_dir: &Path) -> Result<()> {
    fs::create_dir_all(data_dir).map_err(StoreError::io(format!("creating {}", data_dir.display())))?;
    fs::set_permissions(data_dir, Permissions::from_mode(DIR_MODE))
        .map_err(StoreError::io(format!("securing {}", data_dir.display())))
}

/// Creates an empty SQLite file 0600 (SQLite takes an empty file as a new database), so that the
/// file is never readable by others, not even for a moment.
pub(crate) fn prepare_file(db: &Path) -> Result<()> {
    match OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(db) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::io(format!("creating {}", db.display()))(e)),
    }
}

/// Narrows the folder and the database files to 0700 / 0600 where they are wider (a cluster made
/// by an older version). Best effort: a folder the user may read but not change stays as it is.
pub(crate) fn tighten(data_dir: &Path, database: &Database) {
    narrow(data_dir, DIR_MODE);
    if let Database::Sqlite(file) = database {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = file.clone().into_os_string();
            name.push(suffix);
            narrow(Path::new(&name), FILE_MODE);
        }
    }
}

fn narrow(path: &Path, mode: u32) {
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o777 & !mode != 0 {
            let _ = fs::set_permissions(path, Permissions::from_mode(mode));
        }
    }
}
