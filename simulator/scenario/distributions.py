"""Parameter values: plain values and distributions, drawn by inverse CDF.

Every draw goes through ``ppf(u)`` of a uniform ``u`` that belongs to the world and
the parameter, not to the option. Two options that give a parameter different
distributions therefore draw *comonotone* values in each world (common random
numbers): more troops offered means more troops in every world, never a reshuffle.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


# The smallest and largest uniforms the random streams can give (model/streams.py: 52 random bits
# plus a half, over 2**52). A distribution can produce exactly the values of its ppf between them.
U_MIN = 0.5 / 2.0**52
U_MAX = 1.0 - 0.5 / 2.0**52


class _Base(BaseModel):
    # NaN and infinities are refused in every field: a NaN compares false with every limit and
    # would pass the range checks, then silently turn outcomes into nonsense.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    source: str | None = None

    def support(self) -> tuple[float, float]:
        raise NotImplementedError

    def extremes(self) -> tuple[float, float]:
        """The smallest and largest value a world can draw (``inf`` if a draw can overflow).

        For distributions on a finite interval this is the interval; unbounded ones are
        evaluated at the most extreme uniforms the streams can give.
        """
        return self.support()

    def ppf(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class _Bounded(_Base):
    """A distribution on a finite interval ``low < high`` (fields declared by the subclass)."""

    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> "_Bounded":
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) is not below high ({self.high:g})")
        return self

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class Fixed(_Base):
    """A plain value with a source: ``{value: 30000, source: ...}``."""

    value: float | bool

    def support(self) -> tuple[float, float]:
        return (float(self.value), float(self.value))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), float(self.value))

    def describe(self) -> str:
        return str(self.value).lower() if isinstance(self.value, bool) else f"{self.value:g}"


class Uniform(_Base):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> "Uniform":
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        return self

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * u

    def describe(self) -> str:
        return f"uniform({self.low:g}, {self.high:g})"


class Normal(_Base):
    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)

    def support(self) -> tuple[float, float]:
        return (-np.inf, np.inf)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats  # imported on first draw: validating a file needs no SciPy

        return stats.norm.ppf(u, loc=self.mean, scale=self.sd)

    def describe(self) -> str:
        return f"normal(mean {self.mean:g}, sd {self.sd:g})"


class TruncNormal(_Bounded):
    dist: Literal["truncnormal"]
    mean: float
    sd: float = Field(gt=0)
    low: float
    high: float

    def extremes(self) -> tuple[float, float]:
        # Inside (low, high) in theory, but SciPy's inverse overflows when the interval lies
        # very many sds from the mean (or the sd is tiny): evaluate the real thing.
        lo, hi = (float(x) for x in self.ppf(np.array([U_MIN, U_MAX])))
        return (lo if math.isfinite(lo) else -math.inf, hi if math.isfinite(hi) else math.inf)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats

        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)

    def describe(self) -> str:
        return f"truncnormal(mean {self.mean:g}, sd {self.sd:g}, {self.low:g}..{self.high:g})"


class Triangular(_Base):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> "Triangular":
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"need low <= mode <= high, got {self.low:g}, {self.mode:g}, {self.high:g}")
        if self.low == self.high:
            raise ValueError("low equals high; write a plain value instead")
        return self

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats

        scale = self.high - self.low
        return stats.triang.ppf(u, (self.mode - self.low) / scale, loc=self.low, scale=scale)

    def describe(self) -> str:
        return f"triangular({self.low:g}, {self.mode:g}, {self.high:g})"


class Beta(_Bounded):
    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats  # imported on first draw: validating a file needs no SciPy

        return stats.beta.ppf(u, self.a, self.b, loc=self.low, scale=self.high - self.low)

    def describe(self) -> str:
        scaled = "" if (self.low, self.high) == (0.0, 1.0) else f" on {self.low:g}..{self.high:g}"
        return f"beta({self.a:g}, {self.b:g}){scaled}, mean {self.a / (self.a + self.b):.2f}"


class LogNormal(_Base):
    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0, description="standard deviation of the log")

    def support(self) -> tuple[float, float]:
        return (0.0, np.inf)

    def extremes(self) -> tuple[float, float]:
        z = NormalDist().inv_cdf(U_MAX)  # the standard library's: checking a file needs no SciPy
        return (_exp_or_inf(math.log(self.median) - z * self.sigma), _exp_or_inf(math.log(self.median) + z * self.sigma))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats  # imported on first draw: validating a file needs no SciPy

        return stats.lognorm.ppf(u, self.sigma, scale=self.median)

    def describe(self) -> str:
        return f"lognormal(median {self.median:g}, sigma {self.sigma:g})"


class Choice(_Base):
    dist: Literal["choice"]
    values: list[float | bool] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> "Choice":
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"{len(self.weights)} weights for {len(self.values)} values")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative and not all zero")
            if not math.isfinite(sum(self.weights)):
                raise ValueError("weights add up to more than a float can hold")
        return self

    def support(self) -> tuple[float, float]:
        vals = [float(v) for v in self.values]
        return (min(vals), max(vals))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights, float)
        edges = np.cumsum(w) / w.sum()
        idx = np.minimum(np.searchsorted(edges, u, side="right"), len(self.values) - 1)
        return np.asarray([float(v) for v in self.values])[idx]

    def describe(self) -> str:
        vals = ", ".join(str(v).lower() if isinstance(v, bool) else f"{v:g}" for v in self.values)
        if self.weights is None:
            return f"choice({vals})"
        return f"choice({vals}; weights {', '.join(f'{w:g}' for w in self.weights)})"


def _exp_or_inf(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


Distribution = Annotated[
    Union[Uniform, Normal, TruncNormal, Triangular, Beta, LogNormal, Choice],
    Field(discriminator="dist"),
]
DIST_NAMES = ("uniform", "normal", "truncnormal", "triangular", "beta", "lognormal", "choice")
DIST_TYPES: dict[str, type[_Base]] = {
    "uniform": Uniform, "normal": Normal, "truncnormal": TruncNormal, "triangular": Triangular,
    "beta": Beta, "lognormal": LogNormal, "choice": Choice,
}
Spec = Union[Fixed, Uniform, Normal, TruncNormal, Triangular, Beta, LogNormal, Choice]
