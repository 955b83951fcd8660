"""Rows of reproduction results: computed in parallel, formatted as Markdown."""

import csv

from ..utils._parallel import parallel_map

__all__ = ["collect_rows", "format_table", "write_csv"]


def format_table(rows, columns):
    """Markdown table of ``rows`` for ``columns = [(key, header, format), ...]``.

    Parameters
    ----------
    rows : list of dict
        One dict per row.
    columns : list of tuple
        ``(key, header, format string)`` of each column.

    Returns
    -------
    table : str
        Markdown.

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


def write_csv(rows, columns, path):
    """Write the ``columns`` keys of ``rows`` to ``path`` as CSV (full precision).

    The header holds the keys (not the Markdown headers): stable names for
    pandas or a spreadsheet. ``None`` is written as an empty field, other
    non-numeric values with ``str``.

    Parameters
    ----------
    rows : list of dict
        One dict per row.
    columns : list of tuple
        ``(key, header, format string)``; the keys are written.
    path : str or path-like
        The file to write.

    Examples
    --------
    >>> import os, tempfile
    >>> from skexplain.reproduction import write_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> write_csv([{"a": 0.1, "b": None}], [("a", "A", "{}"), ("b", "B", "{}")], path)
    >>> open(path).read().splitlines()
    ['a,b', '0.1,']
    """
    keys = [k for k, _, _ in columns]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(keys)
        for r in rows:
            writer.writerow(["" if r[k] is None else r[k] if isinstance(r[k], (int, float, str))
                             else str(r[k]) for k in keys])


def collect_rows(func, tasks, n_jobs, verbose, desc, progress):
    """Rows ``func(*task)`` computed by :func:`~skexplain.utils._parallel.parallel_map`,
    in task order, each passed to ``progress`` (if given) as it arrives."""
    rows = []
    for row in parallel_map(func, tasks, n_jobs=n_jobs, verbose=verbose, desc=desc):
        rows.append(row)
        if progress is not None:
            progress(row)
    return rows
