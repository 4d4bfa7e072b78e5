//! A training run is a function of its seed: the same losses whether the batch shards run on two
//! threads (the CLI's default) or one after the other, and on every rerun.

use crate::{cli, cli_json, datasets_dir, model_dir};

/// `ticketsim bench train` on 3 steps of STS-B with `RAYON_NUM_THREADS` set as given; returns
/// the final loss.
fn final_loss(threads: &str) -> f64 {
    let v = cli_json(
        cli()
            .env("RAYON_NUM_THREADS", threads)
            .args(["bench", "train", "--no-eval", "--pairs", "96", "--model"])
            .arg(model_dir("minilm"))
            .arg("--data")
            .arg(datasets_dir().join("stsbenchmark/sts-train.csv")),
    );
    assert_eq!(v["steps"], 3);
    v["final_loss"].as_f64().unwrap()
}

#[test]
fn same_seed_same_losses_on_any_thread_count() {
    // "1": shards on two threads with single-threaded kernels; "2": shards in sequence, kernels
    // on two threads.
    let parallel = final_loss("1");
    assert_eq!(parallel, final_loss("1"), "rerun differs");
    assert_eq!(parallel, final_loss("2"), "thread count changed the run");
}
