"""Is this picture monochrome (gray, near-gray or toned) or a colour photograph? A logistic model over
colour_features, fitted on the hand-checked labels (benchmarks/colour_classifier_fit.py writes
monochrome_classifier.json beside this file; that file records its training set and its
out-of-fold rates)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from preprocessing.colour_features import FEATURE_NAMES, LOGGED

MODEL_FILE = Path(__file__).with_name("monochrome_classifier.json")


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
    threshold: float  # a score above this is monochrome

    def score(self, features: np.ndarray) -> float | np.ndarray:
        """Log-odds that the picture is monochrome (one features row, or many)."""
        standard = (transform(features) - self.mean) / self.scale
        return standard @ self.coefficients + self.intercept

    def to_dict(self) -> dict:
        return {"features": list(FEATURE_NAMES), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coefficients": self.coefficients.tolist(), "intercept": self.intercept, "threshold": self.threshold}

    @classmethod
    def from_dict(cls, values: dict) -> MonochromeClassifier:
        if tuple(values["features"]) != FEATURE_NAMES:
            raise ValueError("monochrome classifier was fitted on other features than colour_features computes; "
                             "refit it with benchmarks/colour_classifier_fit.py")
        return cls(np.array(values["mean"]), np.array(values["scale"]), np.array(values["coefficients"]),
                   float(values["intercept"]), float(values["threshold"]))


@lru_cache(maxsize=1)
def shipped_classifier() -> MonochromeClassifier:
    return MonochromeClassifier.from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8"))["model"])
