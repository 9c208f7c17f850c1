# Type stubs of the mfrnn package (signatures, defaults and units; the docstrings of the
# functions themselves are the library's). Defaults shown as None mean "the CLI's default,
# and the flag counts as not given" (some flags are refused where they do not apply).
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, Optional, TypeVar, Union

import numpy as np
import numpy.typing as npt

__version__: str

Cell = Literal["vanilla", "minimal"]
Phi = Literal["tanh", "erf", "relu", "linear", "hard_tanh", "sigmoid", "softplus"]
Theory = Literal["mean-field", "exact"]
Weights = Literal["gaussian", "orthogonal"]
F64 = npt.NDArray[np.float64]

class Error(ValueError):
    """An error of the mfrnn library; the message names the parameter."""

class Result(Mapping[str, Any]):
    """Read-only fields of a result: the keys of the CLI's JSON, as items and attributes.
    Fields named like Mapping methods (``values``, ``items``, ``keys``, ``get``) are read as
    items: ``r["values"]``."""
    def __init__(self, fields: Mapping[str, Any]) -> None: ...
    def __getitem__(self, key: str) -> Any: ...
    def __getattr__(self, key: str) -> Any: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

def expect(
    *,
    f: Union[str, Callable[[float], float]],
    q: float,
    phi: Optional[Phi] = None,
    g: Union[str, Callable[[float], float], None] = None,
    mean: float = 0.0,
    c: Optional[float] = None,
) -> Result:
    """E[f(u) g(u)], u ~ N(mean, q); with c: E[f(u) g(v)] at correlation c. Keys: value,
    error_estimate (absolute), method, evaluations."""

def fixed_point(
    *,
    sigma_w: float,
    sigma_v: float,
    sigma_b: float,
    r: float,
    cell: Cell = "vanilla",
    phi: Optional[Phi] = None,
    mu_b: float = 0.0,
    theory: Theory = "mean-field",
    rho: float = 0.0,
    paths: Optional[int] = None,  # exact: 1024
    replicas: Optional[int] = None,  # exact: 8
    curve_paths: Optional[int] = None,  # exact: 256
    horizon: Optional[int] = None,  # exact: 200 steps
    seed: Optional[int] = None,  # exact: 1
    untied: bool = False,
    fresh_bias: bool = False,
) -> Result:
    """Fixed point q*, Q* (variances per unit), c*, slopes chi_q, chi_c, chi_1 (per step),
    timescales xi_q, xi_c, xi_1 (steps; None = infinite), phase, residual, iterations, all
    fixed points. theory="exact": the tied-weight network at stationarity, with *_se."""

def trajectory(
    *,
    sigma_w: float,
    sigma_v: float,
    sigma_b: float,
    r: float,
    cell: Cell = "vanilla",
    phi: Optional[Phi] = None,
    mu_b: float = 0.0,
    theory: Theory = "mean-field",
    steps: Optional[int] = None,  # 50 with a constant rho
    rho_schedule: Union[str, Sequence[float], None] = None,
    rho: Optional[float] = None,  # 0.0
    units: Optional[int] = None,  # exact: 40000
    replicas: Optional[int] = None,  # exact: 8
    seed: Optional[int] = None,  # exact: 1
    untied: bool = False,
    fresh_bias: bool = False,
    sampler: Optional[Literal["auto", "full", "banded"]] = None,
) -> Result:
    """Per-step arrays, shape (T,): t (int64), q, Q, q_ab, C, c (float64); exact: with *_se."""

def simulate(
    *,
    sigma_w: float,
    sigma_v: float,
    sigma_b: float,
    r: float,
    cell: Cell = "vanilla",
    phi: Optional[Phi] = None,
    mu_b: float = 0.0,
    width: Optional[int] = None,  # 1000
    steps: Optional[int] = None,  # 50
    rho_schedule: Union[str, Sequence[float], None] = None,
    rho: Optional[float] = None,
    seeds: Optional[int] = None,  # 8 networks
    batch: Optional[int] = None,  # 16 sequence pairs per network
    weights: Weights = "gaussian",
    untied: bool = False,
    fresh_bias: bool = False,
    seed: Optional[int] = None,  # 1
) -> Result:
    """Finite-width networks: per-step arrays (T,) q, Q, c with standard errors *_se."""

def phase(
    *,
    x: Union[str, tuple[str, float, float, int]],
    y: Union[str, tuple[str, float, float, int]],
    cell: Cell = "vanilla",
    phi: Optional[Phi] = None,
    quantity: str = "xi_c",
    sigma_w: Optional[float] = None,  # 1.0 when not an axis
    sigma_v: Optional[float] = None,  # 0.0
    sigma_b: Optional[float] = None,  # 0.0
    mu_b: Optional[float] = None,  # 0.0
    r: Optional[float] = None,  # 1.0
    rho: Optional[float] = None,  # 1.0
    theory: Theory = "mean-field",
    paths: Optional[int] = None,  # exact: 128
    replicas: Optional[int] = None,  # exact: 4
    curve_paths: Optional[int] = None,  # exact: 128
    horizon: Optional[int] = None,  # exact: 100
    seed: Optional[int] = None,  # exact: 1
    untied: bool = False,
    fresh_bias: bool = False,
) -> Result:
    """Axes 'NAME=LO:HI:N' or (name, lo, hi, n). r["values"] and chi_1: float64 arrays of shape
    (y.n, x.n) (row i at the i-th y value), NaN where undefined; failures per reason."""

