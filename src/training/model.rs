//! The trained network: a cell, a linear readout at the task's readout steps, and the loss —
//! forward, backward and evaluation for any batch, in `f32` or `f64`.

use serde::Serialize;

use super::cell::{
    Dims, MinimalTrain, ReadoutGrad, Role, TensorSpec, TrainCell, VanillaTrain, Workspace,
};
use super::linalg::{Op, Real, add_columns, gemm, row_sums};
use super::tasks::{Batch, LossKind, Targets, TaskData};
use crate::activation::Builtin;
use crate::cells::Cell;
use crate::error::{Error, Result};

/// The engine's implementation of `cell`: the one place that lists the cells the engine can
/// train (adding a cell adds an arm here, a variant to [`AnyCell`] and an `impl TrainCell`).
///
/// # Errors
/// [`Error::Unsupported`] for a vanilla cell with a user-defined activation (the engine's
/// forward and backward passes use the built-in activations' vectorised kernels).
pub(crate) fn trainable(cell: &Cell) -> Result<AnyCell> {
    match cell {
        Cell::Vanilla(a) => match a.builtin() {
            Some(phi) => Ok(AnyCell::Vanilla(VanillaTrain { phi })),
            None => Err(Error::Unsupported(format!(
                "training needs a built-in activation (tanh, erf, relu, linear, hard_tanh, \
                 sigmoid, softplus); `{}` is user-defined",
                a.name()
            ))),
        },
        Cell::Minimal => Ok(AnyCell::Minimal(MinimalTrain)),
    }
}

/// Every trainable cell, dispatched by `match` (a new cell adds a variant here and an
/// `impl TrainCell`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum AnyCell {
    Vanilla(VanillaTrain),
    Minimal(MinimalTrain),
}

macro_rules! each_cell {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            AnyCell::Vanilla($c) => $body,
            AnyCell::Minimal($c) => $body,
        }
    };
}

impl TrainCell for AnyCell {
    fn tensors(&self, n: usize, d: usize) -> Vec<TensorSpec> {
        each_cell!(self, c => c.tensors(n, d))
    }
    fn workspace_per_step(&self, n: usize) -> usize {
        each_cell!(self, c => c.workspace_per_step(n))
    }
    fn equations(&self) -> String {
        each_cell!(self, c => c.equations())
    }
    fn forward<T: Real>(&self, p: &[T], x: &[T], dims: Dims, ws: &mut Workspace<T>) {
        each_cell!(self, c => c.forward(p, x, dims, ws))
    }
    fn backward<T: Real>(
        &self,
        p: &[T],
        x: &[T],
        dims: Dims,
        ws: &mut Workspace<T>,
        out: &ReadoutGrad<T>,
        grad: &mut [T],
    ) {
        each_cell!(self, c => c.backward(p, x, dims, ws, out, grad))
    }
}

/// A network for a task: cell, width, readout and loss. Parameters are one flat vector: the
/// tensors of [`Model::tensors`] in order, each column-major.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    /// The cell.
    pub cell: Cell,
    /// Its implementation (checked trainable by [`Model::for_task`]).
    #[serde(skip)]
    imp: AnyCell,
    /// Hidden width `N`.
    pub width: usize,
    /// Input dimension `d`.
    pub input_dim: usize,
    /// Output dimension `K`.
    pub output_dim: usize,
    /// Sequence length `L`.
    pub seq_len: usize,
    /// Readout steps `S` (1-based, increasing).
    pub readout: Vec<usize>,
    /// Accuracy counts the readout steps `S[scored_from..]`.
    pub scored_from: usize,
    /// The loss.
    pub loss: LossKind,
}

/// Loss and accuracy of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Eval {
    /// Mean loss over readout steps and sequences.
    pub loss: f64,
    /// Correct predictions among the scored readouts (classification).
    pub correct: usize,
    /// Scored readouts (0 for regression).
    pub scored: usize,
}

impl Eval {
    /// `correct / scored`, or `None` for regression.
    pub fn accuracy(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.correct as f64 / self.scored as f64)
    }
}

/// Largest width accepted.
pub const MAX_WIDTH: usize = 8192;

