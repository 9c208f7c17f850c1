//! Critical initialization: weight scales that put an RNN at `χ₁ = 1` with a chosen fixed
//! point, their predicted Jacobian spectra, an inverse design for a sequence length, and
//! sampled weights written as `.npy` files.
//!
//! Derivations: `theory/06-critical-initialization.md` ((I.1)–(I.6)); checks in
//! `tests/init.rs`.

pub mod design;
pub mod exact;
mod minimal;
pub mod npy;
mod vanilla;
pub mod weights;

use serde::Serialize;

use crate::cells::{Cell, CellKind, CellParams, WeightLaw};
use crate::error::{Error, Result};
use crate::expect::{Fun, Integrator, Normal};
use crate::spectrum::{DiagonalLaw, ProductSpectrum};

/// Which of the two input-side scales the user fixes; the other one supplies the rest of the
/// pre-activation variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Given {
    /// `σ_b` is given; `σ_v` is solved for.
    SigmaB(f64),
    /// `σ_v` is given; `σ_b` is solved for.
    SigmaV(f64),
}

/// What a critical initialization targets: the fixed point `q*` (the pre-activation variance,
/// or the gate pre-activation variance of the minimalRNN) at bias mean `μ_b` and input second
/// moment `R`, and which input-side scale is given ([`Given`]). Named fields (or the chained
/// setters), so that no two numbers can be swapped.
///
/// ```
/// use mfrnn::init::{Given, Target};
/// let t = Target::q_star(16.0).mu_b(4.0).r(0.46).given(Given::SigmaB(0.0));
/// assert_eq!((t.q_star, t.mu_b, t.r), (16.0, 4.0, 0.46));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// The target fixed point `q*` (> 0).
    pub q_star: f64,
    /// The bias mean `μ_b`.
    pub mu_b: f64,
    /// The input second moment per coordinate `R`.
    pub r: f64,
    /// Which of `σ_b`, `σ_v` is given; the other supplies the rest of the variance.
    pub given: Given,
}

impl Target {
    /// `q*` with `μ_b = 0`, `R = 1` and `σ_b = 0` given.
    pub fn q_star(q_star: f64) -> Target {
        Target {
            q_star,
            mu_b: 0.0,
            r: 1.0,
            given: Given::SigmaB(0.0),
        }
    }
    /// Sets `μ_b`.
    #[must_use]
    pub fn mu_b(mut self, mu_b: f64) -> Target {
        self.mu_b = mu_b;
        self
    }
    /// Sets `R`.
    #[must_use]
    pub fn r(mut self, r: f64) -> Target {
        self.r = r;
        self
    }
    /// Sets the given scale.
    #[must_use]
    pub fn given(mut self, given: Given) -> Target {
        self.given = given;
        self
    }
}

/// The closed-form critical initialization of `cell` at `target` (the one dispatch of this
/// concern): the vanilla RNN's (I.1)–(I.3), `σ_w² = 1/E[φ'(μ_b + √q* z)²]` with the remaining
/// variance `q* − σ_w² E[φ²] = σ_v² R + σ_b²` split as `given` says; the minimalRNN's
/// (I.4)–(I.6) in the factorised theory, `Q* = R E[(1−u)²]/(1 − E[u²])`,
/// `σ_w² = (1 − E[u²])/(E[σ'²](Q* + R))`. Returns the scales with `χ₁` recomputed by an
/// independent quadrature, the per-step spectral growth and the check that the target is the
/// fixed point the dynamics reach from `h⁰ = 0` (warnings otherwise). Checked by
/// `tests/init.rs`.
///
/// # Errors
/// [`Error::InvalidParameter`] for `q* <= 0`, `R < 0` (the minimalRNN and a solved `σ_v`
/// need `R > 0`), a negative given scale, or a saturated nonlinearity; [`Error::Infeasible`]
/// when the remaining variance is smaller than the given part, with the feasible range of `q*`.
///
/// # Example
/// ```
/// use mfrnn::activation::Builtin;
/// use mfrnn::cells::Cell;
/// use mfrnn::init::{self, Target};
/// let c = init::critical(&Cell::vanilla(Builtin::Tanh), &Target::q_star(0.05))?;
/// assert!((c.chi_1 - 1.0).abs() < 1e-12);
/// assert!(c.params.sigma_w() > 1.0 && c.params.sigma_v() > 0.0);
/// let m = init::critical(&Cell::minimal(), &Target::q_star(16.0).mu_b(4.0).r(0.46))?;
/// assert!((m.chi_1 - 1.0).abs() < 1e-12);
/// # Ok::<(), mfrnn::Error>(())
/// ```
pub fn critical(cell: &Cell, target: &Target) -> Result<CriticalInit> {
    match cell {
        Cell::Vanilla(act) => vanilla::critical(act, target),
        Cell::Minimal => minimal::critical(target),
    }
}

