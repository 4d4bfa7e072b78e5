//! The sentence-transformers pipeline: Transformer → Pooling → (Normalize), loaded from the library's
//! folder format given as bytes (the core never touches the filesystem, so the same code runs natively,
//! in a Web Worker and in tests).
//!
//! Imports: the model, pooling, tokenisation, [`crate::parallel`], the seeded RNG and the crate's
//! error type.

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{
    bert, ArchConfig, Autocast, DropoutRng, ParamStore, Precision, Transformer, WordRows,
};
use crate::pooling::{normalize_l2, PoolingConfig};
use crate::rng::Rng;
use crate::tokenize::TextTokenizer;

/// The files of a sentence-transformers model folder, as bytes.
#[derive(Clone, Debug, Default)]
pub struct ModelFiles {
    /// `config.json` (HF transformer config).
    pub config: Vec<u8>,
    /// `model.safetensors`.
    pub weights: Vec<u8>,
    /// `tokenizer.json`.
    pub tokenizer: Vec<u8>,
    /// `modules.json` (pipeline); absent means Transformer → mean Pooling.
    pub modules: Option<Vec<u8>>,
    /// `1_Pooling/config.json`; absent means mean pooling.
    pub pooling: Option<Vec<u8>>,
    /// `sentence_bert_config.json` (`max_seq_length`).
    pub sentence_bert_config: Option<Vec<u8>>,
}

impl ModelFiles {
    /// Files a folder must have.
    pub const REQUIRED: [&'static str; 3] = ["config.json", "model.safetensors", "tokenizer.json"];
    /// Files read when present.
    pub const OPTIONAL: [&'static str; 3] = [
        "modules.json",
        "1_Pooling/config.json",
        "sentence_bert_config.json",
    ];

    /// Pick a model's files out of `(path, bytes)` entries — a dropped folder (every path under one
    /// top folder, e.g. `all-MiniLM-L6-v2/config.json`), loose dropped files, or
    /// [`SentenceEncoder::to_files`]. `source` names the drop in errors. Unrelated files
    /// (README.md, pytorch_model.bin, …) are ignored.
    pub fn from_named(entries: &[(String, Vec<u8>)], source: &str) -> Result<Self> {
        // Paths relative to the shallowest folder that holds a config.json.
        let root = entries
            .iter()
            .filter_map(|(p, _)| {
                let p = p.replace('\\', "/");
                p.strip_suffix("config.json")
                    .filter(|r| r.is_empty() || r.ends_with('/'))
                    .filter(|r| !r.ends_with("1_Pooling/"))
                    .map(str::to_string)
            })
            .min_by_key(|r| r.len())
            .unwrap_or_default();
        let find = |name: &str| -> Option<Vec<u8>> {
            entries
                .iter()
                .find(|(p, _)| p.replace('\\', "/") == format!("{root}{name}"))
                .map(|(_, b)| b.clone())
        };
        let required = |name: &str| {
            find(name).ok_or_else(|| {
                Error::model(
                    source,
                    format!(
                        "{name} is missing (a sentence-transformers folder has {})",
                        Self::REQUIRED.join(", ")
                    ),
                )
            })
        };
        Ok(ModelFiles {
            config: required("config.json")?,
            weights: required("model.safetensors")?,
            tokenizer: required("tokenizer.json")?,
            modules: find("modules.json"),
            pooling: find("1_Pooling/config.json"),
            sentence_bert_config: find("sentence_bert_config.json"),
        })
    }

    /// Bytes of every file.
    pub fn total_bytes(&self) -> usize {
        self.config.len()
            + self.weights.len()
            + self.tokenizer.len()
            + [&self.modules, &self.pooling, &self.sentence_bert_config]
                .iter()
                .map(|f| f.as_ref().map_or(0, Vec::len))
                .sum::<usize>()
    }
}

/// One entry of `modules.json`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct ModuleEntry {
    /// Position in the pipeline.
    pub idx: usize,
    /// Module name.
    pub name: String,
    /// Folder of the module's files, relative to the model root.
    pub path: String,
    /// Python class, e.g. `sentence_transformers.models.Pooling`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `sentence_bert_config.json`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct SentenceBertConfig {
    /// Truncation length in tokens.
    pub max_seq_length: Option<usize>,
    /// Whether the library lower-cases input (the tokenizer's normaliser does it for our models).
    #[serde(default)]
    pub do_lower_case: bool,
}

