//! Batch planning: how one optimiser step's batch is cut into shards that run side by side and
//! rounds whose gradients add up (gradient accumulation), so that long tickets at batch 32 fit in
//! memory and both cores work. The plan depends on the data and the device kind only, never on the
//! machine's core count or memory, so a seed gives the same run everywhere.
//!
//! Imports: the model's architecture sizes. Pure arithmetic on pair indices and costs.

use candle_core::Device;

use crate::model::ArchConfig;

/// Shards a per-pair-loss batch is split into on the CPU. The loss is a sum over pairs, so the
/// shards' gradients add up to the batch's; the shards run on separate threads natively (one
/// single-threaded GEMM per core beats two cores sharing small GEMMs) and one after the other in
/// wasm. The count is fixed, not the machine's core count, so a seed gives the same run everywhere.
pub const SHARDS: usize = 2;

/// Activation memory a shard may use on the CPU (estimated by [`activation_bytes`]); a batch above
/// `SHARDS ×` this runs in several rounds. Small on purpose: measured on 64 gitbugs pairs of up to
/// 256 tokens, one round of two shards took 57 s a step-pair and peaked at 17 GB, while 128 MiB
/// shards took 14 s and 3.3 GB — big tensors are mmapped and page-faulted afresh on every
/// allocation (glibc caps the mmap threshold at 32 MiB), small ones are reused from the heap.
/// Short STS-B batches still fit one round (same plan, same speed as without a budget). The same
/// value everywhere keeps runs identical natively and in the browser.
pub const SHARD_MEMORY_BUDGET: u64 = 128 << 20;

/// On a GPU a batch runs as one shard (its kernels are wide enough to fill the device, and threads
/// would only queue on the same stream), cut into rounds only when the activation estimate passes
/// this budget: all-mpnet-base-v2 at batch 32 with 256-token tickets (~24 GB estimated) is one
/// round on an 80 GB H100.
pub const GPU_SHARD_MEMORY_BUDGET: u64 = 32 << 30;

/// Bytes of activations a training forward keeps for backward on one sequence of `len` tokens: per
/// layer about a dozen hidden-size vectors and three intermediate-size vectors per token, and four
/// heads × len × len attention maps (scores, probabilities, dropout mask, dropped probabilities).
/// An estimate, used only to keep shards within the memory budget.
pub fn activation_bytes(arch: &ArchConfig, len: usize) -> u64 {
    // u64: a batch's sum passes 4 GiB, which wraps a wasm32 usize.
    let per_token = (arch.hidden_size() * 12 + arch.intermediate_size() * 3) as u64;
    let (len, heads) = (len as u64, arch.num_heads() as u64);
    arch.num_layers() as u64 * 4 * (len * per_token + 4 * heads * len * len)
}

/// Shards per round and the activation budget of one shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardPlanner {
    /// Shards that run side by side in one round.
    pub shards: usize,
    /// Activation bytes one shard may use before the batch is cut into more rounds.
    pub budget: u64,
}

impl ShardPlanner {
    /// [`SHARDS`] shards within [`SHARD_MEMORY_BUDGET`] on the CPU; one shard within
    /// [`GPU_SHARD_MEMORY_BUDGET`] on a GPU.
    pub fn for_device(device: &Device) -> Self {
        if device.is_cpu() {
            ShardPlanner {
                shards: SHARDS,
                budget: SHARD_MEMORY_BUDGET,
            }
        } else {
            ShardPlanner {
                shards: 1,
                budget: GPU_SHARD_MEMORY_BUDGET,
            }
        }
    }

    /// [`ShardPlanner::for_device`] with a run's own CPU shard budget (`shard_memory_mib`,
    /// [`crate::train::config::TrainConfig::shard_memory_mib`]); a GPU keeps its own.
    pub fn for_run(device: &Device, shard_memory_mib: usize) -> Self {
        let mut p = Self::for_device(device);
        if device.is_cpu() {
            p.budget = (shard_memory_mib.max(1) as u64) << 20;
        }
        p
    }