/// A number per weight law.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PerWeights {
    /// Haar-orthogonal `W` (times `σ_w`).
    pub orthogonal: f64,
    /// i.i.d. Gaussian `W` with variance `σ_w²/N`.
    pub gaussian: f64,
}

/// How the target fixed point relates to the dynamics the returned scales produce.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedPointCheck {
    /// The fixed point found by the cell's own solver closest to the target (`q*` for the
    /// vanilla cell, `Q*` for the minimalRNN).
    pub found: f64,
    /// `|found − target|` relative to the target.
    pub relative_error: f64,
    /// Whether it is stable (`|slope| < 1`).
    pub stable: bool,
    /// Whether the dynamics from `h⁰ = 0` converge to it.
    pub reached_from_zero: bool,
    /// The fixed point the dynamics from `h⁰ = 0` do reach (equal to `found` when
    /// `reached_from_zero`).
    pub reached: Option<f64>,
    /// All fixed points of the map.
    pub all: Vec<f64>,
}

impl FixedPointCheck {
    /// The check of `target` against all fixed points `(value, stable, reached_from_zero)`
    /// of a map: the closest one, and the one the dynamics reach. `None` for no points.
    fn against(target: f64, points: &[(f64, bool, bool)]) -> Option<FixedPointCheck> {
        let closest = points
            .iter()
            .min_by(|a, b| (a.0 - target).abs().total_cmp(&(b.0 - target).abs()))?;
        Some(FixedPointCheck {
            found: closest.0,
            relative_error: (closest.0 - target).abs() / target,
            stable: closest.1,
            reached_from_zero: closest.2,
            reached: points.iter().find(|p| p.2).map(|p| p.0),
            all: points.iter().map(|p| p.0).collect(),
        })
    }
}

/// A critical initialization with its predictions and checks. Serialised flat: `cell`,
/// `activation`, `sigma_w`, `sigma_v`, `sigma_b`, `mu_b`, `r`, then the fields below.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalInit {
    /// The cell.
    #[serde(flatten)]
    pub cell: Cell,
    /// The scales: `σ_w` (`W` entries `N(0, σ_w²/N)`, or `σ_w` times an orthogonal matrix),
    /// `σ_v` (`V` entries `N(0, σ_v²/N_in)`), `σ_b`, and the target's `μ_b` and `R`.
    #[serde(flatten)]
    pub params: CellParams,
    /// Pre-activation variance at the fixed point.
    pub q_star: f64,
    /// Hidden second moment at the fixed point.
    pub big_q_star: f64,
    /// `χ₁` recomputed at the returned scales by the cell's theory with an independent
    /// quadrature (adaptive Gauss–Kronrod): 1 to about 1e-12.
    pub chi_1: f64,
    /// Vanilla: `μ_k = E[φ'(μ_b + √q* z)^{2k}]`, `k = 1..4`. minimalRNN: empty.
    pub mu: Vec<f64>,
    /// Growth per step of the normalised variance `(m₂ − m₁²)/m₁²` of the squared singular
    /// values of `J_T` (additive over steps for free factors).
    pub normalized_variance_per_step: PerWeights,
    /// `true` for the vanilla cell (free probability is exact at infinite width); `false` for
    /// the minimalRNN beyond one step (its Jacobians are not free across steps,
    /// `theory/04-spectra.md`), and the minimalRNN law is the factorised one.
    pub spectrum_exact: bool,
    /// The target fixed point against the dynamics (`None` when the map has no isolated
    /// fixed point, e.g. critical ReLU, whose variance map is the identity; see `warnings`).
    pub fixed_point: Option<FixedPointCheck>,
    /// Anything the user should know (unstable or unreachable target, ...).
    pub warnings: Vec<String>,
}

