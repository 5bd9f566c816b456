"""Non-saturating GAN losses (binary cross-entropy on logits), averaged over the discriminator's scales."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits: list[torch.Tensor], fake_logits: list[torch.Tensor]) -> torch.Tensor:
    losses = [
        F.binary_cross_entropy_with_logits(real.float(), torch.ones_like(real, dtype=torch.float32))
        + F.binary_cross_entropy_with_logits(fake.float(), torch.zeros_like(fake, dtype=torch.float32))
        for real, fake in zip(real_logits, fake_logits)
    ]
    return 0.5 * torch.stack(losses).mean()


def generator_adversarial_loss(fake_logits: list[torch.Tensor]) -> torch.Tensor:
    losses = [F.binary_cross_entropy_with_logits(fake.float(), torch.ones_like(fake, dtype=torch.float32)) for fake in fake_logits]
    return torch.stack(losses).mean()