impl Model {
    /// The network of `cell` with width `width` for `task`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `width` (1..=8192); [`Error::Unsupported`] for a
    /// cell the engine cannot train (a user-defined activation).
    pub fn for_task(cell: Cell, width: usize, task: &TaskData) -> Result<Model> {
        if !(1..=MAX_WIDTH).contains(&width) {
            return Err(Error::invalid("width", width as f64, "1 to 8192"));
        }
        Ok(Model {
            imp: trainable(&cell)?,
            cell,
            width,
            input_dim: task.input_dim,
            output_dim: task.output_dim,
            seq_len: task.seq_len,
            readout: task.readout.clone(),
            scored_from: task.scored_from,
            loss: task.loss,
        })
    }

    /// The nonlinearity as a built-in (`sigmoid` for the minimalRNN's gate).
    pub(crate) fn activation(&self) -> Builtin {
        match self.imp {
            AnyCell::Vanilla(VanillaTrain { phi }) => phi,
            AnyCell::Minimal(_) => Builtin::Sigmoid,
        }
    }

    /// The parameter tensors in order: the cell's, then `W_out` (`K × N`) and `b_out` (`K`).
    pub fn tensors(&self) -> Vec<TensorSpec> {
        let mut t = self.imp.tensors(self.width, self.input_dim);
        t.push(TensorSpec::new(
            "W_out",
            self.output_dim,
            self.width,
            Role::ReadoutWeight,
        ));
        t.push(TensorSpec::new(
            "b_out",
            self.output_dim,
            1,
            Role::ReadoutBias,
        ));
        t
    }

    /// Number of parameters.
    pub fn num_params(&self) -> usize {
        self.tensors().iter().map(TensorSpec::len).sum()
    }

    /// Elements of `T` a forward and backward pass over `batch` sequences holds, for the
    /// memory bound.
    pub fn workspace_elems(&self, batch: usize) -> usize {
        let per_step = self.imp.workspace_per_step(self.width) + self.input_dim;
        let readout = self.readout.len() * (self.output_dim + self.width);
        batch
            .saturating_mul(self.seq_len.saturating_add(1))
            .saturating_mul(per_step)
            .saturating_add(batch.saturating_mul(readout))
    }

    /// The forward equations in words (with the readout and loss).
    pub fn equations(&self) -> String {
        let loss = match self.loss {
            LossKind::CrossEntropy => {
                "loss = mean over readout steps and sequences of the softmax cross-entropy \
                 -log softmax(y_t)[class]"
            }
            LossKind::SquaredError => {
                "loss = mean over readout steps and sequences of sum_k (y_t[k] - target[k])^2"
            }
        };
        format!(
            "{}; readout y_t = W_out h_t + b_out at the readout steps t (1-based); {loss}",
            self.imp.equations()
        )
    }

    /// Loss and accuracy of `params` on `batch`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `params` or `batch` when their sizes do not fit.
    pub fn evaluate<T: Real>(&self, params: &[T], batch: &Batch<T>) -> Result<Eval> {
        self.check(params, batch)?;
        let mut e = Engine::new(self);
        Ok(e.pass(params, &batch.x, &batch.targets, batch.batch, None))
    }

    /// Loss, accuracy and the gradient of the mean loss with respect to `params` (same
    /// layout), by backpropagation through time.
    ///
    /// # Errors
    /// As [`Model::evaluate`].
    pub fn loss_and_grad<T: Real>(&self, params: &[T], batch: &Batch<T>) -> Result<(Eval, Vec<T>)> {
        self.check(params, batch)?;
        let mut e = Engine::new(self);
        let mut g = vec![T::zero(); params.len()];
        let ev = e.pass(params, &batch.x, &batch.targets, batch.batch, Some(&mut g));
        Ok((ev, g))
    }

