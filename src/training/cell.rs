//! What varies per cell: its parameter tensors, its forward pass over a sequence and its
//! backward pass — the [`TrainCell`] trait, implemented by [`VanillaTrain`] and
//! [`MinimalTrain`]. Everything else in [`crate::training`] (readout, losses, optimizers,
//! tasks, initializations, export) is written once for every cell.
//!
//! Equations: `theory/09-training.md` (T.1)–(T.8).

use crate::activation::Builtin;

use super::linalg::{Op, Real, add_columns, gemm, row_sums, simd};

/// What a parameter tensor is, for the initializations ([`super::InitScheme`]) and the
/// exported manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The recurrent matrix `W` (`N × N`).
    Recurrent,
    /// The input matrix `V` of the cell (`N × fan-in`).
    Input,
    /// The cell's bias `b` (`N`).
    Bias,
    /// The minimalRNN's input embedding matrix `U` (`N × d`).
    EmbeddingWeight,
    /// The embedding's bias `b_z` (`N`).
    EmbeddingBias,
    /// The readout matrix `W_out` (`K × N`).
    ReadoutWeight,
    /// The readout bias `b_out` (`K`).
    ReadoutBias,
}

/// One parameter tensor: name, shape (`cols = 1` for vectors), role. Stored column-major in
/// the flat parameter vector, in the order listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TensorSpec {
    /// Name (`W`, `V`, `b`, `U`, `b_z`, `W_out`, `b_out`).
    pub name: &'static str,
    /// Rows.
    pub rows: usize,
    /// Columns (1 for a vector).
    pub cols: usize,
    /// What it is.
    pub role: Role,
}

impl TensorSpec {
    /// The tensor `name` of shape `rows × cols` in role `role`.
    pub(crate) const fn new(name: &'static str, rows: usize, cols: usize, role: Role) -> Self {
        TensorSpec {
            name,
            rows,
            cols,
            role,
        }
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The shape as NumPy sees it (`(rows, cols)` or `(rows,)`).
    pub fn shape(&self) -> Vec<usize> {
        if self.cols == 1
            && matches!(
                self.role,
                Role::Bias | Role::EmbeddingBias | Role::ReadoutBias
            )
        {
            vec![self.rows]
        } else {
            vec![self.rows, self.cols]
        }
    }
}

/// Sizes of one pass: width `n`, input dimension `d`, batch `b`, steps `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dims {
    pub n: usize,
    pub d: usize,
    pub b: usize,
    pub t: usize,
}

/// Buffers of a forward/backward pass, reused across steps and training steps. A cell uses
/// the ones it needs; the sizes are in elements of `T`.
#[derive(Debug, Default)]
pub(crate) struct Workspace<T> {
    /// Hidden states, `N × B(T+1)`: block 0 is `h⁰ = 0`, block `s` the state after step `s`.
    pub h: Vec<T>,
    /// Per step `N × B`: vanilla pre-activations `a_t`; minimalRNN gates `u_t`.
    pub a: Vec<T>,
    /// minimalRNN: embedded inputs `z_t`, `N × BT`.
    pub z: Vec<T>,
    /// Gradients with respect to `a_t` (vanilla) or the gate pre-activations (minimalRNN).
    pub da: Vec<T>,
    /// minimalRNN: gradients with respect to `z_t`.
    pub dz: Vec<T>,
    /// `∂L/∂h_t` flowing back from later steps, `N × B`.
    pub carry: Vec<T>,
}

impl<T: Real> Workspace<T> {
    /// Readies a backward pass over `t` steps of `nb = N·B` values: room for the gradients
    /// `da` of every step, and a zero `carry` (nothing flows back from beyond the last step).
    fn start_backward(&mut self, nb: usize, t: usize) {
        ensure(&mut self.da, nb * t);
        ensure(&mut self.carry, nb);
        self.carry[..nb].fill(T::zero());
    }
}

fn ensure<T: Real>(v: &mut Vec<T>, len: usize) {
    if v.len() < len {
        v.resize(len, T::zero());
    }
}

/// `∂L/∂h_s` from the readout, at the readout steps `steps` (1-based, increasing): block `j`
/// of `dh` (`N × B`) belongs to step `steps[j]`.
pub(crate) struct ReadoutGrad<'a, T> {
    pub steps: &'a [usize],
    pub dh: &'a [T],
}

