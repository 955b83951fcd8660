"""Adversarial attacks on numpy models, for evaluating explanations."""

from ._pgd import pgd_attack

__all__ = ["pgd_attack"]
