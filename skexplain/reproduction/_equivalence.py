"""SmoothGrad vs C-LIME (Agarwal et al.) and the robustness/faithfulness
trade-off of SmoothGrad (Tan & Tian), on data that ships with the package.

* :func:`run_equivalence`: the L1 gap between SmoothGrad and C-LIME and the
  robustness of each (max L1 distance to 10 neighbours' explanations) versus
  the number of perturbations, for several noise variances (their Figs. 2-4).
* :func:`run_tradeoff`: SmoothGrad's local Lipschitz estimate and marginal
  faithfulness over a log grid of noise levels, on the staircase function
  of Tan & Tian's section 5.2 and on an MLP (their Fig. 1c / 6).

The model is scikit-learn's ``MLPClassifier`` with two hidden layers of 10
units. The paper uses ELU; scikit-learn has no ELU, and ``tanh`` is used by
default: like ELU it is smooth and saturates at -1 for negative inputs
(``relu`` shares ELU's positive branch but has a kink). Pass
``activation="relu"`` to try the other neighbour.
"""

import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from ..datasets import StaircaseFunction, make_two_gaussians
from ..explainers import CLIME, SmoothGrad
from ..metrics import local_lipschitz_estimate, marginal_faithfulness, neighborhood_robustness
from ..models import FunctionModel
from ._table import collect_rows, format_table

__all__ = [
    "format_table",
    "load_equivalence_problem",
    "run_equivalence",
    "run_tradeoff",
]

DATASETS = ("two_gaussians", "breast_cancer")
N_PERTURBATIONS = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def load_equivalence_problem(dataset, *, activation="tanh", random_state=0):
    """Train the paper's MLP on a data set; return ``(mlp, X_train, X_test, accuracy)``.

    ``"two_gaussians"``: 1000 simulated points (:func:`make_two_gaussians`);
    ``"breast_cancer"``: scikit-learn's bundled data, standardised with the
    training split's statistics. 80/20 split, Adam, cross-entropy.

    Parameters
    ----------
    dataset : {"two_gaussians", "breast_cancer"}
        The data set.
    activation : str, default="tanh"
        The MLP's activation (a smooth one, so that gradients exist).
    random_state : int, default=0
        Seeds the data, the split and the MLP.

    Returns
    -------
    mlp : MLPClassifier
        Two hidden layers of 10 units, trained.
    X_train, X_test : ndarray
        The split (standardised for breast cancer).
    accuracy : float
        Test accuracy.

    Examples
    --------
    >>> from skexplain.reproduction import load_equivalence_problem
    >>> mlp, X_tr, X_te, acc = load_equivalence_problem("two_gaussians")
    >>> X_tr.shape, X_te.shape, acc > 0.85
    ((800, 2), (200, 2), True)
    """
    if dataset == "two_gaussians":
        X, y = make_two_gaussians(1000, random_state=random_state)
    elif dataset == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
    else:
        raise ValueError(f"dataset must be one of {DATASETS}; got {dataset!r}.")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=random_state,
                                              stratify=y)
    if dataset == "breast_cancer":
        scaler = StandardScaler().fit(X_tr)
        X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    mlp = MLPClassifier(hidden_layer_sizes=(10, 10), activation=activation, solver="adam",
                        max_iter=2000, random_state=random_state)
    mlp.fit(X_tr, y_tr)     # converges well before max_iter (tol-based stop)
    return mlp, X_tr, X_te, float(mlp.score(X_te, y_te))


