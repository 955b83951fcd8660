"""Running the checks: a report for any caller, parametrisation for pytest."""

import time
from dataclasses import dataclass, field

from ._checks import CHECKS, get_check
from ._subject import CheckNotApplicable, as_subject

__all__ = ["CheckReport", "CheckResult", "check_explainer",
           "parametrize_with_explanation_checks"]


def _require(module, extra="test"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"skexplain.testing needs {module.split('.')[0]}: "
                          f"pip install 'skexplain[{extra}]'.") from exc


@dataclass
class CheckResult:
    """The outcome of one property on one explainer.

    Parameters
    ----------
    name : str
        The check.
    status : {"passed", "failed", "skipped", "xfailed", "xpassed"}
        ``xfailed``: failed as expected (listed in ``expected_failed_checks``);
        ``xpassed``: listed there but passed.
    message : str
        The failure (with hypothesis's falsifying example), the reason for
        a skip or an expected failure, or ``""``.
    n_examples : int
        Cases run (including hypothesis's shrinking).
    seconds : float
        Wall time.
    source : str
        The paper or axiom the property comes from.

    Examples
    --------
    >>> from skexplain.testing import CheckResult
    >>> CheckResult("dummy", "skipped", "needs a baseline").status
    'skipped'
    """

    name: str
    status: str
    message: str = ""
    n_examples: int = 0
    seconds: float = 0.0
    source: str = ""


@dataclass
class CheckReport:
    """The results of :func:`check_explainer`, one per property.

    Parameters
    ----------
    explainer : str
        The explainer's name.
    results : list of CheckResult
        In the order run.

    Examples
    --------
    >>> from skexplain.explainers import Gradient
    >>> from skexplain.testing import check_explainer
    >>> report = check_explainer(Gradient(), properties=["linearity", "dummy"],
    ...                          max_examples=3)
    >>> report.passed, [r.status for r in report.results]
    (True, ['passed', 'passed'])
    """

    explainer: str
    results: list = field(default_factory=list)

    @property
    def passed(self):
        """Whether no check failed (or passed unexpectedly)."""
        return all(r.status not in ("failed", "xpassed") for r in self.results)

    @property
    def failures(self):
        """The failed and unexpectedly passing results."""
        return [r for r in self.results if r.status in ("failed", "xpassed")]

    def raise_on_failure(self):
        """Raise an ``AssertionError`` listing every failure.

        Raises
        ------
        AssertionError
            When a check failed or an expected failure passed.
        """
        if not self.passed:
            lines = [f"{r.name} ({r.status}): {r.message}" for r in self.failures]
            raise AssertionError(f"{self.explainer} failed {len(lines)} check(s):\n"
                                 + "\n".join(lines))

    def __str__(self):
        width = max([len(r.name) for r in self.results] + [5])
        rows = [f"{self.explainer}: {sum(r.status == 'passed' for r in self.results)} passed, "
                f"{len(self.failures)} failed, "
                f"{sum(r.status == 'skipped' for r in self.results)} skipped"]
        for r in self.results:
            note = r.message.splitlines()[0] if r.message else ""
            rows.append(f"  {r.name:<{width}}  {r.status:<8} {r.seconds:6.2f} s  {note}")
        return "\n".join(rows)


def _names(properties):
    if properties is None:
        return list(CHECKS)
    names = [properties] if isinstance(properties, str) else list(properties)
    for name in names:
        get_check(name)
    return names


def _strategy(spec):
    st = _require("hypothesis.strategies")
    kind = spec[0]
    if kind == "int":
        return st.integers(spec[1], spec[2])
    if kind == "float":
        return st.floats(spec[1], spec[2], allow_nan=False, allow_infinity=False)
    return st.sampled_from(list(spec[1]))


def _run(explainer, name, max_examples, random_state):
    """Run one check over hypothesis's cases: ``(status, message, n_examples)``."""
    hypothesis = _require("hypothesis")
    st = _require("hypothesis.strategies")
    check = get_check(name)
    subject = as_subject(explainer)
    state = {"n": 0, "skip": None}

    @hypothesis.seed(random_state)
    @hypothesis.settings(max_examples=max_examples, deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink])
    @hypothesis.given(case_seed=st.integers(0, 2 ** 32 - 1),
                      **{k: _strategy(v) for k, v in check.params.items()})
    def run(case_seed, **params):
        state["n"] += 1
        try:
            check.func(subject, random_state=case_seed, **params)
        except CheckNotApplicable as exc:
            state["skip"] = str(exc)

    try:
        run()
    except Exception as exc:         # an error is a failure too, with hypothesis's example
        notes = "\n".join(getattr(exc, "__notes__", []))
        text = str(exc) if isinstance(exc, AssertionError) else (
            f"{subject.name} raised {type(exc).__name__}: {exc}")
        return "failed", f"{text}\n{notes}".strip(), state["n"]
    if state["skip"] is not None:
        return "skipped", state["skip"], state["n"]
    return "passed", "", state["n"]


def _check_counts(max_examples, random_state):
    import numbers

    if not isinstance(max_examples, numbers.Integral) or isinstance(max_examples, bool) \
            or max_examples < 1:
        raise ValueError(f"max_examples must be a positive integer; got {max_examples!r}.")
    if not isinstance(random_state, numbers.Integral) or isinstance(random_state, bool):
        raise ValueError(f"random_state must be an integer (it seeds hypothesis); got "
                         f"{random_state!r}.")


