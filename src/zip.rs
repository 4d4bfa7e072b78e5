//! A minimal zip writer for the browser's "download the model" button: stored entries (no
//! compression — safetensors weights do not compress, and storing keeps a 90 MB export instant),
//! CRC-32, a fixed 1980-01-01 timestamp so the same files give the same bytes. Readable by
//! Python's `zipfile`, `unzip` and every archive tool; no zip64, so each file and the whole archive
//! must stay under 4 GiB (all-mpnet-base-v2 is 438 MB).

use crate::error::{Error, Result};

/// CRC-32 (IEEE 802.3, the zip polynomial), table-driven.
pub fn crc32(bytes: &[u8]) -> u32 {
    const fn table() -> [u32; 256] {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    }
    static TABLE: [u32; 256] = table();
    let mut c = !0u32;
    for &b in bytes {
        c = TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// MS-DOS time and date of 1980-01-01 00:00 (the format's epoch).
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

/// Zip `files` (path inside the archive, bytes), in the given order. Paths use `/` and must be
/// relative; folders are implied by the paths.
pub fn zip_stored(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    let too_big = |what: &str| {
        Error::Invalid(format!(
            "zip: {what} exceeds 4 GiB (zip64 is not supported)"
        ))
    };
    let total: usize = files.iter().map(|(n, b)| 30 + n.len() + b.len()).sum();
    let mut out = Vec::with_capacity(total + files.len() * 64 + 22);
    let mut central = Vec::new();
    for (name, bytes) in files {
        if name.is_empty() || name.starts_with('/') || name.contains('\\') || name.contains("..") {
            return Err(Error::Invalid(format!("zip: bad entry name `{name}`")));
        }
        let size = u32::try_from(bytes.len()).map_err(|_| too_big(name))?;
        let offset = u32::try_from(out.len()).map_err(|_| too_big("the archive"))?;
        let crc = crc32(bytes);
        let name_len = u16::try_from(name.len()).map_err(|_| too_big(name))?;
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
        out.extend_from_slice(&(1u16 << 11).to_le_bytes()); // flags: UTF-8 names
        out.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        out.extend_from_slice(&DOS_TIME.to_le_bytes());
        out.extend_from_slice(&DOS_DATE.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes()); // compressed
        out.extend_from_slice(&size.to_le_bytes()); // uncompressed
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra length
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(bytes);
        // Central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by: Unix, 2.0
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&(1u16 << 11).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&DOS_TIME.to_le_bytes());
        central.extend_from_slice(&DOS_DATE.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&name_len.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(0o100644u32 << 16).to_le_bytes()); // rw-r--r-- file
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let entries = u16::try_from(files.len())
        .map_err(|_| Error::Invalid("zip: more than 65535 files".into()))?;
    let cd_offset = u32::try_from(out.len()).map_err(|_| too_big("the archive"))?;
    let cd_size = central.len() as u32;
    out.extend_from_slice(&central);
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

/// The entries of a zip written by [`zip_stored`] (stored entries only): name and bytes, with the
/// CRC checked. Used by the tests and by the app to read back a dropped export.
pub fn unzip_stored(zip: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let bad = |why: &str| Error::Invalid(format!("zip: {why}"));
    let u16_at = |i: usize| -> Result<u16> {
        zip.get(i..i + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(|| bad("truncated"))
    };
    let u32_at = |i: usize| -> Result<u32> {
        zip.get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| bad("truncated"))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while u32_at(i)? == 0x0403_4b50 {
        if u16_at(i + 8)? != 0 {
            return Err(bad("compressed entries are not supported"));
        }
        let crc = u32_at(i + 14)?;
        let size = u32_at(i + 18)? as usize;
        let name_len = u16_at(i + 26)? as usize;
        let extra = u16_at(i + 28)? as usize;
        let name_start = i + 30;
        let data_start = name_start + name_len + extra;
        let name = zip
            .get(name_start..name_start + name_len)
            .ok_or_else(|| bad("truncated"))?;
        let name = String::from_utf8(name.to_vec()).map_err(|_| bad("entry name not UTF-8"))?;
        let data = zip
            .get(data_start..data_start + size)
            .ok_or_else(|| bad("truncated"))?;
        if crc32(data) != crc {
            return Err(bad(&format!("{name}: CRC mismatch")));
        }
        out.push((name, data.to_vec()));
        i = data_start + size;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC catalogue's check value for CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

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
        corrupt[30 + "config.json".len()] ^= 1;
        assert!(unzip_stored(&corrupt)
            .unwrap_err()
            .to_string()
            .contains("config.json: CRC mismatch"));
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
