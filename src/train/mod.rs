//! Training: losses, the optimiser and the learning-rate schedule as sentence-transformers uses them.
//! (The step machine that drives them comes next; everything here is plain computation, no threads,
//! timers or I/O, so the CLI, the browser worker and the tests share it.)

pub mod batch;
pub mod loss;
pub mod optim;
pub mod trainer;