def _expected(expected_failed_checks, explainer):
    if expected_failed_checks is None:
        return {}
    if callable(expected_failed_checks):
        return dict(expected_failed_checks(explainer) or {})
    return dict(expected_failed_checks)


def check_explainer(explainer, *, properties=None, max_examples=10, random_state=0,
                    expected_failed_checks=None):
    """Check the properties of an explainer over hypothesis-drawn cases.

    Each property (see ``skexplain.testing.CHECKS``) draws models, points,
    backgrounds and parameters, explains them and compares with what the
    property states; a failure is shrunk by hypothesis to a small
    falsifying case. Properties the explainer cannot be checked for (a
    Shapley property of a gradient method, a baseline a callable does not
    take) are reported as skipped, with the reason.

    Parameters
    ----------
    explainer : explainer, OptimizedExplainer or CallableExplainer
        A skexplain explainer (its parameters are kept; the checks set the
        model, and a seed when ``random_state`` is None), or a third-party
        explainer wrapped in :class:`CallableExplainer`.
    properties : str, list of str or None, default=None
        The checks to run; ``None``: all.
    max_examples : int, default=10
        Cases per property.
    random_state : int, default=0
        Seeds hypothesis: the same seed draws the same cases in one
        environment (hypothesis may also draw from constants it finds in
        the loaded modules, so another process can draw others).
    expected_failed_checks : dict or callable, default=None
        ``{check name: reason}`` (or ``explainer -> dict``): these are
        reported ``xfailed`` when they fail and ``xpassed`` (a failure of
        the report) when they pass.

    Returns
    -------
    report : CheckReport
        One :class:`CheckResult` per property; ``report.passed`` and
        ``report.raise_on_failure()`` for a CI.

    Examples
    --------
    >>> from skexplain.explainers import IntegratedGradients
    >>> from skexplain.testing import check_explainer
    >>> report = check_explainer(IntegratedGradients(n_steps=16),
    ...                          properties=["completeness", "linear_model"],
    ...                          max_examples=3)
    >>> report.passed
    True
    """
    _check_counts(max_examples, random_state)
    subject = as_subject(explainer)
    expected = _expected(expected_failed_checks, explainer)
    report = CheckReport(subject.name)
    for name in _names(properties):
        t0 = time.perf_counter()
        status, message, n = _run(subject, name, int(max_examples), int(random_state))
        if name in expected:
            if status == "failed":
                status, message = "xfailed", f"{expected[name]} ({message.splitlines()[0]})"
            elif status == "passed":
                status, message = "xpassed", f"expected to fail: {expected[name]}"
        report.results.append(CheckResult(name, status, message, n, time.perf_counter() - t0,
                                          get_check(name).source))
    return report


def parametrize_with_explanation_checks(explainers, *, properties=None, max_examples=10,
                                        random_state=0, expected_failed_checks=None):
    """Pytest parametrisation: one test per explainer and property.

    Like scikit-learn's ``parametrize_with_checks``: decorate a test taking
    ``explainer`` and ``check`` and call ``check(explainer)``. A property
    that does not apply is skipped with its reason; one listed in
    ``expected_failed_checks`` is a strict ``xfail`` with its reason.

    Parameters
    ----------
    explainers : list
        The explainers: skexplain's and/or :class:`CallableExplainer` objects.
    properties : str, list of str or None, default=None
        The checks; ``None``: all (the inapplicable ones are skipped).
    max_examples : int, default=10
        Cases per property.
    random_state : int, default=0
        Seeds hypothesis.
    expected_failed_checks : dict or callable, default=None
        ``{check name: reason}`` for every explainer, or ``explainer ->
        dict``.

    Returns
    -------
    decorator : pytest.MarkDecorator
        ``pytest.mark.parametrize("explainer, check", ...)`` with ids
        ``<explainer>-<check>``.

    Examples
    --------
    >>> from skexplain.explainers import Gradient, SmoothGrad
    >>> from skexplain.testing import parametrize_with_explanation_checks
    >>> @parametrize_with_explanation_checks([Gradient(), SmoothGrad()])
    ... def test_explainer(explainer, check):
    ...     check(explainer)
    """
    pytest = _require("pytest")
    _check_counts(max_examples, random_state)
    params = []
    for explainer in explainers:
        subject = as_subject(explainer)
        expected = _expected(expected_failed_checks, explainer)
        for name in _names(properties):
            marks = ([pytest.mark.xfail(reason=expected[name], strict=True)]
                     if name in expected else [])
            params.append(pytest.param(explainer, _PytestCheck(name, max_examples, random_state),
                                       id=f"{subject.name}-{name}", marks=marks))
    return pytest.mark.parametrize("explainer, check", params)


class _PytestCheck:
    """One property as a pytest check: ``check(explainer)``."""

    def __init__(self, name, max_examples, random_state):
        self.name, self.max_examples, self.random_state = name, max_examples, random_state

    def __call__(self, explainer):
        pytest = _require("pytest")
        status, message, _ = _run(as_subject(explainer), self.name, int(self.max_examples),
                                  int(self.random_state))
        if status == "skipped":
            pytest.skip(message)
        if status == "failed":
            raise AssertionError(message)

    def __repr__(self):
        return f"check_{self.name}"