/// A per-step normalised variance estimated from sampled unit paths, with standard errors
/// over the process's independent replicas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UnitProcessVariance {
    /// The estimate from all paths.
    pub value: PerWeights,
    /// Its standard error.
    pub se: PerWeights,
}

/// Predicted spread of the squared singular values of `J_T` at horizon `T`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpectralWidth {
    /// Horizon `T`.
    pub horizon: usize,
    /// Normalised variance `T · v₁` per weight law.
    pub normalized_variance: PerWeights,
    /// `√(m₂)/m₁ = √(1 + v)`: root-mean-square of `λ` over its mean (1 at isometry).
    pub rms_ratio: PerWeights,
    /// Upper edge of the support of `J_T J_Tᵀ` (vanilla cell; `None` for the minimalRNN, whose
    /// multi-step law is not free; `m₁ = 1` at criticality).
    pub lambda_max: Option<PerWeights>,
}

fn check_finite(name: &'static str, v: f64, expected: &'static str, ok: bool) -> Result<()> {
    if v.is_finite() && ok {
        Ok(())
    } else {
        Err(Error::invalid(name, v, expected))
    }
}

fn validate_given(given: Given) -> Result<()> {
    match given {
        Given::SigmaB(s) => check_finite("sigma-b", s, "a finite number >= 0", s >= 0.0),
        Given::SigmaV(s) => check_finite("sigma-v", s, "a finite number >= 0", s >= 0.0),
    }
}

/// Splits the remaining pre-activation variance `rest = σ_v² R + σ_b²` between input and bias
/// ((I.2)) as [`split`] does, or returns [`Error::Infeasible`] with the constraint (`what` names
/// `rest` and its ingredients) and the feasible range of `q*` from `rest_at(q)`, the remaining
/// variance at another target.
fn split_or_infeasible(
    rest: f64,
    r: f64,
    given: Given,
    q_star: f64,
    what: String,
    rest_at: impl Fn(f64) -> Option<f64>,
) -> Result<(f64, f64)> {
    if let Some((sigma_v, sigma_b)) = split(rest, r, given, q_star) {
        if !(sigma_v.is_finite() && sigma_b.is_finite()) {
            // σ_v² = (rest − σ_b²)/R overflows for a tiny R: the R given is to blame.
            return Err(Error::invalid(
                "r",
                r,
                "large enough that σ_v² = (q* − σ_w² Q* − σ_b²)/R is finite",
            ));
        }
        return Ok((sigma_v, sigma_b));
    }
    let (need, label) = match given {
        Given::SigmaB(s) => (s * s, "σ_b²"),
        Given::SigmaV(s) => (s * s * r, "σ_v² R"),
    };
    Err(Error::Infeasible {
        parameter: "q-star",
        value: q_star,
        constraint: format!(
            "the remaining variance {what} = {rest:.6e} must cover the given {label} = {need:.6e}"
        ),
        feasible: feasible_intervals(|q| rest_at(q).map(|x| x - need)),
    })
}

/// Splits the remaining pre-activation variance `rest = σ_v² R + σ_b²` between input and bias
/// ((I.2)); returns `(σ_v, σ_b)` or `None` if the given part exceeds `rest`.
fn split(rest: f64, r: f64, given: Given, q_star: f64) -> Option<(f64, f64)> {
    // Rounding: `rest` is a difference of O(q*) terms, so a few ulps of q* below zero is zero
    // (critical ReLU has rest = 0 exactly).
    let tol = 1e-13 * q_star;
    match given {
        Given::SigmaB(sb) => {
            let sv2 = (rest - sb * sb) / r;
            if sv2 >= -tol / r {
                Some((sv2.max(0.0).sqrt(), sb))
            } else {
                None
            }
        }
        Given::SigmaV(sv) => {
            let sb2 = rest - sv * sv * r;
            if sb2 >= -tol {
                Some((sv, sb2.max(0.0).sqrt()))
            } else {
                None
            }
        }
    }
}

