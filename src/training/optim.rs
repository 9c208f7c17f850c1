//! Optimizers (SGD with momentum, RMSProp, Adam) and gradient-norm clipping, on the flat
//! parameter vector. The update rules are PyTorch's (`theory/09-training.md` (T.9)).

use serde::{Deserialize, Serialize};

use super::linalg::{Real, simd};
use crate::error::{Error, Result};

/// An optimizer and its hyper-parameters (the learning rate is set separately).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Optimizer {
    /// `m ← μ m + g`, `θ ← θ − η m` (plain SGD for `μ = 0`).
    Sgd {
        /// Momentum `μ ∈ [0, 1)`.
        momentum: f64,
    },
    /// `v ← ρ v + (1 − ρ) g²`, `θ ← θ − η g / (√v + ε)`.
    RmsProp {
        /// Decay `ρ ∈ [0, 1)` (PyTorch: 0.99).
        decay: f64,
        /// `ε > 0` (PyTorch: 1e-8).
        eps: f64,
    },
    /// Adam (Kingma & Ba 2015) with bias correction.
    Adam {
        /// `β₁ ∈ [0, 1)` (0.9).
        beta1: f64,
        /// `β₂ ∈ [0, 1)` (0.999).
        beta2: f64,
        /// `ε > 0` (1e-8).
        eps: f64,
    },
}

impl Optimizer {
    /// SGD with the given momentum.
    pub fn sgd(momentum: f64) -> Self {
        Optimizer::Sgd { momentum }
    }
    /// RMSProp with PyTorch's defaults.
    pub fn rmsprop() -> Self {
        Optimizer::RmsProp {
            decay: 0.99,
            eps: 1e-8,
        }
    }
    /// Adam with the usual defaults.
    pub fn adam() -> Self {
        Optimizer::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// The flag-style name.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::RmsProp { .. } => "rmsprop",
            Optimizer::Adam { .. } => "adam",
        }
    }

    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `momentum`, `decay`, `beta1`, `beta2` or `eps`.
    pub fn validate(&self) -> Result<()> {
        let unit = |name: &'static str, v: f64| {
            if v.is_finite() && (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::invalid(name, v, "a number in [0, 1)"))
            }
        };
        let pos = |name: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(name, v, "a finite number > 0"))
            }
        };
        match *self {
            Optimizer::Sgd { momentum } => unit("momentum", momentum),
            Optimizer::RmsProp { decay, eps } => unit("decay", decay).and(pos("eps", eps)),
            Optimizer::Adam { beta1, beta2, eps } => unit("beta1", beta1)
                .and(unit("beta2", beta2))
                .and(pos("eps", eps)),
        }
    }
}

/// The optimizer's state for one run.
pub(crate) struct State<T> {
    opt: Optimizer,
    m: Vec<T>,
    v: Vec<T>,
    step: i32,
}

impl<T: Real> State<T> {
    pub(crate) fn new(opt: Optimizer, len: usize) -> Self {
        let v = match opt {
            Optimizer::Sgd { .. } => Vec::new(),
            _ => vec![T::zero(); len],
        };
        let m = match opt {
            Optimizer::RmsProp { .. } => Vec::new(),
            _ => vec![T::zero(); len],
        };
        State { opt, m, v, step: 0 }
    }

    /// One update of `params` with gradient `g` and learning rate `lr`.
    pub(crate) fn update(&mut self, params: &mut [T], g: &[T], lr: f64) {
        self.step = self.step.saturating_add(1);
        let eta = T::of(lr);
        match self.opt {
            Optimizer::Sgd { momentum } => {
                let mu = T::of(momentum);
                let m = &mut self.m;
                simd(|| {
                    for ((p, m), &g) in params.iter_mut().zip(m.iter_mut()).zip(g) {
                        *m = mu * *m + g;
                        *p -= eta * *m;
                    }
                });
            }
            Optimizer::RmsProp { decay, eps } => {
                let (rho, eps) = (T::of(decay), T::of(eps));
                let v = &mut self.v;
                simd(|| {
                    for ((p, v), &g) in params.iter_mut().zip(v.iter_mut()).zip(g) {
                        *v = rho * *v + (T::one() - rho) * g * g;
                        *p -= eta * g / (v.sqrt() + eps);
                    }
                });
            }
            Optimizer::Adam { beta1, beta2, eps } => {
                let c1 = T::of(1.0 / (1.0 - beta1.powi(self.step)));
                let c2 = T::of(1.0 / (1.0 - beta2.powi(self.step)));
                let (b1, b2, eps) = (T::of(beta1), T::of(beta2), T::of(eps));
                let (m, v) = (&mut self.m, &mut self.v);
                simd(|| {
                    for (((p, m), v), &g) in
                        params.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g)
                    {
                        *m = b1 * *m + (T::one() - b1) * g;
                        *v = b2 * *v + (T::one() - b2) * g * g;
                        *p -= eta * (*m * c1) / ((*v * c2).sqrt() + eps);
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One and two steps against the update rules written out by hand.
    #[test]
    fn updates_follow_the_rules() {
        let g = [0.5f64, -2.0];
        let mut p = [1.0f64, 1.0];
        let mut s = State::new(Optimizer::sgd(0.9), 2);
        s.update(&mut p, &g, 0.1);
        s.update(&mut p, &g, 0.1);
        // m1 = g, m2 = 1.9 g: p = 1 − 0.1 (g + 1.9 g).
        assert!(
            (p[0] - (1.0 - 0.29 * 0.5)).abs() < 1e-15 && (p[1] - (1.0 + 0.29 * 2.0)).abs() < 1e-15
        );
        let mut p = [1.0f64, 1.0];
        let mut s = State::new(Optimizer::adam(), 2);
        s.update(&mut p, &g, 0.01);
        // After one step Adam moves every coordinate by lr · sign(g) (up to ε).
        assert!((p[0] - 0.99).abs() < 1e-9 && (p[1] - 1.01).abs() < 1e-9);
        let mut p = [1.0f64, 1.0];
        let mut s = State::new(Optimizer::rmsprop(), 2);
        s.update(&mut p, &g, 0.01);
        // v = 0.01 g²: step = lr g / (0.1 |g|) = 0.1 sign(g).
        assert!((p[0] - 0.9).abs() < 1e-7 && (p[1] - 1.1).abs() < 1e-7);
    }

    #[test]
    fn bad_hyper_parameters_are_named() {
        assert!(
            Optimizer::sgd(1.0)
                .validate()
                .unwrap_err()
                .to_string()
                .contains("momentum")
        );
        let e = Optimizer::Adam {
            beta1: 0.9,
            beta2: f64::NAN,
            eps: 1e-8,
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("beta2"));
        assert!(Optimizer::adam().validate().is_ok());
    }
}
