//! The cell vocabulary: which cell ([`Cell`], [`CellKind`]), its hyper-parameters
//! ([`CellParams`]), which theory ([`Theory`]), the law of the recurrent weights
//! ([`WeightLaw`]), the weight and bias regime ([`Regime`]) and the per-unit update rule that
//! the exact theory, the simulator, the Jacobian sampler and training share.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::activation::{Activation, Builtin, Deriv, sigmoid};
use crate::error::{Error, Result, finite, non_negative, scale};

/// Which recurrent cell (the tag of a [`Cell`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// The vanilla RNN `h = φ(W h + V x + b)`.
    Vanilla,
    /// The minimalRNN `u = σ(W h + V z + b)`, `h = u ⊙ h + (1 − u) ⊙ z`.
    Minimal,
}

/// Names accepted for a cell, as shown in error messages.
pub const CELL_NAMES: &str = "vanilla, minimal";

impl CellKind {
    /// Every cell.
    pub const ALL: [CellKind; 2] = [CellKind::Vanilla, CellKind::Minimal];

    /// Canonical name (`vanilla`, `minimal`).
    pub fn as_str(self) -> &'static str {
        match self {
            CellKind::Vanilla => "vanilla",
            CellKind::Minimal => "minimal",
        }
    }
}

impl fmt::Display for CellKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CellKind {
    type Err = Error;

    /// Case-insensitive: `vanilla` (or `rnn`), `minimal` (or `minimalrnn`).
    fn from_str(s: &str) -> Result<CellKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vanilla" | "rnn" => Ok(CellKind::Vanilla),
            "minimal" | "minimalrnn" | "minimal-rnn" => Ok(CellKind::Minimal),
            _ => Err(Error::UnknownName {
                kind: "cell",
                name: s.to_string(),
                expected: CELL_NAMES.to_string(),
            }),
        }
    }
}

/// Which theory of a network: the factorised mean-field recursion, or the exact
/// infinite-width theory of the real (tied-weight, frozen-bias) network (the sampled
/// per-unit process of [`crate::exact`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Theory {
    /// The mean-field recursion (`theory/02`, `theory/03` (M.1)–(M.3)).
    MeanField,
    /// The exact theory (`theory/03` (E.1)–(E.3)).
    Exact,
}

impl Theory {
    /// Canonical name (`mean-field`, `exact`).
    pub fn as_str(self) -> &'static str {
        match self {
            Theory::MeanField => "mean-field",
            Theory::Exact => "exact",
        }
    }
}

impl fmt::Display for Theory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Theory {
    type Err = Error;

    /// Case-insensitive: `mean-field` (`mean_field`, `meanfield`, `mf`), `exact`.
    fn from_str(s: &str) -> Result<Theory> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mean-field" | "mean_field" | "meanfield" | "mf" => Ok(Theory::MeanField),
            "exact" => Ok(Theory::Exact),
            _ => Err(Error::UnknownName {
                kind: "theory",
                name: s.to_string(),
                expected: "mean-field, exact".into(),
            }),
        }
    }
}

/// The law of the recurrent weight matrix `W`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightLaw {
    /// `W_ij ~ N(0, σ_w²/N)` (its `W Wᵀ/σ_w²` is Marchenko–Pastur in the limit).
    Gaussian,
    /// `W = σ_w O` with `O` Haar-distributed orthogonal (`W Wᵀ = σ_w² I`).
    Orthogonal,
}

impl WeightLaw {
    /// Both laws.
    pub const ALL: [WeightLaw; 2] = [WeightLaw::Gaussian, WeightLaw::Orthogonal];

    /// Canonical name (`gaussian`, `orthogonal`).
    pub fn as_str(self) -> &'static str {
        match self {
            WeightLaw::Gaussian => "gaussian",
            WeightLaw::Orthogonal => "orthogonal",
        }
    }
}

impl fmt::Display for WeightLaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WeightLaw {
    type Err = Error;

    /// Case-insensitive: `gaussian` (`normal`), `orthogonal` (`haar`).
    fn from_str(s: &str) -> Result<WeightLaw> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gaussian" | "normal" => Ok(WeightLaw::Gaussian),
            "orthogonal" | "haar" => Ok(WeightLaw::Orthogonal),
            _ => Err(Error::UnknownName {
                kind: "weight law",
                name: s.to_string(),
                expected: "gaussian, orthogonal".into(),
            }),
        }
    }
}