/// Intervals of `q*` on a log grid over `[1e-4, 1e3]` where `g(q*) >= 0`, refined by
/// bisection, formatted for an error message.
fn feasible_intervals(mut g: impl FnMut(f64) -> Option<f64>) -> String {
    let xs: Vec<f64> = (0..=140)
        .map(|i| 10f64.powf(-4.0 + 7.0 * i as f64 / 140.0))
        .collect();
    let vals: Vec<Option<f64>> = xs.iter().map(|&x| g(x)).collect();
    let ok = |v: &Option<f64>| v.is_some_and(|v| v >= 0.0);
    // 50 halvings of one step of the 140-point log grid over 7 decades: q* to a relative
    // resolution of about 1e-16, far below the 5 digits printed.
    let mut refine = |lo: f64, hi: f64, lo_ok: bool| -> f64 {
        let (lo, hi) = crate::roots::bisect_geometric(|mid| ok(&g(mid)) == lo_ok, lo, hi, 50);
        if lo_ok { lo } else { hi }
    };
    let mut out = Vec::new();
    let mut start: Option<f64> = ok(&vals[0]).then_some(xs[0]);
    for i in 1..xs.len() {
        match (ok(&vals[i - 1]), ok(&vals[i])) {
            (false, true) => start = Some(refine(xs[i - 1], xs[i], false)),
            (true, false) => {
                let end = refine(xs[i - 1], xs[i], true);
                out.push(format!("[{:.4e}, {:.4e}]", start.unwrap_or(xs[0]), end));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(format!("[{s:.4e}, 1e3 and beyond]"));
    }
    if out.is_empty() {
        "no q* in [1e-4, 1e3] is feasible with these settings".into()
    } else {
        format!("feasible q* in [1e-4, 1e3]: {}", out.join(" ∪ "))
    }
}

fn expect_at(f: &Fun, mean: f64, var: f64, eng: &Integrator) -> Result<f64> {
    Ok(eng.expect(f, &Normal::new(mean, var)?)?.value)
}

/// The cell parameters of a critical initialization: σ_w² solved from criticality, the split
/// (σ_v, σ_b) of the remaining variance, and the user's μ_b and R. Scales that cannot form
/// valid parameters (e.g. σ_v of order √q* beyond the variance budget) are the consequence of
/// the `q*` the user chose, so the error is [`Error::Infeasible`] naming `q-star`.
fn critical_params(
    sw2: f64,
    (sigma_v, sigma_b): (f64, f64),
    mu_b: f64,
    r: f64,
    q_star: f64,
) -> Result<CellParams> {
    CellParams::builder()
        .sigma_w(sw2.sqrt())
        .sigma_v(sigma_v)
        .sigma_b(sigma_b)
        .mu_b(mu_b)
        .r(r)
        .build()
        .map_err(|e| match e {
            Error::InvalidParameter {
                name,
                value,
                expected,
            } => Error::Infeasible {
                parameter: "q-star",
                value: q_star,
                constraint: format!(
                    "the critical scales at q* = {} give {name} = {} ({expected})",
                    crate::error::fmt_num(q_star),
                    crate::error::fmt_num(value)
                ),
                feasible: "choose a smaller q*".into(),
            },
            other => other,
        })
}

fn fixed_point_warnings(fp: &FixedPointCheck, name: &str) -> Vec<String> {
    let mut w = Vec::new();
    if fp.relative_error > 1e-6 {
        w.push(format!(
            "the target {name} is not a fixed point the solver finds (closest {:.6e}, \
             relative error {:.1e})",
            fp.found, fp.relative_error
        ));
    }
    if !fp.stable {
        w.push(format!("the target {name} is an unstable fixed point"));
    }
    if !fp.reached_from_zero {
        match fp.reached {
            Some(r) => w.push(format!(
                "the dynamics from h⁰ = 0 do not reach the target {name}: they settle at \
                 {r:.6e} instead"
            )),
            None => w.push(format!(
                "the dynamics from h⁰ = 0 do not reach the target {name}"
            )),
        }
    }
    w
}

impl CriticalInit {
    /// minimalRNN: the one-step normalised variance `v₁` of `J Jᵀ` from the exact unit process
    /// of the tied-weight network (`exact`, `units` paths after `burn_in` steps, seeded
    /// by `seed`) instead of the factorised Gaussian law of (I.6). Exact for one step given
    /// the unit law (`theory/04-spectra.md`, (S.5)); across steps it is still the free
    /// approximation. Checked against sampled networks in `tests/init.rs`
    /// (`minimal_width_from_unit_process`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for the vanilla cell (its law is exact already); errors of the
    /// exact theory.
    pub fn unit_process_step_variance(
        &self,
        units: usize,
        burn_in: usize,
        seed: u64,
    ) -> Result<UnitProcessVariance> {
        use crate::cells::Regime;
        use crate::exact::{self, ExactConfig};
        use crate::spectrum::gated::GatedLaw;
        if self.cell.kind() != CellKind::Minimal {
            return Err(Error::Unsupported(
                "the unit-process law applies to the minimalRNN; the vanilla per-step variance \
                 is exact already"
                    .into(),
            ));
        }
        let cfg = ExactConfig::builder()
            .units(units)
            .replicas(8)
            .seed(seed)
            .build()?;
        let paths =
            exact::jacobian_paths(&self.cell, &self.params, Regime::REAL, burn_in, 1, &cfg)?;
        let nv = |law: &GatedLaw, w| {
            let (m1, m2) = law.one_step_moments(w);
            m2 / (m1 * m1) - 1.0
        };
        let law = GatedLaw::from_paths(&paths, 0, self.params.sigma_w())?;
        // Standard errors from the spread over the independent replicas.
        let mut per = [Vec::new(), Vec::new()];
        for r in 0..paths.len() {
            let l = GatedLaw::from_paths(&paths[r..r + 1], 0, self.params.sigma_w())?;
            per[0].push(nv(&l, WeightLaw::Orthogonal));
            per[1].push(nv(&l, WeightLaw::Gaussian));
        }
        let se = |xs: &[f64]| crate::stats::mean_se(xs).se;
        Ok(UnitProcessVariance {
            value: PerWeights {
                orthogonal: nv(&law, WeightLaw::Orthogonal),
                gaussian: nv(&law, WeightLaw::Gaussian),
            },
            se: PerWeights {
                orthogonal: se(&per[0]),
                gaussian: se(&per[1]),
            },
        })
    }

    /// Predicted spread of the squared singular values of `J_T` at horizon `T` (I.3): the
    /// normalised variance `T v₁` and, for the vanilla cell, the upper edge of the support from
    /// free probability. For the minimalRNN the multi-step numbers are the free approximation.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `horizon == 0`; spectrum errors.
    pub fn spectral_width(&self, horizon: usize) -> Result<SpectralWidth> {
        if horizon == 0 {
            return Err(Error::invalid("horizon", 0.0, "at least 1"));
        }
        let t = horizon as f64;
        let nv = PerWeights {
            orthogonal: t * self.normalized_variance_per_step.orthogonal,
            gaussian: t * self.normalized_variance_per_step.gaussian,
        };
        let lambda_max = match &self.cell {
            Cell::Vanilla(act) => {
                let law =
                    DiagonalLaw::of_activation(act.as_ref(), self.params.mu_b(), self.q_star)?;
                let sw2 = self.params.sigma_w2();
                let edge = |w| -> Result<f64> {
                    let e = ProductSpectrum::new(law.clone(), sw2, horizon, w)?.edges()[1];
                    if e.is_finite() {
                        Ok(e)
                    } else {
                        Err(Error::Overflow {
                            quantity: format!(
                                "the largest squared singular value at horizon {horizon}"
                            ),
                            reason: format!(
                                "λ_max = {e:e} is beyond the largest double (1.8e308); \
                                 choose a shorter --horizon"
                            ),
                        })
                    }
                };
                Some(PerWeights {
                    orthogonal: edge(WeightLaw::Orthogonal)?,
                    gaussian: edge(WeightLaw::Gaussian)?,
                })
            }
            Cell::Minimal => None,
        };
        Ok(SpectralWidth {
            horizon,
            normalized_variance: nv,
            rms_ratio: PerWeights {
                orthogonal: (1.0 + nv.orthogonal).sqrt(),
                gaussian: (1.0 + nv.gaussian).sqrt(),
            },
            lambda_max,
        })
    }
}
