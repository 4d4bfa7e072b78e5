//! Provenance: what a result was made from, so it can be trusted and made again — SHA-256 of bytes,
//! the data files a run read (with counts), the versions of the dependencies compiled in, and the
//! platform. Training metadata, the classifier artifact and the web app's file list all use it.
//!
//! Imports: std, serde and sha2 only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The lock file this build was made from: the dependency versions come from here, so they are the
/// versions actually compiled in, not the ranges Cargo.toml allows.
const CARGO_LOCK: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"));

/// Dependencies whose versions decide the numbers a run produces.
const RECORDED: [&str; 10] = [
    "candle-core",
    "candle-nn",
    "candle-transformers",
    "tokenizers",
    "safetensors",
    "gemm",
    "serde_json",
    "linfa-logistic",
    "leptos",
    "wasm-bindgen",
];

/// Versions of the dependencies that matter for results, from the build's Cargo.lock.
pub fn dependency_versions() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut name: Option<&str> = None;
    for line in CARGO_LOCK.lines() {
        if line.starts_with("[[package]]") {
            name = None;
        } else if let Some(rest) = line.strip_prefix("name = ") {
            name = value_of(rest);
        } else if let (Some(n), Some(rest)) = (name, line.strip_prefix("version = ")) {
            if RECORDED.contains(&n) {
                if let Some(v) = value_of(rest) {
                    // Several versions of one crate can be locked; keep them all.
                    out.entry(n.to_string())
                        .and_modify(|e: &mut String| {
                            if !e.split(", ").any(|x| x == v) {
                                *e = format!("{e}, {v}");
                            }
                        })
                        .or_insert_with(|| v.to_string());
                }
            }
        }
    }
    out
}

fn value_of(quoted: &str) -> Option<&str> {
    quoted.split('"').nth(1)
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of some bytes (a digest).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A data file as used by a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    /// Role: `train`, `eval` or `test`.
    pub role: String,
    /// The file as the user named it.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: usize,
    /// Pairs read from it.
    pub pairs: usize,
    /// Pairs of it used in this role (after an eval split).
    pub used: usize,
    /// Bad records skipped while loading it (the CLI prints which and why).
    #[serde(default)]
    pub skipped: usize,
}

impl DataRecord {
    /// Describe `bytes` read from `file`.
    pub fn new(role: &str, file: &str, bytes: &[u8], pairs: usize, used: usize) -> Self {
        DataRecord {
            role: role.into(),
            file: file.into(),
            sha256: sha256_hex(bytes),
            bytes: bytes.len(),
            pairs,
            used,
            skipped: 0,
        }
    }

    /// The same record, noting `skipped` bad records.
    pub fn with_skipped(mut self, skipped: usize) -> Self {
        self.skipped = skipped;
        self
    }
}

/// Where a run happens: the build (`native` / `native-cuda` / `wasm`), OS, architecture and
/// threads. Callers add what only they know (the device).
pub fn platform(threads: usize) -> BTreeMap<String, String> {
    let kind = if cfg!(target_arch = "wasm32") {
        "wasm"
    } else if cfg!(feature = "cuda") {
        "native-cuda"
    } else {
        "native"
    };
    BTreeMap::from([
        ("build".to_string(), kind.to_string()),
        ("os".to_string(), std::env::consts::OS.to_string()),
        ("arch".to_string(), std::env::consts::ARCH.to_string()),
        ("threads".to_string(), threads.to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_lock_file() {
        let v = dependency_versions();
        assert_eq!(v["candle-core"], "0.11.1");
        assert_eq!(v["tokenizers"], "0.23.2");
        assert!(v.contains_key("linfa-logistic"));
    }

    #[test]
    fn sha256_of_known_input() {
        // printf abc | sha256sum
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
