//! The native edge: reading model folders and data files from disk, the model cache. (The core
//! library takes bytes; only this module and the CLI touch the filesystem.)
//!
//! Imports: the encoder's folder format and the crate's error type (native only).

use std::path::{Path, PathBuf};

use candle_core::Device;

use crate::encoder::{ModelFiles, SentenceEncoder};
use crate::error::{Error, Result};

/// Names `model fetch` knows, with the folder they are cached under.
pub const KNOWN_MODELS: [(&str, &str); 2] = [
    ("minilm", "all-MiniLM-L6-v2"),
    ("mpnet", "all-mpnet-base-v2"),
];

/// Root of the model cache: `$TICKETSIM_MODELS`, else `~/.cache/ticketsim/models`.
pub fn models_root() -> PathBuf {
    if let Some(p) = std::env::var_os("TICKETSIM_MODELS") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("ticketsim").join("models")
}

/// A `--model` argument: an existing folder, or a known name (`minilm`, `mpnet`) in the cache.
pub fn resolve_model(arg: &str) -> PathBuf {
    let p = PathBuf::from(arg);
    if p.is_dir() {
        return p;
    }
    match KNOWN_MODELS
        .iter()
        .find(|(n, full)| *n == arg || *full == arg)
    {
        Some((name, _)) => models_root().join(name),
        None => p,
    }
}

/// Read a file, with the path in the error.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::model(path.display().to_string(), format!("cannot read ({e})")))
}

/// Read a sentence-transformers folder.
pub fn read_model_dir(dir: &Path) -> Result<ModelFiles> {
    let shown = dir.display().to_string();
    if !dir.is_dir() {
        let hint = if KNOWN_MODELS.iter().any(|(n, _)| dir.ends_with(n)) {
            " (fetch it with `make models` or `ticketsim model fetch NAME`)"
        } else {
            ""
        };
        return Err(Error::model(shown, format!("model folder not found{hint}")));
    }
    for f in ModelFiles::REQUIRED {
        if !dir.join(f).is_file() {
            return Err(Error::model(
                dir.join(f).display().to_string(),
                "missing: a sentence-transformers folder needs config.json, model.safetensors and tokenizer.json",
            ));
        }
    }
    let opt = |f: &str| -> Result<Option<Vec<u8>>> {
        let p = dir.join(f);
        if p.is_file() {
            read_file(&p).map(Some)
        } else {
            Ok(None)
        }
    };
    Ok(ModelFiles {
        config: read_file(&dir.join("config.json"))?,
        weights: read_file(&dir.join("model.safetensors"))?,
        tokenizer: read_file(&dir.join("tokenizer.json"))?,
        modules: opt("modules.json")?,
        pooling: opt("1_Pooling/config.json")?,
        sentence_bert_config: opt("sentence_bert_config.json")?,
    })
}

/// Load an encoder from a folder; errors name the file inside the folder.
pub fn load_encoder(dir: &Path, device: &Device) -> Result<SentenceEncoder> {
    encoder_from_files(dir, &read_model_dir(dir)?, device)
}

/// Load an encoder from files already read from `dir` (by [`read_model_dir`]), e.g. when the
/// caller also hashes them; errors name the file inside the folder.
pub fn encoder_from_files(
    dir: &Path,
    files: &ModelFiles,
    device: &Device,
) -> Result<SentenceEncoder> {
    SentenceEncoder::load(files, device).map_err(|e| match e {
        Error::Model { file, msg } => Error::Model {
            file: dir.join(file).display().to_string(),
            msg,
        },
        other => other,
    })
}

/// Write a model as a sentence-transformers folder (creating it and `1_Pooling/`).
pub fn save_model_dir(enc: &SentenceEncoder, dir: &Path) -> Result<()> {
    save_files(&enc.to_files()?, dir)
}

/// Peak resident set size of this process in bytes (Linux: `VmHWM` of /proc/self/status).
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Write a model folder's files (e.g. a run's best checkpoint) so that a reader never sees a
/// half-written checkpoint: every file is written under `dir/.partial/` first and then renamed into
/// place (a rename is atomic).
pub fn save_files_atomic(files: &[(String, Vec<u8>)], dir: &Path) -> Result<()> {
    let tmp = dir.join(".partial");
    let _ = std::fs::remove_dir_all(&tmp);
    save_files(files, &tmp)?;
    for (name, _) in files {
        let (from, to) = (tmp.join(name), dir.join(name));
        if let Some(parent) = to.parent() {
            create_dir(parent)?;
        }
        std::fs::rename(&from, &to)
            .map_err(|e| Error::model(to.display().to_string(), format!("cannot write ({e})")))?;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::model(dir.display().to_string(), format!("cannot create ({e})")))
}

fn save_files(files: &[(String, Vec<u8>)], dir: &Path) -> Result<()> {
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            create_dir(parent)?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| Error::model(path.display().to_string(), format!("cannot write ({e})")))?;
    }
    Ok(())
}
