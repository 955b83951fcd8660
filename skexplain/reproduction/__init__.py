"""Reproductions of the papers' experiments."""

from ._agreement import format_agreement_table, run_agreement
from ._equivalence import (
    EQUIVALENCE_COLUMNS,
    TRADEOFF_COLUMNS,
    load_equivalence_problem,
    run_equivalence,
    run_tradeoff,
)
from ._relex import (
    RELEX_ATTACK_COLUMNS,
    RELEX_CLEAN_COLUMNS,
    RELEX_EPS,
    explain_as_masks,
    load_digits_problem,
    relex_methods,
    run_relex,
)
from ._plot import plot_agreement, plot_equivalence, plot_relex, plot_tradeoff
from ._table import format_table, write_csv

__all__ = [
    "EQUIVALENCE_COLUMNS",
    "RELEX_ATTACK_COLUMNS",
    "RELEX_CLEAN_COLUMNS",
    "RELEX_EPS",
    "TRADEOFF_COLUMNS",
    "explain_as_masks",
    "format_agreement_table",
    "format_table",
    "load_digits_problem",
    "load_equivalence_problem",
    "plot_agreement",
    "plot_equivalence",
    "plot_relex",
    "plot_tradeoff",
    "relex_methods",
    "run_agreement",
    "run_equivalence",
    "run_relex",
    "run_tradeoff",
    "write_csv",
]
