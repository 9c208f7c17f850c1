//! Dense kernels of the training engine: the two float types, matrix products and the
//! element-wise maps of the cells.
//!
//! Matrices are column-major slices. A batch of `B` vectors of length `n` is an `n × B` block;
//! the blocks of `T` steps follow each other, so a whole sequence is one `n × (B·T)` matrix
//! (and, read in C order, a `T × B × n` array: the layout of the exported `.npy` files).
//!
//! Products go to the `gemm` crate (runtime dispatch to AVX-512 / AVX2 / SSE kernels), the
//! only `unsafe` call of mfrnn: [`gemm`] checks every dimension and slice length first, so
//! the raw-pointer call cannot read or write outside the slices it was given. Element-wise
//! loops run under `pulp`'s runtime dispatch, so that the compiler vectorises them for the
//! instruction set of the machine rather than for baseline x86-64.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{AddAssign, MulAssign, SubAssign};

use num_traits::Float;

use crate::activation::{Activation, Builtin, Deriv};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The float types the engine trains in: `f32` (speed) and `f64` (gradient checks and
/// exported evaluations).
pub trait Real:
    Float
    + Send
    + Sync
    + Debug
    + Default
    + AddAssign
    + SubAssign
    + MulAssign
    + Sum
    + 'static
    + sealed::Sealed
{
    /// NumPy's name of the type (`float32`, `float64`).
    const DTYPE: &'static str;
    /// `v` rounded to this type.
    fn of(v: f64) -> Self;
    /// The value as `f64` (exact).
    fn f64(self) -> f64;
    /// `h = φ(a)` element-wise.
    fn phi(phi: Builtin, a: &[Self], h: &mut [Self]);
    /// `out = g ⊙ φ'(a)` element-wise, where `h = φ(a)` is available too (the `f32` path uses
    /// it where that is cheaper: `tanh' = 1 − h²`, `σ' = h(1 − h)`).
    fn dphi_mul(phi: Builtin, a: &[Self], h: &[Self], g: &[Self], out: &mut [Self]);
    /// The logistic sigmoid element-wise, in place.
    fn sigmoid_in_place(x: &mut [Self]);
    /// The bytes of a `.npy` file holding `data` (C order) with `shape`.
    ///
    /// # Errors
    /// As [`crate::init::npy::to_bytes`].
    fn npy_bytes(data: &[Self], shape: &[usize]) -> crate::Result<Vec<u8>>;
}

/// Runs `f` compiled for the best instruction set of this machine (AVX-512, AVX2, ...), so
/// that the loops inside are vectorised for it.
#[inline]
pub(crate) fn simd<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

impl Real for f64 {
    const DTYPE: &'static str = "float64";
    #[inline]
    fn of(v: f64) -> Self {
        v
    }
    #[inline]
    fn f64(self) -> f64 {
        self
    }
    fn phi(phi: Builtin, a: &[f64], h: &mut [f64]) {
        // The crate's accurate activations (f64 is the precision of the checks), with the
        // common ones called directly so that the loop inlines them.
        use crate::activation::{sigmoid, tanh};
        let map = |f: &dyn Fn(f64) -> f64, h: &mut [f64]| {
            for (h, &a) in h.iter_mut().zip(a) {
                *h = f(a);
            }
        };
        match phi {
            Builtin::Tanh => {
                for (h, &a) in h.iter_mut().zip(a) {
                    *h = tanh(a);
                }
            }
            Builtin::Sigmoid => {
                for (h, &a) in h.iter_mut().zip(a) {
                    *h = sigmoid(a);
                }
            }
            Builtin::Relu => {
                for (h, &a) in h.iter_mut().zip(a) {
                    *h = a.max(0.0);
                }
            }
            Builtin::Linear => h.copy_from_slice(a),
            _ => map(&|x| phi.eval(Deriv::Phi, x), h),
        }
    }
    fn dphi_mul(phi: Builtin, a: &[f64], h: &[f64], g: &[f64], out: &mut [f64]) {
        use crate::activation::sech2;
        match phi {
            Builtin::Tanh => {
                for ((o, &a), &g) in out.iter_mut().zip(a).zip(g) {
                    *o = g * sech2(a);
                }
            }
            // σ' = σ(1 − σ) from the stored σ(a): no second exponential.
            Builtin::Sigmoid => {
                for ((o, &h), &g) in out.iter_mut().zip(h).zip(g) {
                    *o = g * (h * (1.0 - h));
                }
            }
            Builtin::Linear => out.copy_from_slice(g),
            _ => {
                for ((o, &a), &g) in out.iter_mut().zip(a).zip(g) {
                    *o = g * phi.eval(Deriv::DPhi, a);
                }
            }
        }
    }
    fn sigmoid_in_place(x: &mut [f64]) {
        for v in x {
            *v = crate::activation::sigmoid(*v);
        }
    }
    fn npy_bytes(data: &[f64], shape: &[usize]) -> crate::Result<Vec<u8>> {
        crate::init::npy::to_bytes(data, shape)
    }
}

impl Real for f32 {
    const DTYPE: &'static str = "float32";
    #[inline]
    fn of(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn f64(self) -> f64 {
        f64::from(self)
    }
    fn phi(phi: Builtin, a: &[f32], h: &mut [f32]) {
        simd(|| match phi {
            Builtin::Tanh => {
                for (h, &a) in h.iter_mut().zip(a) {
                    *h = tanh_f32(a);
                }
            }
            Builtin::Sigmoid => {
                for (h, &a) in h.iter_mut().zip(a) {
                    *h = sigmoid_f32(a);
                }
            }
            Builtin::Relu => {
                for (h, &a) in h.iter_mut().zip(a) {
                    *h = a.max(0.0);
                }
            }
            Builtin::Linear => h.copy_from_slice(a),
            Builtin::HardTanh => {
                for (h, &a) in h.iter_mut().zip(a) {
                    *h = a.clamp(-1.0, 1.0);
                }
            }
            // No fast path: the accurate f64 functions, rounded.
            Builtin::Erf | Builtin::Softplus => {
                for (h, &a) in h.iter_mut().zip(a) {
                    *h = phi.eval(Deriv::Phi, f64::from(a)) as f32;
                }
            }
        });
    }
    fn dphi_mul(phi: Builtin, a: &[f32], h: &[f32], g: &[f32], out: &mut [f32]) {
        simd(|| match phi {
            Builtin::Tanh => {
                for ((o, &h), &g) in out.iter_mut().zip(h).zip(g) {
                    *o = g * (1.0 - h * h);
                }
            }
            Builtin::Sigmoid => {
                for ((o, &h), &g) in out.iter_mut().zip(h).zip(g) {
                    *o = g * (h * (1.0 - h));
                }
            }
            Builtin::Linear => out.copy_from_slice(g),
            // The crate's conventions at the kinks: φ'(kink) = 1/2.
            Builtin::Relu => {
                for ((o, &a), &g) in out.iter_mut().zip(a).zip(g) {
                    let d = if a > 0.0 {
                        1.0
                    } else if a < 0.0 {
                        0.0
                    } else {
                        0.5
                    };
                    *o = g * d;
                }
            }
            Builtin::HardTanh => {
                for ((o, &a), &g) in out.iter_mut().zip(a).zip(g) {
                    let m = a.abs();
                    let d = if m < 1.0 {
                        1.0
                    } else if m > 1.0 {
                        0.0
                    } else {
                        0.5
                    };
                    *o = g * d;
                }
            }
            Builtin::Erf | Builtin::Softplus => {
                for ((o, &a), &g) in out.iter_mut().zip(a).zip(g) {
                    *o = g * phi.eval(Deriv::DPhi, f64::from(a)) as f32;
                }
            }
        });
    }
    fn sigmoid_in_place(x: &mut [f32]) {
        simd(|| {
            for v in x {
                *v = sigmoid_f32(*v);
            }
        });
    }
    fn npy_bytes(data: &[f32], shape: &[usize]) -> crate::Result<Vec<u8>> {
        crate::init::npy::to_bytes_f32(data, shape)
    }
}

/// `e^x` for `x <= 0` in `f32` without branches (so that loops over it vectorise): `x = n ln 2
/// + r` with `|r| <= ln 2 / 2` (two-part `ln 2`, Cody & Waite), `e^r` by its Taylor polynomial
/// of degree 7 (truncation `r⁸/8! < 6e-9` relative), and `2^n` from the exponent bits.
/// Arguments below `−87` are clamped (the result, `≈ 1.6e-38`, is below every use's rounding).
#[inline(always)]
fn exp_neg_f32(x: f32) -> f32 {
    let x = x.max(-87.0);
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2²³: adding it rounds to an integer.
    let t = x * std::f32::consts::LOG2_E + MAGIC;
    let n = t - MAGIC;
    let ni = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let r = (x - n * 0.693_359_4) - n * (-2.121_944_4e-4);
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r / 5040.0))))));
    p * f32::from_bits(((ni + 127) as u32) << 23)
}