/// Which modules follow the transformer, from modules.json.
fn parse_modules(bytes: &[u8]) -> Result<bool> {
    let file = "modules.json";
    let mods: Vec<ModuleEntry> =
        serde_json::from_slice(bytes).map_err(|e| Error::model(file, format!("invalid ({e})")))?;
    let mut normalize = false;
    for (i, m) in mods.iter().enumerate() {
        let class = m.kind.rsplit('.').next().unwrap_or("");
        match (i, class) {
            (0, "Transformer") | (1, "Pooling") => {}
            (_, "Normalize") => normalize = true,
            _ => {
                return Err(Error::model(
                    file,
                    format!(
                        "module {} `{}` is not supported (Transformer, Pooling, Normalize are)",
                        m.idx, m.kind
                    ),
                ))
            }
        }
    }
    if mods.len() < 2 {
        return Err(Error::model(
            file,
            "expected at least Transformer and Pooling modules",
        ));
    }
    Ok(normalize)
}

/// A summary of a loaded model, for `model info` and the web app.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelInfo {
    /// `bert` or `mpnet`.
    pub model_type: String,
    /// Transformer layers.
    pub layers: usize,
    /// Token state size.
    pub hidden_size: usize,
    /// Sentence embedding size.
    pub embedding_dim: usize,
    /// Trainable parameters.
    pub parameters: usize,
    /// Truncation length.
    pub max_seq_length: usize,
    /// Whether embeddings are L2-normalised.
    pub normalize: bool,
}

/// A sentence embedding model: tokenizer, transformer, pooling, optional normalisation.
pub struct SentenceEncoder {
    arch: ArchConfig,
    /// config.json as loaded (unknown fields kept so a saved model round-trips).
    config_json: serde_json::Value,
    /// tokenizer.json as loaded (saved unchanged: our truncation override is not written into it).
    tokenizer_json: Vec<u8>,
    transformer: Transformer,
    tokenizer: TextTokenizer,
    pooling: PoolingConfig,
    normalize: bool,
    params: ParamStore,
    rng: DropoutRng,
    /// Precision of the matrix products, shared by the layers.
    autocast: Autocast,
    device: Device,
}

impl SentenceEncoder {
    /// Load a model folder's files onto `device`.
    pub fn load(files: &ModelFiles, device: &Device) -> Result<Self> {
        let arch = ArchConfig::from_json(&files.config)?;
        let normalize = match &files.modules {
            Some(m) => parse_modules(m)?,
            None => false,
        };
        let pooling = match &files.pooling {
            Some(p) => PoolingConfig::from_json(p)?,
            None => PoolingConfig::mean(arch.hidden_size()),
        };
        if pooling.word_embedding_dimension != arch.hidden_size() {
            return Err(Error::model(
                "1_Pooling/config.json",
                format!(
                    "word_embedding_dimension {} differs from the transformer's hidden_size {}",
                    pooling.word_embedding_dimension,
                    arch.hidden_size()
                ),
            ));
        }
        let max_seq_length = match &files.sentence_bert_config {
            Some(b) => {
                let c: SentenceBertConfig = serde_json::from_slice(b).map_err(|e| {
                    Error::model("sentence_bert_config.json", format!("invalid ({e})"))
                })?;
                c.max_seq_length.unwrap_or(arch.max_positions())
            }
            None => arch.max_positions(),
        };
        if max_seq_length == 0 || max_seq_length > arch.max_positions() {
            return Err(Error::model(
                "sentence_bert_config.json",
                format!(
                    "max_seq_length {max_seq_length} must be in 1..={}",
                    arch.max_positions()
                ),
            ));
        }
        let tokenizer =
            TextTokenizer::from_bytes(&files.tokenizer, max_seq_length, arch.pad_token_id())?;
        let params = ParamStore::from_safetensors(&files.weights, "model.safetensors", device)?;
        let mut enc = Self::from_parts(
            arch,
            tokenizer,
            &files.tokenizer,
            pooling,
            normalize,
            params,
        )?;
        // Already validated as JSON by ArchConfig::from_json.
        enc.config_json = serde_json::from_slice(&files.config).unwrap_or_default();
        Ok(enc)
    }

