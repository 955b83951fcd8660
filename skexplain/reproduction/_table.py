"""Markdown tables of reproduction results."""

__all__ = ["format_table"]


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
