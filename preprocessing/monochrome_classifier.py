"""Is this picture monochrome (gray, near-gray or toned) or a colour photograph? A logistic model over
colour_features, fitted on the hand-checked labels (benchmarks/colour_classifier_fit.py writes
monochrome_classifier.json beside this file; that file records its training set and its
out-of-fold rates).

One score, three named thresholds (operating points) a run chooses between: `balanced` (the default)
keeps 98.5% of bsds500's colour photographs out of fold, `lenient` 99.5% (fewer colour photographs
lost, more monochrome kept), `strict` 90% (for a scraped training set where a few colour photographs
less cost nothing and every near-gray one teaches brown). Their measured rates are in the JSON file
and docs/benchmarks.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from preprocessing.colour_features import FEATURE_NAMES, LOGGED

MODEL_FILE = Path(__file__).with_name("monochrome_classifier.json")
# operating point -> share of bsds500's colour photographs its threshold keeps, out of fold
OPERATING_POINTS = {"lenient": 0.995, "balanced": 0.985, "strict": 0.90}
DEFAULT_OPERATING_POINT = "balanced"


def transform(features: np.ndarray) -> np.ndarray:
    """The classifier's inputs from colour_features rows: log(1 + x) of the heavy-tailed ones."""
    values = np.array(features, dtype=np.float64)
    logged = [index for index, name in enumerate(FEATURE_NAMES) if name in LOGGED]
    values[..., logged] = np.log1p(np.maximum(values[..., logged], 0.0))
    return values


@dataclass(frozen=True)
class MonochromeClassifier:
    mean: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    intercept: float
    thresholds: dict[str, float]  # operating point -> a score above this is monochrome

    def threshold(self, operating_point: str = DEFAULT_OPERATING_POINT) -> float:
        if operating_point not in self.thresholds:
            known = ", ".join(self.thresholds)
            raise ValueError(f"unknown colour filter setting {operating_point!r}; known: {known}")
        return self.thresholds[operating_point]

    def score(self, features: np.ndarray) -> float | np.ndarray:
        """Log-odds that the picture is monochrome (one features row, or many)."""
        standard = (transform(features) - self.mean) / self.scale
        return standard @ self.coefficients + self.intercept

    def to_dict(self) -> dict:
        return {"features": list(FEATURE_NAMES), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coefficients": self.coefficients.tolist(), "intercept": self.intercept, "thresholds": self.thresholds}

    @classmethod
    def from_dict(cls, values: dict) -> MonochromeClassifier:
        if tuple(values["features"]) != FEATURE_NAMES:
            raise ValueError("monochrome classifier was fitted on other features than colour_features computes; "
                             "refit it with benchmarks/colour_classifier_fit.py")
        return cls(np.array(values["mean"]), np.array(values["scale"]), np.array(values["coefficients"]),
                   float(values["intercept"]), {name: float(t) for name, t in values["thresholds"].items()})


@lru_cache(maxsize=1)
def shipped_classifier() -> MonochromeClassifier:
    return MonochromeClassifier.from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8"))["model"])
