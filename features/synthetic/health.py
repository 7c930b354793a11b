"""The hidden health of an account and the churn hazard it implies.

Health is a vector (engagement, satisfaction, value) following a mean-reverting random walk
with occasional multi-month decline or recovery episodes, so trends carry information beyond
levels. The hazard depends on this hidden state and on contract timing only, never on the
observed signals, which are derived from the state later with noise.
"""

from __future__ import annotations

import numpy as np

ENGAGEMENT, SATISFACTION, VALUE = 0, 1, 2

PERSISTENCE = 0.88
INNOVATION_SD = 0.3
ACCOUNT_MEAN_SD = 0.6
DECLINE_START, RECOVERY_START = 0.03, 0.02  # monthly chance an episode begins
DECLINE_DRIFT = np.array([-0.25, -0.15, -0.15])
RECOVERY_DRIFT = np.array([0.2, 0.1, 0.12])
ONBOARDING_EFFECT = np.array([0.7, 0.3, 0.5])
ONBOARDING_MONTHS = 3
WINBACK_BOOST = np.array([0.8, 0.8, 0.6])

PLAN_RISK = np.array([0.35, 0.0, -0.45])  # starter, growth, enterprise
HEALTH_WEIGHTS = np.array([0.6, 0.45, 0.38])
MOMENTUM_WEIGHT = 0.7  # per unit of engagement lost over the last three months
POOR_ONBOARDING_WEIGHT = 0.8
MONTHLY_TERM_INTERCEPT = -4.4
ANNUAL_MIDTERM_INTERCEPT = -5.6
ANNUAL_RENEWAL_INTERCEPT = -2.6
RENEWAL_RISK_SLOPE = 1.2


class HealthWalk:
    """Latent health of a chunk of accounts, advanced one month at a time."""

    def __init__(self, n: int, rng: np.random.Generator):
        self._rng = rng
        common = rng.normal(0.0, 1.0, (n, 1))
        self.mean = ACCOUNT_MEAN_SD * (0.6 * common + 0.8 * rng.normal(0.0, 1.0, (n, 3)))
        stationary_sd = INNOVATION_SD / np.sqrt(1 - PERSISTENCE**2)
        self.latent = self.mean + stationary_sd * rng.normal(0.0, 1.0, (n, 3))
        self._drift = np.zeros((n, 3))
        self._episode_left = np.zeros(n, dtype=np.int64)

    def step(self) -> np.ndarray:
        rng, n = self._rng, len(self.latent)
        idle = self._episode_left == 0
        draw = rng.random(n)
        decline = idle & (draw < DECLINE_START)
        recovery = idle & (draw >= DECLINE_START) & (draw < DECLINE_START + RECOVERY_START)
        strength = rng.uniform(0.5, 1.5, (n, 1))
        drift = np.where(idle[:, None], 0.0, self._drift)
        drift = np.where(decline[:, None], DECLINE_DRIFT * strength, drift)
        self._drift = np.where(recovery[:, None], RECOVERY_DRIFT * strength, drift)
        self._episode_left = np.where(
            decline | recovery, rng.integers(3, 10, n), np.maximum(self._episode_left - 1, 0)
        )
        shocks = 0.6 * rng.normal(0.0, 1.0, (n, 1)) + 0.8 * rng.normal(0.0, 1.0, (n, 3))
        self.latent = self.mean + PERSISTENCE * (self.latent - self.mean) + self._drift + INNOVATION_SD * shocks
        return self.latent

    def restart(self, which: np.ndarray) -> None:
        """A won-back customer comes back in better shape than it left."""
        self.latent[which] += WINBACK_BOOST


def with_onboarding(latent: np.ndarray, onboarding: np.ndarray, age_months: np.ndarray) -> np.ndarray:
    """Onboarding quality colours the first months of an account and fades out."""
    fade = np.where(age_months >= 0, np.exp(-np.maximum(age_months, 0) / ONBOARDING_MONTHS), 0.0)
    return latent + (onboarding * fade)[:, None] * ONBOARDING_EFFECT


def churn_probability(
    health: np.ndarray,
    engagement_change: np.ndarray,
    plan: np.ndarray,
    poor_start: np.ndarray,
    monthly_term: np.ndarray,
    renewal: np.ndarray,
) -> np.ndarray:
    """The true monthly hazard; annual contracts rarely end except in their renewal month."""
    risk = (
        -(health @ HEALTH_WEIGHTS)
        - MOMENTUM_WEIGHT * engagement_change
        + PLAN_RISK[plan]
        + POOR_ONBOARDING_WEIGHT * poor_start
    )
    logit = np.where(
        monthly_term,
        MONTHLY_TERM_INTERCEPT + risk,
        np.where(renewal, ANNUAL_RENEWAL_INTERCEPT + RENEWAL_RISK_SLOPE * risk, ANNUAL_MIDTERM_INTERCEPT + risk),
    )
    return 1.0 / (1.0 + np.exp(-logit))