/// `tanh x` in `f32`, branch-free: the odd Taylor polynomial through `x¹³` for `|x| < 0.4`
/// (truncation below `4e-9` relative) and `(1 − e)/(1 + e)`, `e = e^{−2|x|}`, above.
/// Tested within 4 ulp of the `f64` value (`fast_f32_functions_are_accurate`).
#[inline(always)]
pub(crate) fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let x2 = a * a;
    let small = a
        * (1.0
            + x2 * (-1.0 / 3.0
                + x2 * (2.0 / 15.0
                    + x2 * (-17.0 / 315.0
                        + x2 * (62.0 / 2835.0
                            + x2 * (-1382.0 / 155_925.0 + x2 * (21844.0 / 6_081_075.0)))))));
    let e = exp_neg_f32(-2.0 * a);
    let big = (1.0 - e) / (1.0 + e);
    let v = if a < 0.4 { small } else { big };
    v.copysign(x)
}

/// The logistic sigmoid in `f32`, branch-free and accurate in both tails:
/// `s = 1/(1 + e^{−|x|})`, and `e^{−|x|} s` for negative `x`.
#[inline(always)]
pub(crate) fn sigmoid_f32(x: f32) -> f32 {
    let e = exp_neg_f32(-x.abs());
    let s = 1.0 / (1.0 + e);
    if x >= 0.0 { s } else { e * s }
}