/// A recurrent cell the engine can train: its parameters, and exact forward and backward
/// passes over a batch of sequences (backpropagation through time).
///
/// Contract: `forward` fills `ws.h` with `h⁰ = 0, h¹, …, h^T` (`N × B(T+1)`, column `j` of
/// block `s` is sequence `j` after step `s`) and keeps what `backward` needs; `backward`
/// receives `∂L/∂h_s` at the readout steps and writes `∂L/∂θ` for the cell's parameters
/// into `grad` (same layout as the parameters: the tensors of [`TrainCell::tensors`] in
/// order, column-major). `x` is `d × BT` (block `s` = inputs of step `s + 1`).
pub(crate) trait TrainCell: Send + Sync {
    /// The parameter tensors for width `n` and input dimension `d`.
    fn tensors(&self, n: usize, d: usize) -> Vec<TensorSpec>;
    /// Elements of workspace per (step, sequence), for the memory bound.
    fn workspace_per_step(&self, n: usize) -> usize;
    /// The forward equations, in words (for the exported manifest).
    fn equations(&self) -> String;
    /// Forward pass over `dims.t` steps.
    fn forward<T: Real>(&self, p: &[T], x: &[T], dims: Dims, ws: &mut Workspace<T>);
    /// Backward pass; `ws` as left by `forward` on the same `p`, `x`.
    fn backward<T: Real>(
        &self,
        p: &[T],
        x: &[T],
        dims: Dims,
        ws: &mut Workspace<T>,
        out: &ReadoutGrad<T>,
        grad: &mut [T],
    );
}

/// Adds the readout gradient of step `s + 1` (if it is one) to `carry`, moving the cursor.
fn add_readout<T: Real>(s: usize, out: &ReadoutGrad<T>, next: &mut Option<usize>, carry: &mut [T]) {
    if let Some(j) = *next
        && out.steps[j] == s + 1
    {
        let nb = carry.len();
        simd(|| {
            for (c, &g) in carry.iter_mut().zip(&out.dh[j * nb..(j + 1) * nb]) {
                *c += g;
            }
        });
        *next = j.checked_sub(1);
    }
}

/// `out = M x + b` for every column of `x` (all steps of the batch at once, as in (T.2)):
/// `M` is `n × k`, `x` is `k × cols`, `out` is `n × cols`.
fn affine_steps<T: Real>(out: &mut [T], n: usize, m: &[T], k: usize, x: &[T], bias: &[T]) {
    let cols = out.len() / n;
    gemm(out, n, cols, false, Op::n(m, n, k), Op::n(x, k, cols));
    add_columns(out, n, bias);
}

/// The gradients of an affine map `M x + b` over all steps (T.5): `∂L/∂M = δ xᵀ`,
/// `∂L/∂b = Σ_columns δ`, from `δ` (`n × cols`) and the inputs `x` (`k × cols`).
fn affine_grads<T: Real>(gm: &mut [T], gb: &mut [T], delta: &[T], x: &[T], n: usize, k: usize) {
    let cols = delta.len() / n;
    gemm(gm, n, k, false, Op::n(delta, n, cols), Op::t(x, k, cols));
    row_sums(delta, n, gb, false);
}

/// `∂L/∂W = Σ_{t ≥ 2} δ_t h_{t−1}ᵀ` (T.5) from `δ` (`n × BT`) and the states `h⁰ … h^{T−1}`
/// (`n × BT`, batch `b`): `h⁰ = 0`, so step 1 contributes nothing.
fn recurrent_grad<T: Real>(gw: &mut [T], da: &[T], h: &[T], n: usize, b: usize) {
    let (nb, bt) = (n * b, da.len() / n);
    gemm(
        gw,
        n,
        n,
        false,
        Op::n(&da[nb..], n, bt - b),
        Op::t(&h[nb..], n, bt - b),
    );
}

/// The vanilla RNN `h_t = φ(W h_{t−1} + V x_t + b)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct VanillaTrain {
    pub phi: Builtin,
}