    /// Assemble a model from its parts (weights may come from a seeded random store).
    pub fn from_parts(
        arch: ArchConfig,
        tokenizer: TextTokenizer,
        tokenizer_json: &[u8],
        pooling: PoolingConfig,
        normalize: bool,
        params: ParamStore,
    ) -> Result<Self> {
        let rng: DropoutRng = crate::model::nn::dropout_state(0);
        let autocast = Autocast::default();
        let transformer = Transformer::load(params.var_builder(), &arch, &rng, &autocast)?;
        let device = params.device().clone();
        Ok(SentenceEncoder {
            config_json: arch.to_json(),
            arch,
            tokenizer_json: tokenizer_json.to_vec(),
            transformer,
            tokenizer,
            pooling,
            normalize,
            params,
            rng,
            autocast,
            device,
        })
    }

    /// A tiny randomly initialised BERT (2 layers, hidden 32, 4 heads) with a character-level
    /// WordPiece vocabulary: fast enough for unit tests of everything above the encoder.
    pub fn tiny_random(seed: u64, device: &Device) -> Result<Self> {
        let tokenizer_json = tiny_tokenizer_json();
        let vocab = tiny_vocab().len();
        let arch = ArchConfig::Bert(bert::Config {
            vocab_size: vocab,
            hidden_size: 32,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            intermediate_size: 64,
            max_position_embeddings: 64,
            ..bert::Config::all_mini_lm_l6_v2()
        });
        let tokenizer = TextTokenizer::from_bytes(tokenizer_json.as_bytes(), 64, 0)?;
        let params = ParamStore::seeded(seed, device);
        Self::from_parts(
            arch,
            tokenizer,
            tokenizer_json.as_bytes(),
            PoolingConfig::mean(32),
            true,
            params,
        )
    }

    /// Change the truncation length (sentence-transformers' `max_seq_length`); it must fit the
    /// model's position table. Saved models record the new value in sentence_bert_config.json.
    pub fn set_max_seq_length(&mut self, n: usize) -> Result<()> {
        let max = self.arch.max_positions();
        if n == 0 || n > max {
            return Err(Error::Invalid(format!(
                "max_seq_length {n} must be in 1..={max} for this model"
            )));
        }
        self.tokenizer = self.tokenizer_at(n)?;
        Ok(())
    }

    /// This model's tokenizer truncating at `n` tokens instead of its own max_seq_length (what a
    /// run with another max_seq_length would see), without touching the model.
    pub fn tokenizer_at(&self, n: usize) -> Result<TextTokenizer> {
        TextTokenizer::from_bytes(&self.tokenizer_json, n, self.arch.pad_token_id())
    }

    /// Re-seed the dropout generator (training is reproducible from here on).
    pub fn seed_dropout(&self, seed: u64) {
        self.rng.lock().unwrap_or_else(|e| e.into_inner()).rng = Rng::new(seed);
    }

    /// Set the precision of the matrix products (f32 by default); returns the previous one. The
    /// trainer sets its configured precision for its steps only.
    pub fn set_precision(&self, p: Precision) -> Precision {
        self.autocast.set(p)
    }

    /// The precision of the matrix products now in force.
    pub fn precision(&self) -> Precision {
        self.autocast.get()
    }

    /// Switch dropout on or off for training-mode forwards (on by default).
    pub fn set_dropout(&self, enabled: bool) {
        self.rng.lock().unwrap_or_else(|e| e.into_inner()).enabled = enabled;
    }

    /// The word-embedding table's variable and name (`…embeddings.word_embeddings.weight`).
    pub fn word_embeddings(&self) -> Option<(String, candle_core::Var)> {
        self.params
            .named_vars()
            .into_iter()
            .find(|(name, _)| name.ends_with("embeddings.word_embeddings.weight"))
    }

