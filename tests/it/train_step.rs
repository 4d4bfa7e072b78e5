//! One training step of all-MiniLM-L6-v2 against the library (shared/reference/train-step-*.json):
//! CosineSimilarityLoss on the first 8 STS-B train pairs, dropout off, AdamW as `fit()` builds it.

use candle_core::Tensor;
use serde_json::Value;
use ticketsim::native::{load_encoder, read_file};
use ticketsim::train::loss::cosine_similarity_loss;
use ticketsim::train::optim::{clip_grad_norm, grad_norm, AdamW, AdamWConfig};
use ticketsim::SentenceEncoder;

use crate::{model_dir, reference_dir};

fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs()
}

fn ids(v: &Value) -> Vec<Vec<u32>> {
    serde_json::from_value(v.clone()).unwrap()
}

fn loss(enc: &SentenceEncoder, a: &[Vec<u32>], b: &[Vec<u32>], labels: &Tensor) -> Tensor {
    let emb = |seqs: &[Vec<u32>]| {
        let refs: Vec<&[u32]> = seqs.iter().map(|s| s.as_slice()).collect();
        let (ids, mask) = enc.pad_batch(&refs).unwrap();
        enc.forward_t(&ids, &mask, true).unwrap()
    };
    cosine_similarity_loss(&emb(a), &emb(b), labels).unwrap()
}

#[test]
fn one_step_matches_sentence_transformers() {
    let r: Value = serde_json::from_slice(
        &read_file(&reference_dir().join("train-step-all-MiniLM-L6-v2.json")).unwrap(),
    )
    .unwrap();
    let v = &r["variants"][r["headline_variant"].as_str().unwrap()];
    let opt_cfg = &v["optimizer"];
    let enc = load_encoder(&model_dir("minilm"), &crate::test_device()).unwrap();
    enc.set_dropout(false);

    let a = ids(&r["token_ids"]["sentence1"]);
    let b = ids(&r["token_ids"]["sentence2"]);
    for (p, (ta, tb)) in r["pairs"].as_array().unwrap().iter().zip(a.iter().zip(&b)) {
        assert_eq!(&enc.tokenize(p["sentence1"].as_str().unwrap()).unwrap(), ta);
        assert_eq!(&enc.tokenize(p["sentence2"].as_str().unwrap()).unwrap(), tb);
    }
    let labels: Vec<f32> = r["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_f64().unwrap() as f32)
        .collect();
    let labels = Tensor::new(labels.as_slice(), &crate::test_device()).unwrap();

    let l0 = loss(&enc, &a, &b, &labels);
    let loss_before = l0.to_scalar::<f32>().unwrap() as f64;
    let want = v["loss_before"].as_f64().unwrap();
    eprintln!(
        "loss before: {loss_before:.9} vs {want:.9} (rel {:.2e})",
        rel(loss_before, want)
    );
    assert!(rel(loss_before, want) < 1e-5);

    let mut grads = l0.backward().unwrap();
    let named = enc.params().named_vars();
    let vars: Vec<_> = named.iter().map(|(_, v)| v.clone()).collect();
    let global = grad_norm(&grads, &vars).unwrap();
    let want = v["grad_global_l2_norm"].as_f64().unwrap();
    eprintln!(
        "global grad norm: {global:.9} vs {want:.9} (rel {:.2e})",
        rel(global, want)
    );
    assert!(rel(global, want) < 1e-4);

    // Per tensor. The attention key bias has an analytically zero gradient (softmax is invariant to
    // adding the same q·b_k to a whole row); both sides hold only rounding noise there (~1e-9), so
    // norms below 1e-6 are compared absolutely instead of relatively.
    let per = v["grad_l2_norm_all_params"].as_object().unwrap();
    let mut worst = (0f64, String::new());
    for (name, want) in per {
        let want = want.as_f64().unwrap();
        let var = &named
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .1;
        let g = grads
            .get(var)
            .unwrap_or_else(|| panic!("no gradient for {name}"));
        let got = g
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
            .sqrt() as f64;
        if want < 1e-6 {
            assert!(got < 1e-6, "{name}: gradient norm {got}, expected ~0");
            continue;
        }
        let e = rel(got, want);
        if e > worst.0 {
            worst = (e, name.clone());
        }
        assert!(
            e < 1e-4,
            "{name}: gradient norm {got} vs {want} (rel {e:.2e})"
        );
    }
    eprintln!(
        "{} per-tensor gradient norms, worst rel {:.2e} ({})",
        per.len(),
        worst.0,
        worst.1
    );
    for name in v["params_without_grad"].as_array().unwrap() {
        let var = &named
            .iter()
            .find(|(n, _)| n == name.as_str().unwrap())
            .unwrap()
            .1;
        assert!(grads.get(var).is_none(), "{name} should get no gradient");
    }

    let q = &named
        .iter()
        .find(|(n, _)| n == "encoder.layer.0.attention.self.query.weight")
        .unwrap()
        .1;
    let qg = grads.get(q).unwrap().to_vec2::<f32>().unwrap();
    for e in v["grad_entries_encoder.layer.0.attention.self.query.weight"]
        .as_array()
        .unwrap()
    {
        let (i, j) = (
            e["index"][0].as_u64().unwrap() as usize,
            e["index"][1].as_u64().unwrap() as usize,
        );
        let (got, want) = (qg[i][j] as f64, e["grad"].as_f64().unwrap());
        eprintln!(
            "grad[{i},{j}] {got:.6e} vs {want:.6e} (rel {:.2e})",
            rel(got, want)
        );
        assert!(
            rel(got, want) < 1e-4 || (got - want).abs() < 1e-10,
            "grad[{i},{j}] {got} vs {want}"
        );
    }

    let clip = opt_cfg["clip"].as_f64().unwrap();
    clip_grad_norm(&mut grads, &vars, clip).unwrap();
    let cfg = AdamWConfig {
        beta1: opt_cfg["betas"][0].as_f64().unwrap(),
        beta2: opt_cfg["betas"][1].as_f64().unwrap(),
        eps: opt_cfg["eps"].as_f64().unwrap(),
        weight_decay: opt_cfg["weight_decay"].as_f64().unwrap(),
    };
    let mut opt = AdamW::new(named.clone(), cfg);
    opt.step(&grads, opt_cfg["lr"].as_f64().unwrap()).unwrap();

    let qa = q.as_tensor().to_vec2::<f32>().unwrap();
    let entries = v["grad_entries_encoder.layer.0.attention.self.query.weight"]
        .as_array()
        .unwrap();
    for (e, want) in entries.iter().zip(
        v["param_values_after_step_encoder.layer.0.attention.self.query.weight"]
            .as_array()
            .unwrap(),
    ) {
        let (i, j) = (
            e["index"][0].as_u64().unwrap() as usize,
            e["index"][1].as_u64().unwrap() as usize,
        );
        let (got, want) = (qa[i][j] as f64, want.as_f64().unwrap());
        assert!(
            (got - want).abs() < 1e-7,
            "param[{i},{j}] after step {got} vs {want}"
        );
    }
    let loss_after = loss(&enc, &a, &b, &labels).to_scalar::<f32>().unwrap() as f64;
    let want = v["loss_after_one_step"].as_f64().unwrap();
    eprintln!(
        "loss after: {loss_after:.9} vs {want:.9} (rel {:.2e})",
        rel(loss_after, want)
    );
    assert!(rel(loss_after, want) < 1e-5);
}
