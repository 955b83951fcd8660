"""Reproductions of the papers' experiments."""

from ._agreement import format_agreement_table, run_agreement

__all__ = ["format_agreement_table", "run_agreement"]
