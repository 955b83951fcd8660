"""Reproductions of the papers' experiments."""

from ._agreement import format_agreement_table, run_agreement
from ._equivalence import (
    EQUIVALENCE_COLUMNS,
    TRADEOFF_COLUMNS,
    load_equivalence_problem,
    run_equivalence,
    run_tradeoff,
)
from ._table import format_table

__all__ = [
    "EQUIVALENCE_COLUMNS",
    "TRADEOFF_COLUMNS",
    "format_agreement_table",
    "format_table",
    "load_equivalence_problem",
    "run_agreement",
    "run_equivalence",
    "run_tradeoff",
]