def run_equivalence(datasets=DATASETS, sigma2s=(0.01, 0.1, 1.0), n_perturbations=N_PERTURBATIONS,
                    *, n_neighbors=10, neighbor_variance=0.01, max_points=None,
                    activation="tanh", random_state=0, n_jobs=None, verbose=0,
                    progress=None):
    """L1 gap between SmoothGrad and C-LIME, and their robustness, versus n.

    For each data set, noise variance ``sigma^2`` and number of
    perturbations ``n``, explains the positive-class probability of the MLP
    at every test point (at most ``max_points``) with SmoothGrad and C-LIME
    (independent perturbations per point, seeded), and reports

    * ``l1_gap``: mean over points of ``||SG(x) - C-LIME(x)||_1``;
    * ``robustness_sg`` / ``robustness_clime``: mean over points of the max
      L1 distance between the explanation of ``x`` and of ``n_neighbors``
      points ``x' ~ N(x, neighbor_variance I)`` (:func:`neighborhood_robustness`).

    C-LIME cannot fit ``d`` slopes and an intercept from ``n <= d``
    perturbations: its columns are NaN there (breast cancer: d = 30).

    Parameters
    ----------
    datasets : sequence of str, default=("two_gaussians", "breast_cancer")
        Data sets of :func:`load_equivalence_problem`.
    sigma2s : sequence of float, default=(0.01, 0.1, 1.0)
        Noise variances.
    n_perturbations : sequence of int, default=N_PERTURBATIONS
        Numbers of perturbations ``n``.
    n_neighbors : int, default=10
        Neighbours of the robustness measure.
    neighbor_variance : float, default=0.01
        Their variance.
    max_points : int, optional
        Explain at most this many test points.
    activation : str, default="tanh"
        The MLP's activation.
    random_state : int, default=0
        Seeds the data, the MLP and the perturbations.
    n_jobs : int or None, default=None
        Joblib workers, one row per task; the rows do not depend on it
        (timings aside).
    verbose : int, default=0
        ``> 0``: a tqdm progress bar over the rows (extra ``progress``).
    progress : callable, optional
        Called with each finished row, in order (e.g. to print it).

    Returns
    -------
    rows : list of dict
        Keys: dataset, accuracy, sigma2, n, l1_gap, robustness_sg,
        robustness_clime, seconds.

    Examples
    --------
    The gap between SmoothGrad and C-LIME shrinks as the perturbations grow:

    >>> from skexplain.reproduction import run_equivalence
    >>> rows = run_equivalence(datasets=("two_gaussians",), sigma2s=(1.0,),
    ...                        n_perturbations=(10, 1000), max_points=20)
    >>> rows[1]["l1_gap"] < rows[0]["l1_gap"]
    True
    """
    tasks = []
    for dataset in datasets:
        mlp, _, X_te, acc = load_equivalence_problem(dataset, activation=activation,
                                                     random_state=random_state)
        X = X_te if max_points is None else X_te[:max_points]
        tasks += [(dataset, acc, mlp, X, sigma2, n, n_neighbors, neighbor_variance, random_state)
                  for sigma2 in sigma2s for n in n_perturbations]
    return collect_rows(_equivalence_row, tasks, n_jobs, verbose, "equivalence", progress)


def _equivalence_row(dataset, acc, mlp, X, sigma2, n, n_neighbors, neighbor_variance,
                     random_state):
    """Worker: one (data set, sigma^2, n) row of :func:`run_equivalence`."""
    t0 = time.perf_counter()
    sigma = float(np.sqrt(sigma2))
    kw = dict(n_neighbors=n_neighbors, variance=neighbor_variance, random_state=random_state)
    sg = SmoothGrad(mlp, sigma=sigma, n_samples=n, random_state=random_state).fit(X)
    row = dict(dataset=dataset, accuracy=acc, sigma2=sigma2, n=n, l1_gap=np.nan,
               robustness_sg=neighborhood_robustness(sg, X, **kw), robustness_clime=np.nan)
    if n > X.shape[1]:  # C-LIME needs more perturbations than features
        cl = CLIME(mlp, sigma=sigma, n_samples=n, random_state=random_state).fit(X)
        row["l1_gap"] = float(np.abs(sg.transform(X) - cl.transform(X)).sum(axis=1).mean())
        row["robustness_clime"] = neighborhood_robustness(cl, X, **kw)
    row["seconds"] = time.perf_counter() - t0
    return row


def _inverse(dist):
    with np.errstate(divide="ignore"):  # phi == p exactly: infinitely faithful
        return 1.0 / dist