/// How the weights and biases of a network behave over time: the real network has one `W, V`
/// for all steps and a frozen bias ([`Regime::REAL`]); the mean-field recursion describes a
/// network whose weights and bias are redrawn every step ([`Regime::REDRAWN`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Regime {
    /// One `W, V` for all steps.
    pub tied: bool,
    /// The bias is redrawn every step (instead of frozen).
    pub fresh_bias: bool,
}

impl Regime {
    /// The real network: tied weights, frozen bias.
    pub const REAL: Regime = Regime {
        tied: true,
        fresh_bias: false,
    };
    /// Weights and bias redrawn every step: the factorised theory's assumption.
    pub const REDRAWN: Regime = Regime {
        tied: false,
        fresh_bias: true,
    };
}

impl Default for Regime {
    fn default() -> Regime {
        Regime::REAL
    }
}

/// The hyper-parameters every cell has, validated: the scales of the recurrent weights
/// (`σ_w`: `W_ij ~ N(0, σ_w²/N)` or `σ_w` times an orthogonal matrix), the input weights
/// (`σ_v`: `V_ij ~ N(0, σ_v²/N_in)`), the bias (`b_i ~ N(μ_b, σ_b²)`), and the input's second
/// moment per coordinate `R = ‖x‖²/N_in` (for the minimalRNN, of the embedded input `z`).
///
/// Built with named setters, so that no two arguments can be swapped:
///
/// ```
/// use mfrnn::cells::CellParams;
/// let p = CellParams::builder().sigma_w(1.2).sigma_v(0.5).sigma_b(0.1).r(1.0).build()?;
/// assert_eq!((p.sigma_w(), p.mu_b()), (1.2, 0.0));
/// assert!(CellParams::builder().sigma_w(-1.0).build().is_err());
/// # Ok::<(), mfrnn::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CellParams {
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    mu_b: f64,
    r: f64,
}

/// The builder of [`CellParams`]. Unset values default to `σ_w = 1`, `σ_v = 0`, `σ_b = 0`,
/// `μ_b = 0`, `R = 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct CellParamsBuilder {
    sigma_w: f64,
    sigma_v: f64,
    sigma_b: f64,
    mu_b: f64,
    r: f64,
}

impl Default for CellParamsBuilder {
    fn default() -> Self {
        CellParamsBuilder {
            sigma_w: 1.0,
            sigma_v: 0.0,
            sigma_b: 0.0,
            mu_b: 0.0,
            r: 1.0,
        }
    }
}

