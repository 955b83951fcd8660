"""RelEx and the class retrieval of adversarial digits (Lim, Lee & Kim, section 4).

The paper's experiments use ResNet-50 on ImageNet; this reproduction keeps
their protocol on data that ships with scikit-learn: the 8 x 8 digits
(pixels scaled to [0, 1]), an ``MLPClassifier`` trained here, untargeted PGD
``l_inf`` attacks (40 steps, pixels kept in [0, 1]) over a range of ``eps``,
and five explanation methods used as masks: RelEx, SmoothGrad, Integrated
Gradients, Gradient x Input and Gradient (the gradient methods' attributions
turned into masks in [0, 1] by the paper's S2.1 rule: ``|a|`` over its 99th
percentile, clipped; :func:`~skexplain.metrics.normalize_saliency`).

For every ``eps`` and method, :func:`run_relex` reports the class retrieval
rate ``P[argmax f(m * x_adv) = clean class]`` with

* ``m_adv`` explaining the class the model *predicts* at ``x_adv`` (no label
  knowledge: what a user would compute),
* ``m_adv`` explaining the *clean* class (the paper's "target class of
  x_0"; the label is given to the explainer),
* the clean image's mask ``m_0`` applied to ``x_adv``,

and, on clean images, deletion, preservation and ``R``, plus the rate at
which a mask for a deliberately *wrong* class makes the model predict that
wrong class (how much the masks can manufacture evidence).
"""

import time

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from ..attacks import pgd_attack
from ..explainers import Gradient, GradientXInput, IntegratedGradients, RelEx, SmoothGrad
from ..metrics import (
    class_retrieval_rate,
    deletion_auc,
    normalize_saliency,
    preservation_auc,
    relevance_score,
)
from ._table import collect_rows

__all__ = [
    "RELEX_ATTACK_COLUMNS",
    "RELEX_CLEAN_COLUMNS",
    "RELEX_EPS",
    "explain_as_masks",
    "load_digits_problem",
    "relex_methods",
    "run_relex",
]

#: PGD l_inf radii on pixels in [0, 1] (the digits' 17 grey levels are 1/16 apart).
RELEX_EPS = (0.05, 0.1, 0.2, 0.3, 0.5)


def load_digits_problem(*, hidden_layer_sizes=(64,), random_state=0):
    """Load the digits scaled to [0, 1], split 70/30, with a trained MLP.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(64,)
        The MLP's hidden layers.
    random_state : int, default=0
        Seeds the split and the MLP.

    Returns
    -------
    mlp : MLPClassifier
        Trained on the training split.
    X_train, X_test : ndarray of shape (n, 64)
        Pixels in [0, 1].
    y_test : ndarray
        Test labels.
    accuracy : float
        Test accuracy.

    Examples
    --------
    >>> from skexplain.reproduction import load_digits_problem
    >>> mlp, X_tr, X_te, y_te, acc = load_digits_problem()
    >>> X_te.shape, acc > 0.95
    ((540, 64), True)
    """
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=random_state,
                                              stratify=y)
    mlp = MLPClassifier(hidden_layer_sizes=hidden_layer_sizes, max_iter=2000,
                        random_state=random_state)
    mlp.fit(X_tr, y_tr)     # converges well before max_iter (tol-based stop)
    return mlp, X_tr, X_te, y_te, float(mlp.score(X_te, y_te))


def relex_methods(model, *, random_state=0, n_noise=50, n_iter=50):
    """The compared explainers, unfitted, with the settings of the paper.

    SmoothGrad's noise is 0.1 of the pixel range (the paper's S2.1 level
    for RelEx), 50 samples; Integrated Gradients from a black image, 50
    steps. The model is wrapped in ``FrozenEstimator`` so that ``clone``
    keeps it fitted.

    Parameters
    ----------
    model : fitted classifier
        The model to explain.
    random_state : int, default=0
        Seeds RelEx and SmoothGrad.
    n_noise : int, default=50
        RelEx's noisy copies per iteration.
    n_iter : int, default=50
        RelEx's iterations.

    Returns
    -------
    explainers : dict
        Name -> unfitted explainer: RelEx, SmoothGrad, IntegratedGradients,
        GradientXInput, Gradient.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skexplain.reproduction import relex_methods
    >>> X = np.random.default_rng(0).uniform(size=(20, 4))
    >>> model = LogisticRegression().fit(X, X[:, 0] > 0.5)
    >>> list(relex_methods(model))
    ['RelEx', 'SmoothGrad', 'IntegratedGradients', 'GradientXInput', 'Gradient']
    """
    model = FrozenEstimator(model)
    return {
        "RelEx": RelEx(model, n_noise=n_noise, n_iter=n_iter, random_state=random_state),
        "SmoothGrad": SmoothGrad(model, sigma=0.1, n_samples=50, random_state=random_state),
        "IntegratedGradients": IntegratedGradients(model, n_steps=50),
        "GradientXInput": GradientXInput(model),
        "Gradient": Gradient(model),
    }


