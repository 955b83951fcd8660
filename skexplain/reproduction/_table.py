"""Rows of reproduction results: computed in parallel, formatted as Markdown."""

from ..utils._parallel import parallel_map

__all__ = ["collect_rows", "format_table"]


def format_table(rows, columns):
    """Markdown table of ``rows`` for ``columns = [(key, header, format), ...]``.

    Examples
    --------
    >>> print(format_table([{"a": 1.0}], [("a", "A", "{:.1f}")]))
    | A |
    |---|
    | 1.0 |
    """
    head = "| " + " | ".join(h for _, h, _ in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(f.format(r[k]) for k, _, f in columns) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def collect_rows(func, tasks, n_jobs, verbose, desc, progress):
    """Rows ``func(*task)`` computed by :func:`~skexplain.utils._parallel.parallel_map`,
    in task order, each passed to ``progress`` (if given) as it arrives."""
    rows = []
    for row in parallel_map(func, tasks, n_jobs=n_jobs, verbose=verbose, desc=desc):
        rows.append(row)
        if progress is not None:
            progress(row)
    return rows