    /// Token ids of one text (special tokens included, truncated to max_seq_length).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer.encode(text)
    }

    /// Pad token sequences to the longest: `(ids [b, s] u32, mask [b, s] f32)`.
    pub fn pad_batch(&self, seqs: &[&[u32]]) -> Result<(Tensor, Tensor)> {
        let b = seqs.len();
        let s = seqs.iter().map(|x| x.len()).max().unwrap_or(0).max(1);
        let pad = self.tokenizer.pad_id();
        let mut ids = vec![pad; b * s];
        let mut mask = vec![0f32; b * s];
        for (i, seq) in seqs.iter().enumerate() {
            ids[i * s..i * s + seq.len()].copy_from_slice(seq);
            mask[i * s..i * s + seq.len()]
                .iter_mut()
                .for_each(|m| *m = 1.0);
        }
        Ok((
            Tensor::from_vec(ids, (b, s), &self.device)?,
            Tensor::from_vec(mask, (b, s), &self.device)?,
        ))
    }

    /// Sentence embeddings `[b, dim]` for a padded batch. With `train`, dropout is on and every op is
    /// differentiable.
    pub fn forward_t(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_rows(ids, mask, None, train)
    }

    /// [`forward_t`](Self::forward_t) reading word vectors from `rows` instead of the table (the
    /// trainer's sparse embedding updates).
    pub fn forward_rows(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        rows: Option<WordRows>,
        train: bool,
    ) -> Result<Tensor> {
        let tokens = self.transformer.forward_t(ids, mask, rows, train)?;
        let pooled = self.pooling.forward(&tokens, mask)?;
        Ok(if self.normalize {
            normalize_l2(&pooled)?
        } else {
            pooled
        })
    }

    /// Embed texts in eval mode, `batch_size` at a time. Like the library, texts are sorted by length
    /// first so each batch carries little padding; results come back in input order.
    pub fn encode<S: AsRef<str>>(&self, texts: &[S], batch_size: usize) -> Result<Vec<Vec<f32>>> {
        let seqs = texts
            .iter()
            .map(|t| self.tokenize(t.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        self.encode_ids(&seqs, batch_size)
    }

    /// Like [`encode`](Self::encode) for already tokenised texts.
    pub fn encode_ids(&self, seqs: &[Vec<u32>], batch_size: usize) -> Result<Vec<Vec<f32>>> {
        if batch_size == 0 {
            return Err(Error::Invalid("batch size must be at least 1".into()));
        }
        let batches = length_batches(seqs, batch_size);
        let run = |chunk: &Vec<usize>| -> Result<Vec<Vec<f32>>> {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| seqs[i].as_slice()).collect();
            let (ids, mask) = self.pad_batch(&batch)?;
            Ok(self.forward_t(&ids, &mask, false)?.to_vec2::<f32>()?)
        };
        // Threads only help the CPU; on a GPU they would queue on the same stream.
        let results = if self.device.is_cpu() {
            crate::parallel::map(&batches, run)
        } else {
            batches.iter().map(run).collect()
        };
        let mut out = vec![Vec::new(); seqs.len()];
        for (chunk, embs) in batches.iter().zip(results) {
            for (&i, e) in chunk.iter().zip(embs?) {
                out[i] = e;
            }
        }
        Ok(out)
    }

    /// The model as a sentence-transformers folder: `(relative path, bytes)` for every file, which
    /// [`load`](Self::load) and Python's `SentenceTransformer(path)` both read.
    pub fn to_files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let json = |v: serde_json::Value| serde_json::to_vec_pretty(&v).unwrap_or_default();
        let mut modules = vec![
            serde_json::json!({"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}),
            serde_json::json!({"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}),
        ];
        if self.normalize {
            modules.push(serde_json::json!({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}));
        }
        Ok(vec![
            ("config.json".into(), json(self.config_json.clone())),
            ("model.safetensors".into(), self.params.to_safetensors()?),
            ("tokenizer.json".into(), self.tokenizer_json.clone()),
            (
                "modules.json".into(),
                json(serde_json::Value::Array(modules)),
            ),
            (
                "1_Pooling/config.json".into(),
                json(serde_json::to_value(&self.pooling).unwrap_or_default()),
            ),
            (
                "sentence_bert_config.json".into(),
                json(
                    serde_json::json!({"max_seq_length": self.tokenizer.max_len(), "do_lower_case": false}),
                ),
            ),
            (
                "config_sentence_transformers.json".into(),
                json(serde_json::json!({
                    "__version__": {"ticketsim": env!("CARGO_PKG_VERSION"), "sentence_transformers": "5.0.0"},
                    "prompts": {}, "default_prompt_name": null, "similarity_fn_name": "cosine",
                    "model_type": "SentenceTransformer"
                })),
            ),
        ])
    }

    /// The weights (for the optimiser and for saving).
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// The architecture configuration.
    pub fn arch(&self) -> &ArchConfig {
        &self.arch
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Summary figures.
    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            model_type: self.arch.model_type().into(),
            layers: self.arch.num_layers(),
            hidden_size: self.arch.hidden_size(),
            embedding_dim: self.pooling.output_dim(),
            parameters: self.params.num_parameters(),
            max_seq_length: self.tokenizer.max_len(),
            normalize: self.normalize,
        }
    }
}

/// Indices of `seqs` grouped into inference batches: sorted by length (longest first, as the library
/// does) and cut at `batch_size`, and also wherever padding the batch to its longest member would
/// more than double its real tokens. One 384-token ticket thus no longer pads 31 short ones to 384.
/// Pooling is masked, so the grouping changes no embedding, only the cost.
pub fn length_batches(seqs: &[Vec<u32>], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..seqs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(seqs[i].len()));
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let (mut longest, mut real) = (0usize, 0usize);
    for i in order {
        let len = seqs[i].len().max(1);
        let fits = batches
            .last()
            .is_some_and(|b| b.len() < batch_size && longest * (b.len() + 1) <= 2 * (real + len));
        if fits {
            batches.last_mut().expect("checked").push(i);
            real += len;
        } else {
            batches.push(vec![i]);
            (longest, real) = (len, len);
        }
    }
    batches
}

/// Cosine similarity of two vectors (0 when either is all zeros).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        dot += (*x as f64) * (*y as f64);
        na += (*x as f64) * (*x as f64);
        nb += (*y as f64) * (*y as f64);
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na.sqrt() * nb.sqrt())) as f32
    }
}

