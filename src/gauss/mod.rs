//! Numerical building blocks for Gaussian expectations: standard-normal special functions,
//! quadrature rules, and exact expectations of piecewise polynomials.
//!
//! Nothing here knows about neural networks; [`crate::expect`] assembles these pieces.

pub mod piecewise;
pub(crate) mod quadrature;
pub mod special;
pub mod trapezoid;