def spectrum(
    *,
    sigma_w: float,
    sigma_v: float,
    sigma_b: float,
    r: float,
    cell: Cell = "vanilla",
    phi: Optional[Phi] = None,
    mu_b: float = 0.0,
    theory: Optional[Theory] = None,
    steps: Optional[int] = None,  # 10
    weights: Weights = "orthogonal",
    points: Optional[int] = None,  # 400
    simulate: bool = False,
    width: Optional[int] = None,  # 800
    seeds: Optional[int] = None,  # 4
    seed: Optional[int] = None,  # 1
    burn_in: Optional[int] = None,  # 50 steps
    untied: bool = False,
    accumulation: Optional[Literal["direct", "qr"]] = None,
    transient: bool = False,
    units: Optional[int] = None,  # minimal: 8000
) -> Result:
    """Squared singular values of J_T: lambda, density (same shape, float64), support (2,),
    m1, m2, normalized_variance, moments; simulate=True adds empirical (with *_se) and
    ks_distance."""

def init(
    *,
    r: float,
    cell: Cell = "vanilla",
    phi: Optional[Phi] = None,
    q_star: Optional[float] = None,
    mu_b: Optional[float] = None,
    sigma_b: Optional[float] = None,
    sigma_v: Optional[float] = None,
    horizon: Optional[int] = None,  # 10
    max_width_ratio: Optional[float] = None,
    objective: Optional[Literal["largest-q-star", "longest-memory"]] = None,
    weights: Optional[Weights] = None,  # orthogonal
    sample: bool = False,
    width: Optional[int] = None,  # 512
    input_dim: Optional[int] = None,  # the width
    seed: Optional[int] = None,  # 1
    theory: Theory = "mean-field",
    paths: Optional[int] = None,
    replicas: Optional[int] = None,
) -> Result:
    """Critical scales sigma_w, sigma_v, sigma_b (chi_1 = 1 at q_star), predicted spectral
    width; sample=True adds W (width, width), V (width, input_dim), b (width,), float64."""

def train(
    *,
    cell: Cell = "vanilla",
    phi: Phi = "tanh",
    task: Literal["digits", "recall", "copy", "adding"] = "digits",
    padding: int = 10,
    pad: Literal["noise", "zero"] = "noise",
    classes: int = 10,
    dim: int = 16,
    width: int = 64,
    init: Literal["theory", "critical", "pytorch", "glorot", "orthogonal", "identity"] = "critical",
    sigma_w: float = 1.0,
    sigma_v: Optional[float] = None,
    sigma_b: Optional[float] = None,
    mu_b: Optional[float] = None,
    q_star: Optional[float] = None,
    weights: Weights = "orthogonal",
    embedding_r: float = 1.0,
    optimizer: Literal["sgd", "rmsprop", "adam"] = "adam",
    lr: float = 2e-3,
    momentum: float = 0.9,
    clip: float = 1.0,
    no_clip: bool = False,
    explode: float = 1e6,
    batch: int = 32,
    steps: int = 2000,
    eval_every: int = 200,
    eval_size: int = 1000,
    seed: int = 1,
    data_seed: int = 0,
    precision: Literal["f32", "f64"] = "f32",
    batch_split: int = 1,
) -> Result:
    """One BPTT run: config, outcome, curve (list of points), test_loss, test_accuracy,
    baseline, init (scales), diagnostics (gradient norms, clipped steps, seconds)."""

def trainability_grid(
    *,
    values: Union[str, Sequence[float]],
    horizons: Union[str, Sequence[int]],
    cell: Cell = "vanilla",
    phi: Phi = "tanh",
    task: Literal["digits", "recall", "copy", "adding"] = "digits",
    pad: Literal["noise", "zero"] = "noise",
    classes: int = 10,
    dim: int = 16,
    width: int = 32,
    steps: int = 300,
    batch: int = 32,
    lr: float = 2e-3,
    optimizer: Literal["sgd", "rmsprop", "adam"] = "adam",
    momentum: float = 0.9,
    clip: float = 1.0,
    no_clip: bool = False,
    explode: float = 1e6,
    eval_size: int = 1000,
    data_seed: int = 0,
    embedding_r: float = 1.0,
    precision: Literal["f32", "f64"] = "f32",
    seeds: int = 3,
    seed: int = 1,
    threads: Optional[int] = None,
    axis: Optional[Literal["sigma-w", "mu-b"]] = None,
    sigma_w: float = 1.0,
    sigma_v: float = 1.0,
    sigma_b: float = 0.0,
    mu_b: Optional[float] = None,
    weights: Weights = "gaussian",
    threshold: float = 0.5,
) -> Result:
    """grid, cells (the grid file's lines) and mean_score, se_score, mean_accuracy (float64)
    and trainable (bool), each of shape (len(horizons), len(values))."""

def set_limits(*, max_memory: Optional[str] = None, max_time: Optional[str] = None) -> Result:
    """Process-wide limits of the estimated memory ("32G") and time ("90s", "inf")."""

def point_seed(seed: int, index: int) -> int: ...

T = TypeVar("T")

def sweep(
    fn: Callable[..., T],
    grid: Union[Mapping[str, Sequence[Any]], Iterable[Mapping[str, Any]]],
    *,
    executor: Optional[Any] = None,
    seed: Optional[int] = None,
    seed_arg: str = "seed",
    fixed: Optional[Mapping[str, Any]] = None,
) -> list[T]: ...

def init_torch_rnn(
    rnn: Any,
    *,
    q_star: float,
    r: float = 1.0,
    sigma_b: Optional[float] = None,
    sigma_v: Optional[float] = None,
    mu_b: Optional[float] = None,
    weights: Weights = "orthogonal",
    seed: int = 1,
) -> Result: ...