fn tiny_vocab() -> Vec<String> {
    let mut v: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let chars: Vec<char> = ('a'..='z').chain('0'..='9').collect();
    v.extend(chars.iter().map(|c| c.to_string()));
    v.extend(chars.iter().map(|c| format!("##{c}")));
    v.extend(
        [".", ",", "!", "?", "-", ":", "/"]
            .iter()
            .map(|s| s.to_string()),
    );
    v
}

/// A BERT-style tokenizer.json over [`tiny_vocab`] (lower-casing, `[CLS] … [SEP]`).
fn tiny_tokenizer_json() -> String {
    let vocab: serde_json::Map<String, serde_json::Value> = tiny_vocab()
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, serde_json::json!(i)))
        .collect();
    serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                        "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_folders_and_loose_files_load_the_same_model() {
        let enc = SentenceEncoder::tiny_random(2, &Device::Cpu).unwrap();
        let files = enc.to_files().unwrap();
        let expect = enc.encode(&["printer offline"], 1).unwrap();
        // Loose files, a dropped folder with extras, and a folder inside a folder.
        let in_folder = |prefix: &str| -> Vec<(String, Vec<u8>)> {
            files
                .iter()
                .map(|(p, b)| (format!("{prefix}{p}"), b.clone()))
                .chain([(format!("{prefix}README.md"), b"# model".to_vec())])
                .collect()
        };
        for entries in [files.clone(), in_folder("my-model/"), in_folder("a/b/")] {
            let f = ModelFiles::from_named(&entries, "drop").unwrap();
            assert!(f.pooling.is_some() && f.modules.is_some());
            assert!(f.total_bytes() > f.weights.len());
            let got = SentenceEncoder::load(&f, &Device::Cpu)
                .unwrap()
                .encode(&["printer offline"], 1)
                .unwrap();
            assert_eq!(got, expect);
        }
        let without: Vec<_> = files
            .into_iter()
            .filter(|(p, _)| p != "tokenizer.json")
            .collect();
        let e = ModelFiles::from_named(&without, "my drop").unwrap_err();
        assert!(
            e.to_string().contains("my drop")
                && e.to_string().contains("tokenizer.json is missing"),
            "{e}"
        );
    }
}