    fn check<T: Real>(&self, params: &[T], batch: &Batch<T>) -> Result<()> {
        let increasing = self.readout.windows(2).all(|w| w[0] < w[1]);
        if self.readout.is_empty()
            || !increasing
            || self.readout[0] == 0
            || self.readout[self.readout.len() - 1] > self.seq_len
            || self.scored_from > self.readout.len()
        {
            return Err(Error::invalid(
                "readout",
                self.readout.len() as f64,
                "increasing readout steps in 1..=seq_len, and scored_from <= their number",
            ));
        }
        if self.width == 0 || self.input_dim == 0 || self.output_dim == 0 || self.seq_len == 0 {
            return Err(Error::invalid(
                "width",
                self.width as f64,
                "a model with positive width, input and output dimensions and length",
            ));
        }
        if params.len() != self.num_params() {
            return Err(Error::invalid(
                "params",
                params.len() as f64,
                "the model's number of parameters",
            ));
        }
        let b = batch.batch;
        let targets_ok = match &batch.targets {
            Targets::Classes(c) => {
                self.loss == LossKind::CrossEntropy
                    && c.len() == self.readout.len() * b
                    && c.iter().all(|&k| (k as usize) < self.output_dim)
            }
            Targets::Values(v) => {
                self.loss == LossKind::SquaredError
                    && v.len() == self.readout.len() * b * self.output_dim
            }
        };
        if b == 0 || batch.x.len() != self.seq_len * b * self.input_dim || !targets_ok {
            return Err(Error::invalid(
                "batch",
                b as f64,
                "a non-empty batch with L × B × d inputs and one target per readout step",
            ));
        }
        Ok(())
    }
}

/// Buffers and sizes of one run: reused by every training step and evaluation.
pub(crate) struct Engine<T> {
    cell: AnyCell,
    n: usize,
    d: usize,
    k: usize,
    len: usize,
    readout: Vec<usize>,
    scored_from: usize,
    ws: Workspace<T>,
    y: Vec<T>,
    dh: Vec<T>,
    gx: Vec<T>,
}

impl<T: Real> Engine<T> {
    pub(crate) fn new(m: &Model) -> Self {
        Engine {
            cell: m.imp,
            n: m.width,
            d: m.input_dim,
            k: m.output_dim,
            len: m.seq_len,
            readout: m.readout.clone(),
            scored_from: m.scored_from,
            ws: Workspace::default(),
            y: Vec::new(),
            dh: Vec::new(),
            gx: Vec::new(),
        }
    }