def run_tradeoff(sigmas=None, *, delta=1.0, n_samples=1000, lipschitz_radius=None,
                 lipschitz_samples=20, dataset="breast_cancer", max_points=50,
                 activation="tanh", random_state=0, n_jobs=None, verbose=0,
                 progress=None):
    """Measure SmoothGrad's robustness and faithfulness over a grid of noise levels.

    Two settings: the staircase function at the paper's point
    ``(delta, -1.5 delta)``, and the MLP of :func:`load_equivalence_problem`
    on its test points. For each ``sigma``: the SmoothGrad attribution
    (shared perturbations across points, so that the local Lipschitz
    estimate measures the smoothed explanation rather than Monte-Carlo
    noise; Tan & Tian fix the seed per image for the same reason), the
    local Lipschitz estimate (:func:`local_lipschitz_estimate`,
    ``lipschitz_samples`` Gaussian neighbours of scale ``lipschitz_radius``,
    default ``delta / 2`` and 0.1) and the marginal faithfulness with
    reference 0 (:func:`marginal_faithfulness`): the mean of
    ``1 / ||phi - p||`` (the paper's F, dominated by the points where the
    distance is smallest) and the mean distance itself.

    Parameters
    ----------
    sigmas : array-like, optional
        Noise levels; default 13 values log-spaced from 0.01 to 10.
    delta : float, default=1.0
        The staircase's step.
    n_samples : int, default=1000
        SmoothGrad's perturbations.
    lipschitz_radius : float, optional
        Scale of the Lipschitz estimate's neighbours (default ``delta / 2``
        and 0.1).
    lipschitz_samples : int, default=20
        Its neighbours per point.
    dataset : str, default="breast_cancer"
        The MLP's data set (:func:`load_equivalence_problem`).
    max_points : int, default=50
        Test points of the MLP setting.
    activation : str, default="tanh"
        The MLP's activation.
    random_state : int, default=0
        Seeds the MLP, the noise and the neighbours.
    n_jobs : int or None, default=None
        Joblib workers, one row per task; the rows do not depend on it
        (timings aside).
    verbose : int, default=0
        ``> 0``: a tqdm progress bar over the rows (extra ``progress``).
    progress : callable, optional
        Called with each finished row, in order (e.g. to print it).

    Returns
    -------
    rows : list of dict
        Keys: setting, sigma, attribution (staircase only), local_lipschitz,
        faithfulness, distance.

    Examples
    --------
    More noise, smoother attributions: the local Lipschitz estimate falls.

    >>> from skexplain.reproduction import run_tradeoff
    >>> rows = run_tradeoff(sigmas=[0.1, 3.0], max_points=3, n_samples=200,
    ...                     lipschitz_samples=5)
    >>> stair = [r for r in rows if r["setting"] == "staircase"]
    >>> stair[1]["local_lipschitz"] < stair[0]["local_lipschitz"]
    True
    """
    sigmas = np.logspace(-2, 1, 13) if sigmas is None else np.asarray(sigmas, dtype=float)
    stair = StaircaseFunction(delta)
    model = FunctionModel(predict=stair, gradient=stair.gradient)
    x = stair.point()
    mlp, _, X_te, _ = load_equivalence_problem(dataset, activation=activation,
                                               random_state=random_state)
    X = X_te[:max_points]
    settings = [("staircase", model, x, 0.5 * delta if lipschitz_radius is None
                 else lipschitz_radius),
                (dataset, mlp, X, 0.1 if lipschitz_radius is None else lipschitz_radius)]
    tasks = [(name, m, P, radius, float(sig), n_samples, lipschitz_samples, random_state)
             for name, m, P, radius in settings for sig in sigmas]
    return collect_rows(_tradeoff_row, tasks, n_jobs, verbose, "trade-off", progress)


def _tradeoff_row(name, model, P, radius, sigma, n_samples, lipschitz_samples, random_state):
    """Worker: one (setting, sigma) row of :func:`run_tradeoff`."""
    sg = SmoothGrad(model, sigma=sigma, n_samples=n_samples, shared_noise=True,
                    random_state=random_state).fit(P)
    E = sg.transform(P)
    dist = marginal_faithfulness(model, P, E, similarity="distance", per_point=True)
    return dict(setting=name, sigma=sigma,
                attribution=E[0].round(4).tolist() if name == "staircase" else None,
                local_lipschitz=local_lipschitz_estimate(
                    sg, P, n_samples=lipschitz_samples, sigma=radius,
                    random_state=random_state),
                faithfulness=float(np.mean(_inverse(dist))), distance=float(dist.mean()))


EQUIVALENCE_COLUMNS = [
    ("dataset", "data", "{}"), ("sigma2", "sigma^2", "{:g}"), ("n", "n", "{}"),
    ("accuracy", "test acc.", "{:.3f}"), ("l1_gap", "L1(SG, C-LIME)", "{:.4f}"), ("robustness_sg", "robust. SG", "{:.4f}"),
    ("robustness_clime", "robust. C-LIME", "{:.4f}"),
]
TRADEOFF_COLUMNS = [
    ("setting", "setting", "{}"), ("sigma", "sigma", "{:.3g}"),
    ("local_lipschitz", "local Lipschitz", "{:.4f}"),
    ("faithfulness", "faithfulness 1/||phi-p||", "{:.4f}"),
    ("distance", "||phi-p||", "{:.4f}"), ("attribution", "phi(x) (staircase)", "{}"),
]
