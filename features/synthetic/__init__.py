"""A deterministic synthetic SaaS history in the data contract, with a hidden churn process to evaluate against."""

from features.synthetic.generator import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
