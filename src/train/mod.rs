//! Training: losses, the optimiser and schedule as sentence-transformers uses them, the step machine
//! ([`trainer::Trainer`]), evaluation ([`eval`]) and the whole run with checkpoint selection and early
//! stopping ([`fit::Fit`]). Plain computation — no threads of its own, timers or I/O — so the CLI, the
//! browser worker and the tests share it.

pub mod batch;
pub mod eval;
pub mod fit;
pub mod loss;
pub mod metadata;
pub mod optim;
pub mod trainer;