    /// Forward pass on `b` sequences `x`, loss against `targets`, and (with `grad`) the
    /// backward pass writing the gradient of the mean loss. Sizes are the caller's contract.
    pub(crate) fn pass(
        &mut self,
        params: &[T],
        x: &[T],
        targets: &Targets,
        b: usize,
        grad: Option<&mut [T]>,
    ) -> Eval {
        let (n, k, ns) = (self.n, self.k, self.readout.len());
        let dims = Dims {
            n,
            d: self.d,
            b,
            t: self.len,
        };
        let ncell = params.len() - k * n - k;
        let (pc, pr) = params.split_at(ncell);
        let (w_out, b_out) = pr.split_at(k * n);
        self.cell.forward(pc, x, dims, &mut self.ws);
        // Readout (T.3): y_s = W_out h_s + b_out, one product per run of consecutive steps.
        let kb = k * b;
        if self.y.len() < kb * ns {
            self.y.resize(kb * ns, T::zero());
        }
        for (j0, j1) in runs(&self.readout) {
            let s0 = self.readout[j0];
            gemm(
                &mut self.y[j0 * kb..j1 * kb],
                k,
                b * (j1 - j0),
                false,
                Op::n(w_out, k, n),
                Op::n(&self.ws.h[s0 * n * b..], n, b * (j1 - j0)),
            );
        }
        add_columns(&mut self.y[..kb * ns], k, b_out);
        // Loss and ∂L/∂y (in place), in f64 per column.
        let scale = 1.0 / (ns * b) as f64;
        let mut loss = 0.0;
        let (mut correct, mut scored) = (0, 0);
        let mut col = vec![0.0f64; k];
        for c in 0..ns * b {
            let y = &mut self.y[c * k..(c + 1) * k];
            for (o, v) in col.iter_mut().zip(y.iter()) {
                *o = v.f64();
            }
            match targets {
                Targets::Classes(cls) => {
                    let t = cls[c] as usize;
                    // log-sum-exp as m + ln(1 + Σ_{i ≠ argmax} e^{y_i − m}): accurate when
                    // the prediction is confident (the loss is then ≪ 1).
                    let am = (0..k).fold(0, |a, i| if col[i] > col[a] { i } else { a });
                    let m = col[am];
                    let rest: f64 = (0..k)
                        .filter(|&i| i != am)
                        .map(|i| (col[i] - m).exp())
                        .sum();
                    let lse = m + rest.ln_1p();
                    loss += (m - col[t]) + rest.ln_1p();
                    if c / b >= self.scored_from {
                        scored += 1;
                        // First maximum, as numpy's argmax.
                        correct += usize::from(am == t);
                    }
                    for (i, yv) in y.iter_mut().enumerate() {
                        let p = (col[i] - lse).exp() - if i == t { 1.0 } else { 0.0 };
                        *yv = T::of(p * scale);
                    }
                }
                Targets::Values(v) => {
                    for (i, yv) in y.iter_mut().enumerate() {
                        let diff = col[i] - v[c * k + i];
                        loss += diff * diff;
                        *yv = T::of(2.0 * diff * scale);
                    }
                }
            }
        }
        let ev = Eval {
            loss: loss * scale,
            correct,
            scored,
        };
        let Some(grad) = grad else {
            return ev;
        };
        let (gc, gr) = grad.split_at_mut(ncell);
        let (gw_out, gb_out) = gr.split_at_mut(k * n);
        let dy = &self.y[..kb * ns];
        for (r, (j0, j1)) in runs(&self.readout).into_iter().enumerate() {
            let s0 = self.readout[j0];
            gemm(
                gw_out,
                k,
                n,
                r > 0,
                Op::n(&dy[j0 * kb..j1 * kb], k, b * (j1 - j0)),
                Op::t(&self.ws.h[s0 * n * b..], n, b * (j1 - j0)),
            );
        }
        row_sums(dy, k, gb_out, false);
        if self.dh.len() < n * b * ns {
            self.dh.resize(n * b * ns, T::zero());
        }
        gemm(
            &mut self.dh[..n * b * ns],
            n,
            b * ns,
            false,
            Op::t(w_out, k, n),
            Op::n(dy, k, b * ns),
        );
        let out = ReadoutGrad {
            steps: &self.readout,
            dh: &self.dh[..n * b * ns],
        };
        self.cell.backward(pc, x, dims, &mut self.ws, &out, gc);
        ev
    }

    /// Loss and accuracy of a large batch, `chunk` sequences at a time (bounded memory), and
    /// with `grad` the gradient of the mean loss over the whole batch.
    pub(crate) fn evaluate_chunked(
        &mut self,
        params: &[T],
        batch: &Batch<T>,
        chunk: usize,
        mut grad: Option<&mut [T]>,
    ) -> Eval {
        let (b, d, ns) = (batch.batch, self.d, self.readout.len());
        let chunk = chunk.max(1).min(b);
        let mut total = Eval {
            loss: 0.0,
            correct: 0,
            scored: 0,
        };
        let mut part = match grad {
            Some(_) => vec![T::zero(); params.len()],
            None => Vec::new(),
        };
        if let Some(g) = grad.as_deref_mut() {
            g.fill(T::zero());
        }
        let mut j0 = 0;
        while j0 < b {
            let j1 = (j0 + chunk).min(b);
            let bc = j1 - j0;
            let targets = gather(batch, j0, j1, self.len, d, ns, self.k, &mut self.gx);
            let x = std::mem::take(&mut self.gx);
            let want = grad.is_some();
            let e = self.pass(params, &x, &targets, bc, want.then_some(&mut part[..]));
            self.gx = x;
            if let Some(g) = grad.as_deref_mut() {
                // The chunk's gradient is of its own mean: weight by its share of the batch.
                let w = T::of(bc as f64 / b as f64);
                for (g, &p) in g.iter_mut().zip(&part) {
                    *g += w * p;
                }
            }
            total.loss += e.loss * bc as f64;
            total.correct += e.correct;
            total.scored += e.scored;
            j0 = j1;
        }
        total.loss /= b as f64;
        total
    }
}