impl CellParamsBuilder {
    /// Recurrent weight scale `σ_w` (finite, ≥ 0).
    pub fn sigma_w(mut self, v: f64) -> Self {
        self.sigma_w = v;
        self
    }
    /// Input weight scale `σ_v` (finite, ≥ 0).
    pub fn sigma_v(mut self, v: f64) -> Self {
        self.sigma_v = v;
        self
    }
    /// Bias standard deviation `σ_b` (finite, ≥ 0).
    pub fn sigma_b(mut self, v: f64) -> Self {
        self.sigma_b = v;
        self
    }
    /// Bias mean `μ_b` (finite, `|μ_b| ≤ 1e150`).
    pub fn mu_b(mut self, v: f64) -> Self {
        self.mu_b = v;
        self
    }
    /// Input second moment per coordinate `R` (finite, ≥ 0).
    pub fn r(mut self, v: f64) -> Self {
        self.r = v;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `sigma-w`, `sigma-v`, `sigma-b` (≥ 0 with a finite
    /// square),
    /// `mu-b` (finite, `|μ_b| ≤ 1e150`) or `r` (finite, ≥ 0), or the scale whose variance
    /// makes `σ_w² + σ_v² R + σ_b²` overflow. Cell-specific constraints (the minimalRNN needs
    /// `R > 0`) are checked by [`Cell::validate`].
    pub fn build(self) -> Result<CellParams> {
        let p = CellParams {
            sigma_w: scale("sigma-w", self.sigma_w)?,
            sigma_v: scale("sigma-v", self.sigma_v)?,
            sigma_b: scale("sigma-b", self.sigma_b)?,
            mu_b: finite("mu-b", self.mu_b)?,
            r: non_negative("r", self.r)?,
        };
        super::check_variances(p.sigma_w, p.sigma_v, p.sigma_b, p.mu_b, p.r)?;
        Ok(p)
    }
}

impl CellParams {
    /// A builder with the defaults of [`CellParamsBuilder`].
    pub fn builder() -> CellParamsBuilder {
        CellParamsBuilder::default()
    }

    /// A builder holding these values (to change some and build again).
    pub fn to_builder(&self) -> CellParamsBuilder {
        CellParamsBuilder {
            sigma_w: self.sigma_w,
            sigma_v: self.sigma_v,
            sigma_b: self.sigma_b,
            mu_b: self.mu_b,
            r: self.r,
        }
    }

    /// `σ_w`.
    pub fn sigma_w(&self) -> f64 {
        self.sigma_w
    }
    /// `σ_v`.
    pub fn sigma_v(&self) -> f64 {
        self.sigma_v
    }
    /// `σ_b`.
    pub fn sigma_b(&self) -> f64 {
        self.sigma_b
    }
    /// `μ_b`.
    pub fn mu_b(&self) -> f64 {
        self.mu_b
    }
    /// `R`.
    pub fn r(&self) -> f64 {
        self.r
    }
    /// `σ_w²`.
    pub fn sigma_w2(&self) -> f64 {
        self.sigma_w * self.sigma_w
    }
    /// `σ_v² R + σ_b²`: the part of the pre-activation variance that does not come through `W`.
    pub fn drive(&self) -> f64 {
        self.sigma_v * self.sigma_v * self.r + self.sigma_b * self.sigma_b
    }
    /// `σ_v² ρ R + σ_b²`: the same for the covariance of two sequences at input correlation `ρ`.
    pub fn cross_drive(&self, rho: f64) -> f64 {
        self.sigma_v * self.sigma_v * rho * self.r + self.sigma_b * self.sigma_b
    }
}

/// Which correlation a cell's theory reports as `c`: of the pre-activations (vanilla), or of
/// the hidden states (minimalRNN, whose state is a gated mixture of inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Correlation {
    /// `c = q_ab / q`.
    PreActivation,
    /// `c = C / Q`.
    Hidden,
}

/// The entries of one unit's row of the one-step Jacobian `∂h^t/∂h^{t−1} = diag(a) + diag(b) W`
/// (`theory/04-spectra.md`): `a = ∂h/∂h^{t−1}` through the unit's own state and
/// `b = ∂h/∂e` through its pre-activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitSlopes {
    /// `∂h_i/∂h_i^{t−1}` (the diagonal part): 0 for the vanilla RNN, `u` for the minimalRNN.
    pub a: f64,
    /// `∂h_i/∂e_i`: `φ'(e)` for the vanilla RNN, `σ'(e) (h^{t−1} − z)` for the minimalRNN.
    pub b: f64,
}

/// A recurrent cell: which one, with its fixed choices (the vanilla RNN's activation).
///
/// Everything that varies by cell dispatches on this enum in exactly one place per concern
/// (see the extension recipe in [`crate::cells`]).
#[derive(Debug, Clone)]
pub enum Cell {
    /// The vanilla RNN `h = φ(W h + V x + b)` with activation `φ`.
    Vanilla(Arc<dyn Activation>),
    /// The minimalRNN `u = σ(W h + V z + b)`, `h = u ⊙ h + (1 − u) ⊙ z` (logistic gate).
    Minimal,
}

impl Cell {
    /// The vanilla RNN with a built-in activation.
    pub fn vanilla(phi: Builtin) -> Cell {
        Cell::Vanilla(phi.arc())
    }

    /// The minimalRNN.
    pub fn minimal() -> Cell {
        Cell::Minimal
    }

    /// From names, as the CLI spells them: `cell` is `vanilla` or `minimal` (any case); `phi`
    /// names the vanilla RNN's activation and must be absent for the minimalRNN.
    ///
    /// # Errors
    /// [`Error::UnknownName`] for an unknown cell or activation; [`Error::Parse`] naming
    /// `--phi` when it is missing for the vanilla cell or given for the minimalRNN.
    pub fn from_names(cell: &str, phi: Option<&str>) -> Result<Cell> {
        Cell::of_kind(cell.parse()?, phi)
    }

