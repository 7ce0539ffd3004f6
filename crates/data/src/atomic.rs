//! Files that appear whole or not at all: written beside their destination under a hidden
//! temporary name, synced, renamed into place, and the folder synced so the rename survives a
//! power cut. Dropped before [`PendingFile::commit`], the temporary file is removed and
//! whatever the destination held is untouched. Bundles, checkpoints, ONNX files, plots,
//! reports and the `.gnt`/`.pot`/`.inkd` writers all write through here.

use crate::DataError;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// A file being written in place of `dest`.
pub struct PendingFile {
    temp: NamedTempFile,
    dest: PathBuf,
}

impl PendingFile {
    /// A new empty temporary file in `dest`'s folder.
    pub fn create(dest: &Path) -> io::Result<Self> {
        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?
            .to_string_lossy();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(folder_of(dest))?;
        Ok(PendingFile {
            temp,
            dest: dest.to_path_buf(),
        })
    }

    /// The temporary file, to write (and seek) through.
    pub fn file(&self) -> io::Result<File> {
        self.temp.reopen()
    }

    /// Syncs the temporary file and renames it to the destination, readable as any file the
    /// user writes (temporary files are private).
    pub fn commit(self) -> io::Result<()> {
        let file = self.temp.as_file();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        file.sync_all()?;
        let dest = self.dest;
        self.temp.persist(&dest).map_err(|e| e.error)?;
        // Not every filesystem can sync a folder; the rename has happened either way.
        if let Ok(folder) = File::open(folder_of(&dest)) {
            let _ = folder.sync_all();
        }
        Ok(())
    }
}

/// A dataset writer's temporary file for `dest` and a handle to write it through, failures
/// naming `dest`.
pub(crate) fn pending_file(dest: &Path) -> Result<(File, PendingFile), DataError> {
    let io = |e| DataError::io(dest, e);
    let pending = PendingFile::create(dest).map_err(io)?;
    Ok((pending.file().map_err(io)?, pending))
}

/// Writes `bytes` to `path` atomically (see the module).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let pending = PendingFile::create(path)?;
    pending.file()?.write_all(bytes)?;
    pending.commit()
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_appears_whole_on_commit_and_not_at_all_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        std::fs::write(&path, b"old").unwrap();
        let pending = PendingFile::create(&path).unwrap();
        pending.file().unwrap().write_all(b"half").unwrap();
        drop(pending);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names = |d: &Path| std::fs::read_dir(d).unwrap().count();
        assert_eq!(names(dir.path()), 1, "the temporary file is gone");

        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(names(dir.path()), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        let missing = dir.path().join("no/such/folder/b.bin");
        assert!(write_atomically(&missing, b"x").is_err());
    }
}
