//! [`Series`]: a truncated power series in q with its exact coefficients where they exist, and
//! its printing as a formula (`1 + 2 q - 3 q^2 + O(q^3)`).

use std::fmt;

use num_rational::BigRational;
use num_traits::Zero;

use super::rational::to_f64;

/// A power series `Σ_{k=0}^{order} c_k q^k + O(q^{order+1})`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// `c_0 … c_order` in floating point (rounded from the exact values where those exist;
    /// including the factor `π^pi_power`).
    pub coefficients: Vec<f64>,
    /// Exact rationals `r_k` with `c_k = r_k π^pi_power`, where the coefficients are rational
    /// multiples of a power of π.
    pub exact: Option<Vec<BigRational>>,
    /// The power of π multiplying the exact coefficients (0 except for erf).
    pub pi_power: i32,
}

impl Series {
    pub(super) fn from_f64(coefficients: Vec<f64>) -> Series {
        Series {
            coefficients,
            exact: None,
            pi_power: 0,
        }
    }

    pub(super) fn from_exact(exact: Vec<BigRational>, pi_power: i32) -> Series {
        let pi = std::f64::consts::PI.powi(pi_power);
        Series {
            coefficients: exact.iter().map(|r| to_f64(r) * pi).collect(),
            exact: Some(exact),
            pi_power,
        }
    }

    /// The highest power of q kept.
    pub fn order(&self) -> usize {
        self.coefficients.len() - 1
    }

    /// The truncated series at `q` (Horner).
    pub fn eval(&self, q: f64) -> f64 {
        self.coefficients.iter().rev().fold(0.0, |s, &c| s * q + c)
    }

    /// The exact coefficients as strings (`"-17/3"`, `"2"`), if they exist.
    pub fn exact_strings(&self) -> Option<Vec<String>> {
        self.exact
            .as_ref()
            .map(|e| e.iter().map(|r| r.to_string()).collect())
    }

    /// The series as a formula, `1 + 2 q - 3 q^2 + O(q^3)`: exact rationals where they exist,
    /// 10 significant digits otherwise, zero terms omitted, and a factor `π^p` written in front
    /// (`π (…)`) or as a divisor (`(…)/π`).
    pub fn formula(&self) -> String {
        let mut terms: Vec<(bool, String, usize)> = Vec::new();
        match &self.exact {
            Some(e) => {
                for (k, r) in e.iter().enumerate() {
                    if !r.is_zero() {
                        let neg = *r < BigRational::zero();
                        terms.push((
                            neg,
                            (if neg { -r.clone() } else { r.clone() }).to_string(),
                            k,
                        ));
                    }
                }
            }
            None => {
                for (k, &c) in self.coefficients.iter().enumerate() {
                    if c != 0.0 {
                        terms.push((c < 0.0, decimal(c.abs()), k));
                    }
                }
            }
        }
        let mut s = String::new();
        for (i, (neg, mag, k)) in terms.iter().enumerate() {
            s.push_str(match (i, neg) {
                (0, false) => "",
                (0, true) => "-",
                (_, false) => " + ",
                (_, true) => " - ",
            });
            let power = match k {
                0 => String::new(),
                1 => "q".to_string(),
                _ => format!("q^{k}"),
            };
            match (k, mag.as_str()) {
                (0, _) => s.push_str(mag),
                (_, "1") => s.push_str(&power),
                _ => s.push_str(&format!("{mag} {power}")),
            }
        }
        if s.is_empty() {
            s.push('0');
        }
        let n = self.order() + 1;
        if n == 1 {
            s.push_str(" + O(q)");
        } else {
            s.push_str(&format!(" + O(q^{n})"));
        }
        match self.pi_power {
            0 => s,
            1 => format!("π ({s})"),
            -1 => format!("({s})/π"),
            p if p > 1 => format!("π^{p} ({s})"),
            p => format!("({s})/π^{}", -p),
        }
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formula())
    }
}

/// `x > 0` to 10 significant digits, plain between 1e-4 and 1e6, scientific outside.
fn decimal(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let e = x.log10().floor();
    if (-4.0..6.0).contains(&e) {
        let digits = (9.0 - e).max(0.0) as usize;
        let s = format!("{x:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{x:.9e}");
        let (m, ex) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        format!("{m}e{ex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expansion::rational::rat;

    #[test]
    fn decimal_formatting() {
        assert_eq!(decimal(0.4804530139182014), "0.4804530139");
        assert_eq!(decimal(2.0), "2");
        assert_eq!(decimal(123456.0), "123456");
        assert_eq!(decimal(1.5e-7), "1.5e-7");
        assert_eq!(decimal(3.25e9), "3.25e9");
    }

    #[test]
    fn formula_layout() {
        let s = Series::from_exact(vec![rat(0, 1), rat(1, 1), rat(-17, 3)], -1);
        assert_eq!(s.formula(), "(q - 17/3 q^2 + O(q^3))/π");
        let z = Series::from_f64(vec![0.0]);
        assert_eq!(z.formula(), "0 + O(q)");
        let d = Series::from_f64(vec![-1.0, 0.0, 0.25]);
        assert_eq!(d.formula(), "-1 + 0.25 q^2 + O(q^3)");
    }
}