    /// As [`Cell::from_names`] with the kind already parsed.
    ///
    /// # Errors
    /// As [`Cell::from_names`].
    pub fn of_kind(kind: CellKind, phi: Option<&str>) -> Result<Cell> {
        match (kind, phi) {
            (CellKind::Vanilla, Some(phi)) => Ok(Cell::vanilla(Builtin::from_name(phi)?)),
            (CellKind::Vanilla, None) => Err(Error::Parse {
                what: "arguments",
                input: "--cell vanilla".into(),
                reason: "--phi is required for the vanilla cell".into(),
            }),
            (CellKind::Minimal, None) => Ok(Cell::Minimal),
            (CellKind::Minimal, Some(_)) => Err(Error::Parse {
                what: "arguments",
                input: "--phi".into(),
                reason: "--phi does not apply to --cell minimal (its gate is the logistic \
                         sigmoid)"
                    .into(),
            }),
        }
    }

    /// The tag.
    pub fn kind(&self) -> CellKind {
        match self {
            Cell::Vanilla(_) => CellKind::Vanilla,
            Cell::Minimal => CellKind::Minimal,
        }
    }

    /// The vanilla RNN's activation (`None` for the minimalRNN).
    pub fn activation(&self) -> Option<&Arc<dyn Activation>> {
        match self {
            Cell::Vanilla(a) => Some(a),
            Cell::Minimal => None,
        }
    }

    /// The name of the nonlinearity: the vanilla RNN's activation, `sigmoid` for the
    /// minimalRNN's gate.
    pub fn activation_name(&self) -> &str {
        match self {
            Cell::Vanilla(a) => a.name(),
            Cell::Minimal => "sigmoid",
        }
    }

    /// A label for output: `vanilla tanh RNN`, `minimalRNN`.
    pub fn label(&self) -> String {
        match self {
            Cell::Vanilla(a) => format!("vanilla {} RNN", a.name()),
            Cell::Minimal => "minimalRNN".into(),
        }
    }

    /// The update equation in words (for manifests of exported weights).
    pub fn equation(&self) -> &'static str {
        match self {
            Cell::Vanilla(_) => "h_t = phi(W h_{t-1} + V x_t + b)",
            Cell::Minimal => {
                "u_t = sigmoid(W h_{t-1} + V z_t + b); h_t = u_t * h_{t-1} + (1 - u_t) * z_t"
            }
        }
    }

    /// Checks the constraints this cell adds to [`CellParams`]: the minimalRNN's state is
    /// driven by its input, so it needs `R > 0`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `r`.
    pub fn validate(&self, p: &CellParams) -> Result<()> {
        match self {
            Cell::Vanilla(_) => Ok(()),
            Cell::Minimal if p.r() > 0.0 => Ok(()),
            Cell::Minimal => Err(Error::invalid("r", p.r(), "a finite number > 0")),
        }
    }

    /// Which correlation the theories report as `c` for this cell.
    pub fn correlation(&self) -> Correlation {
        match self {
            Cell::Vanilla(_) => Correlation::PreActivation,
            Cell::Minimal => Correlation::Hidden,
        }
    }

    /// Whether the input enters the state directly (the minimalRNN's `h = u h + (1 − u) z`),
    /// so that the input dimension must equal the width.
    pub fn input_enters_state(&self) -> bool {
        match self {
            Cell::Vanilla(_) => false,
            Cell::Minimal => true,
        }
    }

    /// One unit's new state from its previous state `h`, its pre-activation `e` and its
    /// input coordinate `x` (used only by cells whose input enters the state).
    #[inline]
    pub fn unit_state(&self, h: f64, e: f64, x: f64) -> f64 {
        match self {
            Cell::Vanilla(a) => a.eval(Deriv::Phi, e),
            Cell::Minimal => {
                let u = sigmoid(e);
                u * h + (1.0 - u) * x
            }
        }
    }

    /// One unit's Jacobian entries ([`UnitSlopes`]) at `(h, e, x)`, as in [`Cell::unit_state`].
    #[inline]
    pub fn unit_slopes(&self, h: f64, e: f64, x: f64) -> UnitSlopes {
        match self {
            Cell::Vanilla(a) => UnitSlopes {
                a: 0.0,
                b: a.eval(Deriv::DPhi, e),
            },
            Cell::Minimal => UnitSlopes {
                a: sigmoid(e),
                b: {
                    let u = sigmoid(e);
                    u * (1.0 - u) * (h - x)
                },
            },
        }
    }

    /// Updates a batch of units in place: `h[i] ← unit_state(h[i], e[i], x[i])` (`x` is read
    /// only by cells whose input enters the state; it may be empty otherwise).
    pub fn update_states(&self, h: &mut [f64], e: &[f64], x: &[f64]) {
        match self {
            Cell::Vanilla(a) => {
                for (h, &e) in h.iter_mut().zip(e) {
                    *h = a.eval(Deriv::Phi, e);
                }
            }
            Cell::Minimal => {
                for ((h, &e), &x) in h.iter_mut().zip(e).zip(x) {
                    let u = sigmoid(e);
                    *h = u * *h + (1.0 - u) * x;
                }
            }
        }
    }
}