def explain_as_masks(explainer, X, target, X_fit=None):
    """Explain the rows of ``X`` as masks in [0, 1], for per-row ``target`` classes.

    Attributions that are not RelEx masks go through
    :func:`~skexplain.metrics.normalize_saliency`.

    Parameters
    ----------
    explainer : BaseExplainer
        Unfitted, with its model set (e.g. from :func:`relex_methods`).
    X : ndarray of shape (n_samples, n_features)
        Points to explain.
    target : "predicted" or array-like of shape (n_samples,)
        The class explained at each row (rows are grouped by class; each
        group is explained by a clone with that target).
    X_fit : ndarray, optional
        Data to fit the explainer on (default ``X``).

    Returns
    -------
    masks : ndarray of shape (n_samples, n_features)
        Values in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.frozen import FrozenEstimator
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skexplain.explainers import Gradient
    >>> from skexplain.reproduction import explain_as_masks
    >>> X = np.random.default_rng(0).uniform(size=(20, 3))
    >>> model = FrozenEstimator(LogisticRegression().fit(X, X[:, 0] > 0.5))  # survives clone
    >>> M = explain_as_masks(Gradient(model), X, "predicted")
    >>> bool(M.min() >= 0 and M.max() <= 1), M.shape
    (True, (20, 3))
    """
    X_fit = X if X_fit is None else X_fit
    is_mask = isinstance(explainer, RelEx)
    if isinstance(target, str):
        E = clone(explainer).set_params(target=target).fit(X_fit).transform(X)
    else:
        target = np.asarray(target)
        E = np.empty_like(X)
        for c in np.unique(target):
            rows = target == c
            E[rows] = clone(explainer).set_params(target=c).fit(X_fit).transform(X[rows])
    return E if is_mask else normalize_saliency(E)


def _clean_row(name, explainer, mlp, P, labels, n_classes):
    t0 = time.perf_counter()
    M = explain_as_masks(explainer, P, "predicted")
    D = deletion_auc(mlp, P, M)
    Pr = preservation_auc(mlp, P, M)
    wrong = mlp.classes_[(np.searchsorted(mlp.classes_, labels) + 3) % n_classes]
    M_wrong = explain_as_masks(explainer, P, wrong)
    return dict(method=name, retrieval=class_retrieval_rate(mlp, P, M, labels),
                deletion=D, preservation=Pr, R=relevance_score(D, Pr),
                wrong_class=class_retrieval_rate(mlp, P, M_wrong, wrong),
                mask_l1=float(M.sum(axis=1).mean()), seconds=time.perf_counter() - t0), M


def _attack_row(name, explainer, mlp, P, labels, eps, X_adv, M0):
    t0 = time.perf_counter()
    M_pred = explain_as_masks(explainer, X_adv, "predicted", X_fit=P)
    M_true = explain_as_masks(explainer, X_adv, labels, X_fit=P)
    return dict(method=name, eps=eps,
                model_accuracy=float(np.mean(mlp.predict(X_adv) == labels)),
                retrieval_predicted=class_retrieval_rate(mlp, X_adv, M_pred, labels),
                retrieval_clean_target=class_retrieval_rate(mlp, X_adv, M_true, labels),
                retrieval_clean_mask=class_retrieval_rate(mlp, X_adv, M0, labels),
                mask_l1_ratio=float(M_pred.sum(axis=1).mean() / max(M0.sum(axis=1).mean(),
                                                                      1e-12)),
                seconds=time.perf_counter() - t0)


def _task(kind, name, explainer, mlp, P, labels, extra):
    if kind == "clean":
        return _clean_row(name, explainer, mlp, P, labels, len(mlp.classes_))
    eps, X_adv, M0 = extra
    return _attack_row(name, explainer, mlp, P, labels, eps, X_adv, M0)