/// A matrix operand: a column-major `rows × cols` slice, used as it is or transposed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Op<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    trans: bool,
}

impl<'a, T> Op<'a, T> {
    /// The stored `rows × cols` matrix (`data` may be longer; only the first `rows·cols`
    /// elements are read).
    pub(crate) fn n(data: &'a [T], rows: usize, cols: usize) -> Self {
        Op {
            data,
            rows,
            cols,
            trans: false,
        }
    }
    /// The transpose of the stored `rows × cols` matrix.
    pub(crate) fn t(data: &'a [T], rows: usize, cols: usize) -> Self {
        Op {
            data,
            rows,
            cols,
            trans: true,
        }
    }
    /// Shape of the operand as used: `(rows, cols)` of `op(A)`.
    fn shape(&self) -> (usize, usize) {
        if self.trans {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }
    /// Column and row strides of `op(A)`.
    fn strides(&self) -> (isize, isize) {
        if self.trans {
            (1, self.rows as isize)
        } else {
            (self.rows as isize, 1)
        }
    }
}

/// `C = op(A) op(B)` (`accumulate = false`) or `C += op(A) op(B)` (`true`), with `C` the
/// column-major `m × n` matrix in the first `m·n` elements of `c`; one thread.
///
/// # Panics
/// If the operand shapes do not agree or a slice is shorter than its matrix (a bug in the
/// caller: the engine sizes every buffer from validated dimensions).
pub(crate) fn gemm<T: Real>(c: &mut [T], m: usize, n: usize, accumulate: bool, a: Op<T>, b: Op<T>) {
    let (am, ak) = a.shape();
    let (bk, bn) = b.shape();
    assert!(
        am == m && bn == n && ak == bk,
        "gemm shapes: C {m}×{n}, A {am}×{ak}, B {bk}×{bn}"
    );
    assert!(
        c.len() >= m * n && a.data.len() >= a.rows * a.cols && b.data.len() >= b.rows * b.cols,
        "gemm: a slice is shorter than its matrix"
    );
    if m == 0 || n == 0 {
        return;
    }
    if ak == 0 {
        if !accumulate {
            c[..m * n].fill(T::zero());
        }
        return;
    }
    let (acs, ars) = a.strides();
    let (bcs, brs) = b.strides();
    // SAFETY: every index gemm touches is (i·rs + j·cs) for i < rows, j < cols of its operand
    // as used; with the strides above that is an index into the stored column-major matrix,
    // below rows·cols <= len, checked above. `c` is borrowed mutably, `a`, `b` immutably, so
    // the destination cannot alias an operand. T is f32 or f64 (sealed), which gemm supports.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            ak,
            c.as_mut_ptr(),
            m as isize,
            1,
            accumulate,
            a.data.as_ptr(),
            acs,
            ars,
            b.data.as_ptr(),
            bcs,
            brs,
            T::one(),
            T::one(),
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Adds the vector `v` (length `m`) to every column of the column-major `m × n` matrix `x`.
pub(crate) fn add_columns<T: Real>(x: &mut [T], m: usize, v: &[T]) {
    simd(|| {
        for col in x.chunks_exact_mut(m) {
            for (a, &b) in col.iter_mut().zip(v) {
                *a += b;
            }
        }
    });
}

/// `out[i] (+)= Σ_j x[i, j]` over the columns of the column-major `m × n` matrix `x`.
pub(crate) fn row_sums<T: Real>(x: &[T], m: usize, out: &mut [T], accumulate: bool) {
    if !accumulate {
        out.fill(T::zero());
    }
    simd(|| {
        for col in x.chunks_exact(m) {
            for (o, &v) in out.iter_mut().zip(col) {
                *o += v;
            }
        }
    });
}

/// `Σ x²` accumulated in `f64`.
pub(crate) fn sum_sq<T: Real>(x: &[T]) -> f64 {
    x.iter().map(|v| v.f64() * v.f64()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn naive(
        m: usize,
        n: usize,
        a: &[f64],
        ta: bool,
        ar: usize,
        b: &[f64],
        tb: bool,
        br: usize,
    ) -> Vec<f64> {
        let k = if ta { ar } else { a.len() / ar };
        let at = |i: usize, l: usize| if ta { a[l + i * ar] } else { a[i + l * ar] };
        let bt = |l: usize, j: usize| if tb { b[j + l * br] } else { b[l + j * br] };
        let mut c = vec![0.0; m * n];
        for j in 0..n {
            for i in 0..m {
                c[i + j * m] = (0..k).map(|l| at(i, l) * bt(l, j)).sum();
            }
        }
        c
    }

    /// Every transpose combination against a naive triple loop, including accumulation.
    #[test]
    fn gemm_matches_naive_products() {
        let (m, n, k) = (7, 5, 9);
        let a: Vec<f64> = (0..m * k).map(|i| ((i * 37) % 11) as f64 - 5.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| ((i * 17) % 7) as f64 - 3.0).collect();
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let opa = if ta { Op::t(&a, k, m) } else { Op::n(&a, m, k) };
            let opb = if tb { Op::t(&b, n, k) } else { Op::n(&b, k, n) };
            let expect = naive(
                m,
                n,
                &a,
                ta,
                if ta { k } else { m },
                &b,
                tb,
                if tb { n } else { k },
            );
            let mut c = vec![1.0; m * n];
            gemm(&mut c, m, n, false, opa, opb);
            assert_eq!(c, expect, "{ta} {tb}");
            gemm(&mut c, m, n, true, opa, opb);
            let twice: Vec<f64> = expect.iter().map(|x| 2.0 * x).collect();
            assert_eq!(c, twice);
        }
        let mut c = vec![3.0; 4];
        gemm::<f64>(&mut c, 2, 2, false, Op::n(&[], 2, 0), Op::n(&[], 0, 2));
        assert_eq!(c, vec![0.0; 4]);
    }

    #[test]
    #[should_panic(expected = "gemm shapes")]
    fn gemm_refuses_mismatched_shapes() {
        let mut c = vec![0.0f32; 4];
        gemm(
            &mut c,
            2,
            2,
            false,
            Op::n(&[0.0; 6], 2, 3),
            Op::n(&[0.0; 4], 2, 2),
        );
    }

    /// The f32 fast paths against the f64 functions on a dense grid: tanh within 4 ulp
    /// (relative to the value), sigmoid within 4 ulp, both exact at ±0 and saturating.
    #[test]
    fn fast_f32_functions_are_accurate() {
        let ulp = f64::from(f32::EPSILON);
        let (mut wt, mut ws) = (0.0f64, 0.0f64);
        for i in -400_000..=400_000 {
            let x = i as f32 * 5e-5;
            let xd = f64::from(x);
            if x != 0.0 {
                let t = xd.tanh();
                wt = wt.max((f64::from(tanh_f32(x)) - t).abs() / t.abs());
            }
            let s = crate::activation::sigmoid(xd);
            ws = ws.max((f64::from(sigmoid_f32(x)) - s).abs() / s);
        }
        for x in [-80.0f32, -40.0, -15.0, 15.0, 40.0, 80.0, 200.0] {
            let s = crate::activation::sigmoid(f64::from(x));
            ws = ws.max((f64::from(sigmoid_f32(x)) - s).abs() / s);
            assert_eq!(tanh_f32(x), x.signum());
        }
        assert!(wt < 4.0 * ulp, "tanh: {} ulp", wt / ulp);
        assert!(ws < 4.0 * ulp, "sigmoid: {} ulp", ws / ulp);
        assert_eq!(tanh_f32(0.0), 0.0);
        assert_eq!(sigmoid_f32(0.0), 0.5);
    }

    /// The f32 element-wise maps agree with the f64 ones (the reference) for every activation.
    #[test]
    fn f32_maps_agree_with_f64() {
        let a64: Vec<f64> = (0..401).map(|i| (i as f64 - 200.0) * 0.025).collect();
        let a32: Vec<f32> = a64.iter().map(|&v| v as f32).collect();
        let g64: Vec<f64> = (0..401).map(|i| 1.0 + 0.001 * i as f64).collect();
        let g32: Vec<f32> = g64.iter().map(|&v| v as f32).collect();
        for phi in Builtin::ALL {
            let (mut h64, mut h32) = (vec![0.0; 401], vec![0.0f32; 401]);
            f64::phi(phi, &a64, &mut h64);
            f32::phi(phi, &a32, &mut h32);
            let (mut d64, mut d32) = (vec![0.0; 401], vec![0.0f32; 401]);
            f64::dphi_mul(phi, &a64, &h64, &g64, &mut d64);
            f32::dphi_mul(phi, &a32, &h32, &g32, &mut d32);
            for i in 0..401 {
                // f32 rounding of the argument and of 1 − h² near saturation: absolute 1e-6.
                assert!(
                    (f64::from(h32[i]) - h64[i]).abs() < 1e-6,
                    "{phi} φ at {}",
                    a64[i]
                );
                assert!(
                    (f64::from(d32[i]) - d64[i]).abs() < 2e-6,
                    "{phi} φ' at {}",
                    a64[i]
                );
            }
        }
    }
}