impl TrainCell for VanillaTrain {
    fn tensors(&self, n: usize, d: usize) -> Vec<TensorSpec> {
        vec![
            TensorSpec::new("W", n, n, Role::Recurrent),
            TensorSpec::new("V", n, d, Role::Input),
            TensorSpec::new("b", n, 1, Role::Bias),
        ]
    }
    fn workspace_per_step(&self, n: usize) -> usize {
        3 * n // h, a, da
    }
    fn equations(&self) -> String {
        format!(
            "h_0 = 0; for t = 1..T: a_t = W h_(t-1) + V x_t + b, h_t = {}(a_t); \
             W is (N, N), V is (N, d), b is (N,), acting on column vectors",
            self.phi
        )
    }

    fn forward<T: Real>(&self, p: &[T], x: &[T], dims: Dims, ws: &mut Workspace<T>) {
        let Dims { n, d, b, t } = dims;
        let nb = n * b;
        let (w, rest) = p.split_at(n * n);
        let (v, rest) = rest.split_at(n * d);
        let bias = &rest[..n];
        ensure(&mut ws.a, nb * t);
        ensure(&mut ws.h, nb * (t + 1));
        // The input projection of all steps as one product (T.2).
        affine_steps(&mut ws.a[..nb * t], n, v, d, x, bias);
        ws.h[..nb].fill(T::zero());
        for s in 0..t {
            let a = &mut ws.a[s * nb..(s + 1) * nb];
            let (prev, next) = ws.h.split_at_mut((s + 1) * nb);
            if s > 0 {
                gemm(a, n, b, true, Op::n(w, n, n), Op::n(&prev[s * nb..], n, b));
            }
            T::phi(self.phi, a, &mut next[..nb]);
        }
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
        let Dims { n, d, b, t } = dims;
        let nb = n * b;
        let w = &p[..n * n];
        ws.start_backward(nb, t);
        let mut next = out.steps.len().checked_sub(1);
        // (T.4): δ_t = (∂L/∂h_t + Wᵀ δ_{t+1}) ⊙ φ'(a_t), backwards in t.
        for s in (0..t).rev() {
            let carry = &mut ws.carry[..nb];
            add_readout(s, out, &mut next, carry);
            let da = &mut ws.da[s * nb..(s + 1) * nb];
            T::dphi_mul(
                self.phi,
                &ws.a[s * nb..(s + 1) * nb],
                &ws.h[(s + 1) * nb..(s + 2) * nb],
                carry,
                da,
            );
            if s > 0 {
                gemm(carry, n, b, false, Op::t(w, n, n), Op::n(da, n, b));
            }
        }
        // (T.5): the weight gradients as products over all steps at once.
        let (gw, rest) = grad.split_at_mut(n * n);
        let (gv, rest) = rest.split_at_mut(n * d);
        let gb = &mut rest[..n];
        let da = &ws.da[..nb * t];
        // h⁰ = 0: step 1 contributes nothing to ∂L/∂W.
        recurrent_grad(gw, da, &ws.h[..nb * t], n, b);
        affine_grads(gv, gb, da, x, n, d);
    }
}

/// The minimalRNN `u_t = σ(W h_{t−1} + V z_t + b)`, `h_t = u_t ⊙ h_{t−1} + (1 − u_t) ⊙ z_t`
/// with the learned affine embedding `z_t = U x_t + b_z`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MinimalTrain;

impl TrainCell for MinimalTrain {
    fn tensors(&self, n: usize, d: usize) -> Vec<TensorSpec> {
        vec![
            TensorSpec::new("W", n, n, Role::Recurrent),
            TensorSpec::new("V", n, n, Role::Input),
            TensorSpec::new("b", n, 1, Role::Bias),
            TensorSpec::new("U", n, d, Role::EmbeddingWeight),
            TensorSpec::new("b_z", n, 1, Role::EmbeddingBias),
        ]
    }
    fn workspace_per_step(&self, n: usize) -> usize {
        5 * n // h, u, z, da, dz
    }
    fn equations(&self) -> String {
        "h_0 = 0; for t = 1..T: z_t = U x_t + b_z, u_t = sigmoid(W h_(t-1) + V z_t + b), \
         h_t = u_t * h_(t-1) + (1 - u_t) * z_t (element-wise products); W and V are (N, N), \
         U is (N, d), b and b_z are (N,), acting on column vectors"
            .into()
    }

