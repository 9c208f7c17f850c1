//! Training both cells by backpropagation through time (BPTT): the engine behind
//! `mfrnn train`.
//!
//! A run ([`RunConfig`]) trains a cell ([`CellSpec`]: the vanilla RNN with any built-in
//! activation, or the minimalRNN) with a linear readout on a [`Task`] (padded digits,
//! first-input recall, copy memory, adding problem), from an initialization ([`InitScheme`]:
//! the theory's scales, the critical initialization of [`crate::init`], or the usual
//! baselines), with SGD (momentum), RMSProp or Adam and gradient-norm clipping. A run returns a
//! [`RunResult`]: the learning curve, the final test loss and accuracy, and an [`Outcome`] —
//! a run whose loss or gradient stops being finite, or whose gradient norm explodes, ends as
//! [`Outcome::Diverged`] with the step and the reason, never with a NaN result.
//!
//! Runs are seeded (ChaCha8) and single-threaded; [`train_many`] trains a list of runs in
//! parallel, one per thread, so results are bit-identical for any number of threads.
//!
//! The equations of the forward and backward passes, the embedding and readout, the tasks and
//! the initializations are in `theory/09-training.md`; the CLI is `mfrnn train` (user guide);
//! checks: `tests/training.rs` (finite differences as property tests, exported files
//! re-evaluated independently, determinism, divergence, the digits accuracy) and
//! `benches/peers/jax_train.py` (autodiff peer and timings).
//!
//! # Example
//! ```
//! use mfrnn::activation::Builtin;
//! use mfrnn::training::{CellSpec, Padding, RunConfig, Task, train};
//! let mut cfg = RunConfig::new(
//!     CellSpec::Vanilla(Builtin::Tanh),
//!     Task::Recall { padding: 2, classes: 4, dim: 8, pad: Padding::Zero },
//! );
//! cfg.width = 16;
//! cfg.steps = 200;
//! cfg.lr = 1e-2;
//! let r = train(&cfg)?;
//! assert!(r.test_accuracy.unwrap() > 0.9);
//! # Ok::<(), mfrnn::Error>(())
//! ```
//!
//! # Adding a cell
//! Everything that depends on the cell sits behind the internal trait `cell::TrainCell`
//! (`src/training/cell.rs`): the list of parameter tensors with their [`Role`] (the roles
//! decide the initializations: a cell with a recurrent `W`, an input `V` and a bias `b`
//! gets every scheme for free), the forward pass over a batch of sequences (filling the
//! hidden states `h⁰ = 0, …, h^T` and whatever the backward pass needs), and the backward
//! pass (given `∂L/∂h_t` at the readout steps, write `∂L/∂θ`). To add a cell:
//! 1. implement `TrainCell` for it in `cell.rs`, with the products over all steps done as
//!    one matrix product each (see the two cells there) and only the recurrent product
//!    per step;
//! 2. add a variant to `model::AnyCell` and to [`CellSpec`] and map one to the other in
//!    `CellSpec::imp` — the one place that lists the cells;
//! 3. add it to the finite-difference property test in `tests/training.rs` and to the
//!    autodiff peer `benches/peers/jax_train.py`.
//!
//! Readout, losses, optimizers, tasks, clipping, divergence detection, export and the CLI
//! need no change.

mod cell;
mod export;
mod init;
pub(crate) mod linalg;
mod model;
mod optim;
mod run;
mod tasks;

pub use cell::{Role, TensorSpec};
pub use export::{KIND as SAVE_KIND, SaveManifest, SavedFile, Sizes, train_and_save};
pub use init::{InitScheme, ResolvedInit};
pub use linalg::Real;
pub use model::{CellSpec, Eval, MAX_WIDTH, Model};
pub use optim::Optimizer;
pub use run::{
    CurvePoint, Divergence, MAX_RUN_BYTES, Outcome, Precision, RunConfig, RunDiagnostics,
    RunResult, Trainer, train, train_many, train_with_progress,
};
pub use tasks::{Baseline, Batch, LossKind, MAX_SEQ_LEN, Padding, Targets, Task, TaskData};

/// `C = A B` for column-major `A` (`m × k`) and `B` (`k × n`) with the engine's matrix
/// product: exposed for the GEMM-peak benchmark (`benches/training.rs`), not a general API.
///
/// # Panics
/// If a slice is shorter than its matrix.
#[doc(hidden)]
pub fn matmul<T: Real>(c: &mut [T], a: &[T], b: &[T], m: usize, k: usize, n: usize) {
    linalg::gemm(
        c,
        m,
        n,
        false,
        linalg::Op::n(a, m, k),
        linalg::Op::n(b, k, n),
    );
}