def run_relex(eps=RELEX_EPS, *, n_points=100, methods=None, n_noise=50, n_iter=50,
              pgd_iter=40, random_state=0, n_jobs=None, verbose=0, progress=None):
    """Class retrieval under PGD attacks and feature relevance on clean digits.

    Parameters
    ----------
    eps : sequence of float, default=RELEX_EPS
        PGD ``l_inf`` radii (pixels in [0, 1]).
    n_points : int, default=100
        Correctly classified test digits used (the first ones).
    methods : sequence of str, optional
        Subset of :func:`relex_methods`' names.
    n_noise : int, default=50
        RelEx's noisy copies per iteration.
    n_iter : int, default=50
        RelEx's iterations.
    pgd_iter : int, default=40
        Steps of the PGD attack.
    random_state : int, default=0
        Seeds the MLP, RelEx, SmoothGrad and the PGD random start.
    n_jobs : int or None, default=None
        Joblib workers, one row per task; the rows do not depend on it
        (timings aside).
    verbose : int, default=0
        ``> 0``: a tqdm progress bar over the rows (extra ``progress``).
    progress : callable, optional
        Called with each finished row, in order (e.g. to print it).

    Returns
    -------
    result : dict
        ``"accuracy"`` (clean test accuracy), ``"clean"`` (rows: method,
        retrieval, deletion, preservation, R, wrong_class, mask_l1),
        ``"attack"`` (rows: method, eps, model_accuracy,
        retrieval_predicted, retrieval_clean_target, retrieval_clean_mask,
        mask_l1_ratio), and the arrays ``"X"``, ``"y"``, ``"masks"``
        (clean masks by method) and ``"X_adv"`` (by eps), for figures.

    Examples
    --------
    >>> from skexplain.reproduction import run_relex
    >>> res = run_relex(eps=(0.1,), n_points=5, methods=["Gradient"], n_noise=5, n_iter=5,
    ...                 pgd_iter=5)
    >>> [r["method"] for r in res["clean"]], [r["eps"] for r in res["attack"]]
    (['Gradient'], [0.1])
    """
    mlp, _, X_te, y_te, acc = load_digits_problem(random_state=random_state)
    ok = mlp.predict(X_te) == y_te
    P, labels = X_te[ok][:n_points], y_te[ok][:n_points]
    all_methods = relex_methods(mlp, random_state=random_state, n_noise=n_noise, n_iter=n_iter)
    names = list(all_methods) if methods is None else list(methods)
    unknown = set(names) - set(all_methods)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}; choose from {list(all_methods)}.")
    clean = collect_rows(_task, [("clean", k, all_methods[k], mlp, P, labels, None)
                                 for k in names], n_jobs, verbose, "RelEx clean", None)
    masks = {k: M for k, (_, M) in zip(names, clean)}
    clean_rows = [row for row, _ in clean]
    if progress is not None:
        for row in clean_rows:
            progress(row)
    X_adv = {e: pgd_attack(mlp, P, labels, e, n_iter=pgd_iter, clip=(0.0, 1.0),
                           random_state=random_state) for e in eps}
    tasks = [("attack", k, all_methods[k], mlp, P, labels, (e, X_adv[e], masks[k]))
             for e in eps for k in names]
    attack_rows = collect_rows(_task, tasks, n_jobs, verbose, "RelEx attacks", progress)
    return {"accuracy": acc, "clean": clean_rows, "attack": attack_rows, "X": P,
            "y": labels, "masks": masks, "X_adv": X_adv}


RELEX_CLEAN_COLUMNS = [
    ("method", "method", "{}"), ("retrieval", "retrieval (clean)", "{:.3f}"),
    ("deletion", "deletion D (lower better)", "{:.3f}"),
    ("preservation", "preservation P (higher better)", "{:.3f}"), ("R", "R", "{:.3f}"),
    ("wrong_class", "wrong class made", "{:.3f}"), ("mask_l1", "||m||_1", "{:.2f}"),
]
RELEX_ATTACK_COLUMNS = [
    ("eps", "eps", "{:g}"), ("method", "method", "{}"),
    ("model_accuracy", "model acc. on x_adv", "{:.3f}"),
    ("retrieval_predicted", "m_adv (predicted class)", "{:.3f}"),
    ("retrieval_clean_target", "m_adv (clean class given)", "{:.3f}"),
    ("retrieval_clean_mask", "m_0 * x_adv", "{:.3f}"),
    ("mask_l1_ratio", "||m_adv||_1 / ||m_0||_1", "{:.2f}"),
]
