"""Independent tasks through joblib, in order, with an optional progress bar."""

import pickle
import sys

from joblib import effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed

from ._optional import import_optional

__all__ = ["parallel_map", "progress_bar"]


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def progress_bar(total, *, verbose=0, desc=None):
    """A tqdm bar on stderr when ``verbose`` (extra ``progress``), else a no-op.

    Examples
    --------
    >>> bar = progress_bar(3, verbose=0)
    >>> bar.update(1); bar.close()
    """
    if not verbose:
        return _NoBar()
    tqdm = import_optional("tqdm", "progress")
    return tqdm.tqdm(total=total, desc=desc, file=sys.stderr, leave=False)


def parallel_map(func, tasks, *, n_jobs=None, verbose=0, desc=None):
    """Yield ``func(*task)`` for each task, in order, computed by joblib.

    Workers come from ``sklearn.utils.parallel.Parallel`` (so the active
    :func:`joblib.parallel_config`, e.g. the dask backend, applies and
    scikit-learn's configuration reaches the workers). With one worker (or
    one task) the calls run in this thread without joblib, so that nothing
    touches the process-wide warning filters. Results are yielded as they
    arrive, in task order, and advance the progress bar.

    Parameters
    ----------
    func : callable
        A picklable (module-level) function.
    tasks : iterable of tuple
        Arguments of each call; keep them to numpy arrays and plain values.
    n_jobs : int or None
    verbose : int, default=0
        ``> 0``: show a tqdm progress bar (extra ``progress``).
    desc : str, optional
        Label of the progress bar.

    Examples
    --------
    >>> list(parallel_map(pow, [(2, 3), (3, 2)]))
    [8, 9]
    """
    tasks = list(tasks)
    bar = progress_bar(len(tasks), verbose=verbose, desc=desc)
    try:
        if len(tasks) <= 1 or effective_n_jobs(n_jobs) == 1:
            # in this thread, without joblib: scikit-learn's Parallel swaps
            # the process-wide warning filters around every call, under any
            # other thread
            results = (func(*task) for task in tasks)
        else:
            results = Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(func)(*task) for task in tasks
            )
        try:
            for res in results:
                bar.update(1)
                yield res
        except pickle.PicklingError as exc:
            raise ValueError(
                f"n_jobs={n_jobs!r} runs in worker processes, which need the model (or "
                "function) pickled, and it cannot be: " + str(exc).split("\n")[0].rstrip(".")
                + ". Use "
                "n_jobs=1, a module-level function, or joblib's threading backend "
                "(joblib.parallel_config(backend='threading')).") from exc
    finally:
        bar.close()
