//! The zipped export of the browser's "download the model" button: the `zip` crate (already in
//! the build through candle) writing stored entries — no compression: safetensors weights do not
//! compress, and storing keeps a 90 MB export instant — with a fixed 1980-01-01 timestamp, so the
//! same files give the same bytes. Python's `zipfile`, `unzip` and every archive tool read it.
//!
//! Imports: the zip crate and the crate's error type.

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::error::{Error, Result};

fn zip_error(e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("zip: {e}"))
}

/// Zip `files` (path inside the archive, bytes), in the given order. Paths use `/` and must be
/// relative; folders are implied by the paths. Files over 4 GiB get zip64 records.
pub fn zip_stored(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    let total: usize = files.iter().map(|(n, b)| 100 + 2 * n.len() + b.len()).sum();
    let mut w = ZipWriter::new(Cursor::new(Vec::with_capacity(total + 22)));
    for (name, bytes) in files {
        if name.is_empty() || name.starts_with('/') || name.contains('\\') || name.contains("..") {
            return Err(Error::Invalid(format!("zip: bad entry name `{name}`")));
        }
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(DateTime::default())
            .unix_permissions(0o644)
            .large_file(bytes.len() as u64 >= u32::MAX as u64);
        w.start_file(name.as_str(), options).map_err(zip_error)?;
        w.write_all(bytes).map_err(zip_error)?;
    }
    Ok(w.finish().map_err(zip_error)?.into_inner())
}

/// Read every entry of a zip archive (path, bytes), in archive order; a CRC mismatch is an error.
pub fn unzip_stored(zip: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).map_err(zip_error)?;
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).map_err(zip_error)?;
            let name = f.name().map_err(zip_error)?.to_string();
            let mut bytes = Vec::with_capacity(f.size() as usize);
            f.read_to_end(&mut bytes)
                .map_err(|e| zip_error(format!("{name}: {e}")))?;
            Ok((name, bytes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_deterministic() {
        let files = vec![
            ("config.json".to_string(), b"{\"a\": 1}".to_vec()),
            ("1_Pooling/config.json".to_string(), b"{}".to_vec()),
            ("empty.txt".to_string(), Vec::new()),
        ];
        let z = zip_stored(&files).unwrap();
        assert_eq!(unzip_stored(&z).unwrap(), files);
        assert_eq!(zip_stored(&files).unwrap(), z);
        let mut corrupt = z.clone();
        // The first entry's data follows its 30-byte local header and name.
        corrupt[30 + "config.json".len()] ^= 1;
        assert!(
            unzip_stored(&corrupt).is_err(),
            "a CRC mismatch is an error"
        );
        assert!(zip_stored(&[("../x".into(), vec![])]).is_err());
    }

    /// Python's zipfile (the reader sentence-transformers users have) lists and checks the archive.
    #[test]
    fn python_zipfile_reads_it() {
        let Ok(py) = std::process::Command::new("python3")
            .arg("--version")
            .output()
        else {
            return; // no Python on this machine: the round trip above still holds
        };
        assert!(py.status.success());
        let files = vec![
            (
                "model/config.json".to_string(),
                b"{\"hidden_size\": 8}".to_vec(),
            ),
            (
                "model/model.safetensors".to_string(),
                (0..=255u8).cycle().take(100_000).collect(),
            ),
        ];
        let path = std::env::temp_dir().join(format!("ticketsim-zip-{}.zip", std::process::id()));
        std::fs::write(&path, zip_stored(&files).unwrap()).unwrap();
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(';'.join(f'{i.filename}:{i.file_size}' for i in z.infolist()))",
            ])
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "model/config.json:18;model/model.safetensors:100000"
        );
    }
}