/// Copies sequences `j0..j1` of `batch` into `x` (an `L × (j1 − j0) × d` array) and returns
/// their targets.
#[allow(clippy::too_many_arguments)]
fn gather<T: Real>(
    batch: &Batch<T>,
    j0: usize,
    j1: usize,
    len: usize,
    d: usize,
    ns: usize,
    k: usize,
    x: &mut Vec<T>,
) -> Targets {
    let b = batch.batch;
    x.clear();
    for s in 0..len {
        x.extend_from_slice(&batch.x[(s * b + j0) * d..(s * b + j1) * d]);
    }
    match &batch.targets {
        Targets::Classes(c) => Targets::Classes(
            (0..ns)
                .flat_map(|j| c[j * b + j0..j * b + j1].iter().copied())
                .collect(),
        ),
        Targets::Values(v) => Targets::Values(
            (0..ns)
                .flat_map(|j| v[(j * b + j0) * k..(j * b + j1) * k].iter().copied())
                .collect(),
        ),
    }
}

/// A pass over a batch split into `parts` equal groups of sequences computed in parallel
/// (rayon), each by its own [`Engine`]; losses and gradients are combined in the order of the
/// parts. The result depends on `parts` (the order of the sums), not on the number of
/// threads that run them. `parts = 1` is the plain single-threaded pass.
pub(crate) struct Split<T> {
    parts: Vec<Part<T>>,
}

struct Part<T> {
    engine: Engine<T>,
    x: Vec<T>,
    grad: Vec<T>,
    eval: Eval,
}

impl<T: Real> Split<T> {
    pub(crate) fn new(m: &Model, parts: usize) -> Self {
        Split {
            parts: (0..parts.max(1))
                .map(|_| Part {
                    engine: Engine::new(m),
                    x: Vec::new(),
                    grad: Vec::new(),
                    eval: Eval {
                        loss: 0.0,
                        correct: 0,
                        scored: 0,
                    },
                })
                .collect(),
        }
    }

    /// As [`Engine::pass`] over the whole batch.
    pub(crate) fn pass(&mut self, params: &[T], batch: &Batch<T>, grad: Option<&mut [T]>) -> Eval {
        let b = batch.batch;
        let k = self.parts.len().min(b);
        if k == 1 {
            return self.parts[0]
                .engine
                .pass(params, &batch.x, &batch.targets, b, grad);
        }
        use rayon::prelude::*;
        let want = grad.is_some();
        self.parts[..k]
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, p)| {
                let (j0, j1) = (i * b / k, (i + 1) * b / k);
                let e = &p.engine;
                let targets = gather(batch, j0, j1, e.len, e.d, e.readout.len(), e.k, &mut p.x);
                if want {
                    p.grad.resize(params.len(), T::zero());
                }
                let x = std::mem::take(&mut p.x);
                p.eval = p.engine.pass(
                    params,
                    &x,
                    &targets,
                    j1 - j0,
                    want.then_some(&mut p.grad[..]),
                );
                p.x = x;
            });
        let mut total = Eval {
            loss: 0.0,
            correct: 0,
            scored: 0,
        };
        if let Some(g) = grad {
            g.fill(T::zero());
            for (i, p) in self.parts[..k].iter().enumerate() {
                let w = T::of(((i + 1) * b / k - i * b / k) as f64 / b as f64);
                for (g, &v) in g.iter_mut().zip(&p.grad) {
                    *g += w * v;
                }
            }
        }
        for (i, p) in self.parts[..k].iter().enumerate() {
            total.loss += p.eval.loss * ((i + 1) * b / k - i * b / k) as f64 / b as f64;
            total.correct += p.eval.correct;
            total.scored += p.eval.scored;
        }
        total
    }

    /// The first part's engine (for chunked evaluation).
    pub(crate) fn engine(&mut self) -> &mut Engine<T> {
        &mut self.parts[0].engine
    }
}

/// Maximal runs `[j0, j1)` of consecutive steps in the increasing list `steps`.
fn runs(steps: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut j0 = 0;
    for j in 1..=steps.len() {
        if j == steps.len() || steps[j] != steps[j - 1] + 1 {
            out.push((j0, j));
            j0 = j;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_consecutive_steps() {
        assert_eq!(runs(&[3]), vec![(0, 1)]);
        assert_eq!(runs(&[1, 2, 3, 7, 8, 10]), vec![(0, 3), (3, 5), (5, 6)]);
        assert!(runs(&[]).is_empty());
    }
}
