//! `mfrnn series`: small-variance expansions of a built-in activation (theory/05).

use clap::Args;
use serde::Serialize;

use crate::activation::Builtin;
use crate::error::{Error, Result};
use crate::expansion::{self, Series};

/// Arguments of `mfrnn series`.
#[derive(Debug, Args)]
pub(crate) struct SeriesArgs {
    /// Activation: tanh, erf, linear, sigmoid, softplus (relu and hard_tanh have none).
    #[arg(long)]
    pub phi: String,
    /// Highest power of q kept (0 to 40).
    #[arg(long, default_value_t = 4, allow_hyphen_values = true)]
    pub order: i64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct QuantityOut {
    coefficients: Vec<f64>,
    exact: Option<Vec<String>>,
    pi_power: i32,
    formula: String,
}

impl From<&Series> for QuantityOut {
    fn from(s: &Series) -> Self {
        QuantityOut {
            coefficients: s.coefficients.clone(),
            exact: s.exact_strings(),
            pi_power: s.pi_power,
            formula: s.formula(),
        }
    }
}

#[allow(non_snake_case)] // the keys mirror the notation (E[·], R), like `Q_star` elsewhere
#[derive(Serialize)]
struct SeriesOut {
    phi: String,
    order: usize,
    E_phi2: QuantityOut,
    E_dphi2: QuantityOut,
    E_dphi4: QuantityOut,
    sigma_w2: QuantityOut,
    sigma_b2_plus_sigma_v2_R: QuantityOut,
    spectral_growth: QuantityOut,
}

pub(crate) fn run_series(a: &SeriesArgs) -> Result<String> {
    let b = Builtin::from_name(&a.phi)?;
    // Negative orders reach here as numbers (not clap errors) so that the message names the
    // parameter like every other bad input.
    let order = usize::try_from(a.order).map_err(|_| {
        Error::invalid(
            "order",
            a.order as f64,
            "an integer from 0 to 40 (the exact-arithmetic limit)",
        )
    })?;
    let s = expansion::small_variance(b, order)?;
    if a.json {
        let out = SeriesOut {
            phi: b.to_string(),
            order,
            E_phi2: (&s.phi2).into(),
            E_dphi2: (&s.dphi2).into(),
            E_dphi4: (&s.dphi4).into(),
            sigma_w2: (&s.sigma_w2).into(),
            sigma_b2_plus_sigma_v2_R: (&s.input_variance).into(),
            spectral_growth: (&s.spectral_growth).into(),
        };
        return Ok(serde_json::to_string_pretty(&out).expect("serialisable"));
    }
    let entries = s.entries();
    let width = entries
        .iter()
        .map(|(_, l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "small-variance expansions, φ = {b}, to order q^{order} (z ~ N(0, 1); on the critical \
         line χ₁ = 1 with μ_b = 0, q = q*)"
    );
    for (_, label, series) in entries {
        let pad = width - label.chars().count();
        out.push_str(&format!(
            "\n  {label}{} = {}",
            " ".repeat(pad),
            series.formula()
        ));
    }
    // φ(0) ≠ 0 makes q − σ_w² Q negative at q = 0: no critical point with a small q* exists,
    // which a bare formula would not tell the reader.
    if s.input_variance.coefficients[0] < 0.0 {
        out.push_str(
            "\n  note: σ_b² + σ_v² R < 0 near q* = 0 (φ(0) ≠ 0): the critical line has no point \
             with small q*",
        );
    }
    Ok(out)
}