/// Two cells are equal when they are the same kind with the same activation (by name).
impl PartialEq for Cell {
    fn eq(&self, o: &Cell) -> bool {
        self.kind() == o.kind() && self.activation_name() == o.activation_name()
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Serialised as `{"cell": "vanilla", "activation": "tanh"}` (`sigmoid` for the minimalRNN).
impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Cell", 2)?;
        st.serialize_field("cell", &self.kind())?;
        st.serialize_field("activation", self.activation_name())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_case_insensitively_and_unknown_is_an_error() {
        for k in CellKind::ALL {
            assert_eq!(k.as_str().to_uppercase().parse::<CellKind>().unwrap(), k);
        }
        assert!("gru".parse::<CellKind>().is_err());
        assert_eq!("Mean-Field".parse::<Theory>().unwrap(), Theory::MeanField);
        assert_eq!("HAAR".parse::<WeightLaw>().unwrap(), WeightLaw::Orthogonal);
        assert!(Cell::from_names("vanilla", None).is_err());
        assert!(Cell::from_names("minimal", Some("tanh")).is_err());
        assert_eq!(
            Cell::from_names("Vanilla", Some("TANH")).unwrap(),
            Cell::vanilla(Builtin::Tanh)
        );
    }

    #[test]
    fn params_validate_each_field_by_name() {
        let b = CellParams::builder;
        for (bad, name) in [
            (b().sigma_w(f64::NAN), "sigma-w"),
            (b().sigma_v(-1.0), "sigma-v"),
            (b().sigma_b(f64::INFINITY), "sigma-b"),
            (b().mu_b(f64::NAN), "mu-b"),
            (b().r(-0.5), "r"),
            (b().sigma_w(1e200), "sigma-w"),
        ] {
            match bad.build() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let p = b().r(0.0).build().unwrap();
        assert!(Cell::vanilla(Builtin::Tanh).validate(&p).is_ok());
        assert!(Cell::minimal().validate(&p).is_err());
        let q = p.to_builder().sigma_w(2.0).build().unwrap();
        assert_eq!((q.sigma_w(), q.r()), (2.0, 0.0));
    }

    #[test]
    fn unit_slopes_are_the_derivatives_of_the_unit_state() {
        // Central differences of unit_state in h and e against unit_slopes.
        for cell in [Cell::vanilla(Builtin::Tanh), Cell::minimal()] {
            for &(h, e, x) in &[(0.3, -0.7, 1.1), (-1.2, 2.0, 0.4), (0.0, 0.1, -0.5)] {
                let s = cell.unit_slopes(h, e, x);
                let d = 1e-6;
                let dh = (cell.unit_state(h + d, e, x) - cell.unit_state(h - d, e, x)) / (2.0 * d);
                let de = (cell.unit_state(h, e + d, x) - cell.unit_state(h, e - d, x)) / (2.0 * d);
                assert!((dh - s.a).abs() < 1e-8, "{cell} a: {dh} vs {}", s.a);
                assert!((de - s.b).abs() < 1e-8, "{cell} b: {de} vs {}", s.b);
                let mut hs = [h];
                cell.update_states(&mut hs, &[e], &[x]);
                assert_eq!(hs[0], cell.unit_state(h, e, x));
            }
        }
    }
}
