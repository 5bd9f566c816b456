"""Hue-family recall: does the model paint green things green, skies blue, skin and brick warm?

Of the truth's pixels with Lab chroma >= 20, split by hue angle atan2(b, a) into families
warm [-30, 100), green [100, 200), blue [200, 300) and purple [300, 330) degrees, the fraction whose
prediction has chroma >= 8 in the same family. Pooled over every pixel of every image evaluated
(a big sky counts for more than a small one), one figure per family.
"""

from __future__ import annotations


import torch

TRUE_CHROMA_MIN = 20.0
PREDICTED_CHROMA_MIN = 8.0
FAMILIES = {"warm": (-30.0, 100.0), "green": (100.0, 200.0), "blue": (200.0, 300.0), "purple": (300.0, 330.0)}


def hue_family(ab: torch.Tensor) -> torch.Tensor:
    """ab (2, ...) -> family index (...) in FAMILIES order, by hue angle in degrees within [-30, 330)."""
    angle = torch.rad2deg(torch.atan2(ab[1], ab[0]))  # (-180, 180]
    angle = torch.where(angle < -30.0, angle + 360.0, angle)
    family = torch.zeros(angle.shape, dtype=torch.long, device=ab.device)
    for index, (low, _) in enumerate(FAMILIES.values()):
        family = torch.where(angle >= low, torch.full_like(family, index), family)
    return family


class HueRecallAccumulator:
    def __init__(self) -> None:
        self.truth = torch.zeros(len(FAMILIES), dtype=torch.float64)
        self.hits = torch.zeros(len(FAMILIES), dtype=torch.float64)

    def update(self, predicted_ab: torch.Tensor, true_ab: torch.Tensor) -> None:
        """predicted_ab, true_ab: (2, H, W) in Lab units."""
        predicted_ab, true_ab = predicted_ab.float(), true_ab.float()
        coloured = true_ab.norm(dim=0) >= TRUE_CHROMA_MIN
        true_family = hue_family(true_ab)[coloured]
        predicted_family = hue_family(predicted_ab)[coloured]
        predicted_coloured = predicted_ab.norm(dim=0)[coloured] >= PREDICTED_CHROMA_MIN
        hit = predicted_coloured & (predicted_family == true_family)
        self.truth += torch.bincount(true_family, minlength=len(FAMILIES)).double()
        self.hits += torch.bincount(true_family[hit], minlength=len(FAMILIES)).double()

    def result(self) -> dict[str, float | None]:
        """{"recall_warm": ..., "recall_green": ..., ...}; None for a family with no true pixels."""
        return {f"recall_{name}": (float(self.hits[i] / self.truth[i]) if self.truth[i] > 0 else None)
                for i, name in enumerate(FAMILIES)}