    fn forward<T: Real>(&self, p: &[T], x: &[T], dims: Dims, ws: &mut Workspace<T>) {
        let Dims { n, d, b, t } = dims;
        let nb = n * b;
        let (w, rest) = p.split_at(n * n);
        let (v, rest) = rest.split_at(n * n);
        let (bias, rest) = rest.split_at(n);
        let (u, rest) = rest.split_at(n * d);
        let bz = &rest[..n];
        ensure(&mut ws.z, nb * t);
        ensure(&mut ws.a, nb * t);
        ensure(&mut ws.h, nb * (t + 1));
        // Embedding and input projection of all steps as two products (T.6).
        affine_steps(&mut ws.z[..nb * t], n, u, d, x, bz);
        affine_steps(&mut ws.a[..nb * t], n, v, n, &ws.z[..nb * t], bias);
        ws.h[..nb].fill(T::zero());
        for s in 0..t {
            let gate = &mut ws.a[s * nb..(s + 1) * nb];
            let (prev, next) = ws.h.split_at_mut((s + 1) * nb);
            let prev = &prev[s * nb..];
            if s > 0 {
                gemm(gate, n, b, true, Op::n(w, n, n), Op::n(prev, n, b));
            }
            T::sigmoid_in_place(gate);
            let z = &ws.z[s * nb..(s + 1) * nb];
            simd(|| {
                for (((h, &u), &hp), &z) in next[..nb].iter_mut().zip(&*gate).zip(prev).zip(z) {
                    *h = u * hp + (T::one() - u) * z;
                }
            });
        }
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
        let Dims { n, d, b, t } = dims;
        let (nb, bt) = (n * b, b * t);
        let w = &p[..n * n];
        let v = &p[n * n..2 * n * n];
        ws.start_backward(nb, t);
        ensure(&mut ws.dz, nb * t);
        let mut next = out.steps.len().checked_sub(1);
        // (T.7), backwards in t, with g = ∂L/∂h_t:
        // ∂L/∂p_t = g ⊙ (h_{t−1} − z_t) ⊙ u(1 − u); ∂L/∂z_t ⊇ g ⊙ (1 − u);
        // ∂L/∂h_{t−1} = g ⊙ u + Wᵀ ∂L/∂p_t.
        for s in (0..t).rev() {
            let carry = &mut ws.carry[..nb];
            add_readout(s, out, &mut next, carry);
            let range = s * nb..(s + 1) * nb;
            let (u, hp, z) = (
                &ws.a[range.clone()],
                &ws.h[range.clone()],
                &ws.z[range.clone()],
            );
            let da = &mut ws.da[range.clone()];
            let dz = &mut ws.dz[range];
            simd(|| {
                let it = carry.iter_mut().zip(da.iter_mut()).zip(dz.iter_mut());
                for (((c, da), dz), ((&u, &hp), &z)) in it.zip(u.iter().zip(hp).zip(z)) {
                    let g = *c;
                    *da = g * (hp - z) * (u * (T::one() - u));
                    *dz = g * (T::one() - u);
                    *c = g * u;
                }
            });
            if s > 0 {
                gemm(carry, n, b, true, Op::t(w, n, n), Op::n(da, n, b));
            }
        }
        let da = &ws.da[..nb * t];
        // ∂L/∂z_t also flows through the gate: += Vᵀ ∂L/∂p_t, all steps at once (T.8).
        gemm(
            &mut ws.dz[..nb * t],
            n,
            bt,
            true,
            Op::t(v, n, n),
            Op::n(da, n, bt),
        );
        let dz = &ws.dz[..nb * t];
        let (gw, rest) = grad.split_at_mut(n * n);
        let (gv, rest) = rest.split_at_mut(n * n);
        let (gb, rest) = rest.split_at_mut(n);
        let (gu, rest) = rest.split_at_mut(n * d);
        let gbz = &mut rest[..n];
        recurrent_grad(gw, da, &ws.h[..nb * t], n, b);
        affine_grads(gv, gb, da, &ws.z[..nb * t], n, n);
        affine_grads(gu, gbz, dz, x, n, d);
    }
}