    /// Plan a batch (`idx`, pair indices) as rounds of shards. `cost(i)` is pair `i`'s activation
    /// estimate. A round is up to `shards` shards of about equal cost that run in parallel; a batch
    /// whose cost exceeds `budget` per shard is cut into several rounds of similar-length pairs (less
    /// padding). `coupled` losses (in-batch negatives, rankings) relate every pair of the batch, so
    /// their batch is one shard in one round whatever it costs.
    pub fn plan(
        &self,
        idx: &[usize],
        cost: impl Fn(usize) -> u64,
        coupled: bool,
    ) -> Vec<Vec<Vec<usize>>> {
        let mut order = idx.to_vec();
        // Longest pairs first; ties by index so the order is total.
        order.sort_by_key(|&i| (std::cmp::Reverse(cost(i)), i));
        if coupled {
            return vec![vec![order]];
        }
        let total: u64 = order.iter().map(|&i| cost(i)).sum();
        let rounds = total
            .div_ceil(self.shards as u64 * self.budget)
            .clamp(1, idx.len().div_ceil(self.shards) as u64);
        // Consecutive runs of the length-sorted pairs: similar lengths share a round.
        let target = total.div_ceil(rounds);
        let mut groups: Vec<Vec<usize>> = vec![Vec::new()];
        let mut load = 0;
        for i in order {
            if load >= target && (groups.len() as u64) < rounds {
                groups.push(Vec::new());
                load = 0;
            }
            load += cost(i);
            groups.last_mut().expect("non-empty").push(i);
        }
        groups
            .into_iter()
            .map(|group| {
                // Each pair to the lighter shard, heaviest first.
                let n = self.shards.min(group.len());
                let mut shards = vec![Vec::new(); n];
                let mut load = vec![0u64; n];
                for i in group {
                    let k = (0..n).min_by_key(|&k| load[k]).expect("n >= 1");
                    load[k] += cost(i);
                    shards[k].push(i);
                }
                shards
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(plan: &[Vec<Vec<usize>>]) -> Vec<usize> {
        let mut all: Vec<usize> = plan.iter().flatten().flatten().copied().collect();
        all.sort_unstable();
        all
    }

    #[test]
    fn every_pair_is_planned_once_and_shards_balance() {
        let costs = [5u64, 1, 4, 2, 3, 3, 2, 4];
        let p = ShardPlanner {
            shards: 2,
            budget: 1000,
        };
        let plan = p.plan(&[0, 1, 2, 3, 4, 5, 6, 7], |i| costs[i], false);
        assert_eq!(plan.len(), 1, "within budget: one round");
        assert_eq!(plan[0].len(), 2);
        assert_eq!(flat(&plan), (0..8).collect::<Vec<_>>());
        let loads: Vec<u64> = plan[0]
            .iter()
            .map(|s| s.iter().map(|&i| costs[i]).sum())
            .collect();
        assert_eq!(loads, vec![12, 12], "greedy heaviest-first split of 24");
    }

    #[test]
    fn over_budget_batches_run_in_rounds_of_similar_length() {
        let costs = [10u64, 1, 9, 2, 8, 3];
        let p = ShardPlanner {
            shards: 2,
            budget: 5,
        };
        let plan = p.plan(&[0, 1, 2, 3, 4, 5], |i| costs[i], false);
        // 33 bytes over 2 × 5 per round: 4 rounds wanted, at most ceil(6 / 2) = 3.
        assert_eq!(plan.len(), 3);
        assert_eq!(flat(&plan), (0..6).collect::<Vec<_>>());
        // The longest pairs share the first round.
        let first: Vec<usize> = plan[0].iter().flatten().copied().collect();
        assert!(first.contains(&0) && first.contains(&2), "{plan:?}");
    }

    #[test]
    fn coupled_losses_get_one_shard_and_ties_are_ordered() {
        let p = ShardPlanner {
            shards: 2,
            budget: 1,
        };
        let plan = p.plan(&[3, 1, 2, 0], |_| 7, true);
        assert_eq!(plan, vec![vec![vec![0, 1, 2, 3]]]);
    }

    #[test]
    fn the_cpu_plans_the_fixed_shard_count() {
        assert_eq!(ShardPlanner::for_device(&Device::Cpu).shards, SHARDS);
    }
}
