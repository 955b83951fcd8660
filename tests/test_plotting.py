"""Display classes: rendered with Agg, checked by what they drew."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skexplain import OptimizedExplainer, explanation_path  # noqa: E402
from skexplain.explainers import Explanation, KernelSHAP  # noqa: E402
from skexplain.metrics import agreement_rate  # noqa: E402
from skexplain.models import FunctionModel  # noqa: E402
from skexplain.plotting import (  # noqa: E402
    AgreementDisplay,
    AttributionBarDisplay,
    BeeswarmDisplay,
    ComparisonDisplay,
    FrontDisplay,
    WaterfallDisplay,
)
from skexplain.plotting._beeswarm import swarm_offsets  # noqa: E402

RNG = np.random.default_rng(0)
V = RNG.normal(size=(30, 5)) * np.array([3.0, 0.1, 1.0, 2.0, 0.5])
DATA = RNG.uniform(-1, 1, size=(30, 5))
NAMES = ["a", "b", "c", "d", "e"]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_bar_heights_are_sorted_mean_abs_with_the_rest_summed():
    e = Explanation(V, data=DATA, feature_names=NAMES, method="M")
    disp = AttributionBarDisplay.from_explanation(e, max_display=3)
    imp = np.abs(V).mean(axis=0)
    order = np.argsort(-imp)
    widths = [b.get_width() for b in disp.bars_[0]]
    np.testing.assert_allclose(widths, [imp[order[0]], imp[order[1]], imp[order[2:]].sum()])
    labels = [t.get_text() for t in disp.ax_.get_yticklabels()]
    # the largest bar is drawn at the top (highest y)
    ys = [b.get_y() for b in disp.bars_[0]]
    assert ys[0] > ys[1] > ys[2]
    assert labels == [NAMES[order[0]], NAMES[order[1]], "sum of 3 other features"]
    assert disp.order_.tolist() == [order[0], order[1], -1]
    assert disp.ax_.get_xlabel() == "mean |M attribution|"


def test_bar_stacks_outputs():
    V3 = np.stack([V, 2 * V], axis=-1)
    e = Explanation(V3, feature_names=NAMES, output_names=["p", "q"])
    disp = AttributionBarDisplay.from_explanation(e)
    first = np.array([b.get_width() for b in disp.bars_[0]])
    lefts = np.array([b.get_x() for b in disp.bars_[1]])
    np.testing.assert_allclose(lefts, first)
    np.testing.assert_allclose([b.get_width() for b in disp.bars_[1]], 2 * first)
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()] == ["p", "q"]


def test_beeswarm_dots_are_the_attributions_coloured_by_value():
    e = Explanation(V, data=DATA, feature_names=NAMES)
    disp = BeeswarmDisplay.from_explanation(e, max_display=4)
    order = np.argsort(-np.abs(V).mean(axis=0))[:4]
    assert disp.order_.tolist() == order.tolist()
    for sc, j in zip(disp.scatters_, order):
        np.testing.assert_array_equal(sc.get_offsets()[:, 0], V[:, j])
        lo, hi = np.percentile(DATA[:, j], [5, 95])
        np.testing.assert_allclose(sc.get_array(), np.clip((DATA[:, j] - lo) / (hi - lo), 0, 1))
    # bands: feature at position p sits around y = n - 1 - p, within +-0.4
    for p, sc in enumerate(disp.scatters_):
        y = sc.get_offsets()[:, 1]
        assert np.all(np.abs(y - (3 - p)) <= 0.4 + 1e-12)
    assert disp.colorbar_.ax.get_ylabel() == "feature value"


def test_swarm_offsets_separate_dots_in_one_bin():
    x = np.array([0.0, 0.001, 0.002, 5.0, 10.0])
    off = swarm_offsets(x, n_bins=10, width=0.4)
    assert len(set(off[:3].round(12))) == 3            # three close dots: three heights
    assert off[3] == 0 and off[4] == 0                 # alone in their bins
    assert np.abs(off).max() == pytest.approx(0.4)


def test_waterfall_steps_from_base_to_output():
    f = FunctionModel(predict=lambda X: X[:, 0] * X[:, 1] + 3 * X[:, 2] - X[:, 3])
    X = np.array([[1.0, 2.0, 1.0, 0.5], [0.0, 1.0, -1.0, 2.0]])
    shap = KernelSHAP(f, background=np.zeros((1, 4))).fit(X)
    e = shap.explain(X)
    disp = WaterfallDisplay.from_explanation(e, index=0, max_display=3)
    phi = e.values[0]                                   # [1, 1, 3, -0.5]
    assert disp.start_ == pytest.approx(0.0)
    assert disp.end_ == pytest.approx(f.predict(X[:1], 0)[0])
    widths = [b.get_width() for b in disp.bars_]
    np.testing.assert_allclose(widths, [3.0, 1.0, 0.5])  # 3, then 1, then 1 + (-0.5)
    assert disp.labels_ == ["x2 = 1", "x0 = 1", "2 other features"]
    # contiguous steps: each bar starts where the one below it ends
    lefts = np.array([b.get_x() for b in disp.bars_])
    np.testing.assert_allclose(lefts[:-1], lefts[1:] + np.array(widths[1:]))
    np.testing.assert_allclose(lefts[-1], 0.0)
    assert np.isclose(np.sum(phi), disp.end_ - disp.start_)


def test_comparison_arrows_and_heatmaps_draw_both_fields():
    X = RNG.uniform(-2, 2, size=(40, 2))
    g = lambda X: np.c_[np.cos(2 * X[:, 0]), X[:, 1]]                  # noqa: E731
    opt = OptimizedExplainer(eta_frac=0.2, n_neighbors=5).fit(X, g)
    disp = ComparisonDisplay.from_estimator(opt, X)
    assert disp.kind_ == "arrows"
    q0, q1 = disp.artists_
    np.testing.assert_array_equal(np.c_[q0.U, q0.V], g(X))
    np.testing.assert_array_equal(np.c_[q1.U, q1.V], opt.explanations_)
    assert q0.scale == q1.scale                        # one arrow scale
    np.testing.assert_array_equal(q0.get_offsets(), X)
    assert [a.get_title() for a in disp.axes_] == ["gradient", "optimised"]
    heat = ComparisonDisplay.from_estimator(opt, X, kind="heatmap", max_rows=7)
    a0, a1 = heat.artists_
    np.testing.assert_array_equal(a0.get_array(), g(X)[:7])
    np.testing.assert_array_equal(a1.get_array(), opt.explanations_[:7])
    assert a0.norm.vmin == -a0.norm.vmax == a1.norm.vmin
    assert heat.colorbar_.ax.get_ylabel() == "attribution"
    with pytest.raises(ValueError, match="needs the base explanations"):
        ComparisonDisplay.from_explanation(Explanation(g(X)))


def test_front_labels_the_loss_and_spaces_eta_labels():
    X = RNG.uniform(-2, 2, size=(40, 2))
    g = lambda X: np.c_[np.cos(2 * X[:, 0]), X[:, 1]]                  # noqa: E731
    path = explanation_path(X, g, None, n_neighbors=5, robustness="local_stability")
    disp = FrontDisplay.from_path(path)
    np.testing.assert_array_equal(disp.line_.get_xdata(), path.faithfulness_loss)
    np.testing.assert_array_equal(disp.line_.get_ydata(), path.robustness_loss)
    assert disp.ax_.get_ylabel() == "local stability (robustness loss)"
    assert "faithfulness loss" in disp.ax_.get_xlabel()
    # labels at least 7 % of the axes apart (in the data's own span)
    pts = np.array([a.xy for a in disp.annotations_])
    span = np.ptp(np.c_[path.faithfulness_loss, path.robustness_loss], axis=0)
    u = pts / span
    dist = np.hypot(*(u[:, None, :] - u[None, :, :]).transpose(2, 0, 1))
    assert np.all(dist[np.triu_indices(len(u), 1)] >= 0.07 - 1e-12)
    assert disp.annotations_[0].get_text() == "η = 0" and 3 <= len(pts) < 20
    opt = OptimizedExplainer("local_stability", eta_frac=0.3, n_neighbors=5)
    chosen = FrontDisplay.from_estimator(opt, X, g, eta_fracs=[0.0, 0.1, 1.0]).chosen_
    fitted = opt.fit(X, g)
    from skexplain.losses import get_loss
    from skexplain.neighbors import knn_neighbor_graph

    graph = knn_neighbor_graph(X, 5)
    r = get_loss("local_stability").value(graph, fitted.explanations_)
    np.testing.assert_allclose(chosen.get_offsets()[0], [fitted.faithfulness_loss_, r],
                               rtol=1e-4)


def test_agreement_heatmap_cells_and_missing_values():
    A = RNG.normal(size=(20, 4))
    B = A + RNG.normal(scale=0.5, size=A.shape)
    C = -A[:, ::-1]
    disp = AgreementDisplay.from_explanations({"A": A, "B": B, "C": C}, top_k=2)
    assert disp.rates[0, 1] == agreement_rate([A, B], top_k=2).rate
    assert disp.rates[1, 2] == agreement_rate([B, C], top_k=2).rate
    assert disp.texts_[0, 2].get_text() == f"{agreement_rate([A, C], top_k=2).rate:.2f}"
    np.testing.assert_array_equal(disp.image_.get_array(), disp.rates)
    # every point tied: no untied rate, the cell says so
    T = np.ones((5, 3))
    nan = AgreementDisplay.from_explanations({"t": T, "u": T}, kind="untied")
    assert np.isnan(nan.rates[0, 1]) and nan.texts_[0, 1].get_text() == "n/a"
    assert "no untied point" in nan.ax_.get_xlabel()


def test_multi_output_needs_an_output_and_bad_input_is_named():
    e = Explanation(np.stack([V, V], -1), data=DATA, output_names=["p", "q"])
    with pytest.raises(ValueError, match="pass output="):
        BeeswarmDisplay.from_explanation(e)
    disp = BeeswarmDisplay.from_explanation(e, output="q")
    np.testing.assert_array_equal(disp.scatters_[0].get_offsets()[:, 0], V[:, disp.order_[0]])
    with pytest.raises(TypeError, match="needs an Explanation"):
        WaterfallDisplay.from_explanation(V)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        AttributionBarDisplay.from_explanation(e, ax="left")
    with pytest.raises(ValueError, match="max_display"):
        AttributionBarDisplay.from_explanation(e, max_display=0)
    with pytest.raises(ValueError, match="has no data"):
        BeeswarmDisplay.from_explanation(Explanation(V))


def test_matplotlib_is_optional_and_not_imported_eagerly(monkeypatch):
    code = ("import sys, skexplain, skexplain.plotting, skexplain.explainers; "
            "print(sorted(m for m in ('matplotlib', 'cvxpy', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"skexplain\[plot\]"):
        AttributionBarDisplay.from_explanation(Explanation(V))


def test_comparison_draws_on_given_axes():
    fig, axes = plt.subplots(2, 2)
    E = Explanation(V, data=DATA, reference_values=2 * V)
    disp = ComparisonDisplay.from_explanation(E, kind="heatmap", axes=axes[1], max_rows=5)
    assert disp.figure_ is fig and list(disp.axes_) == list(axes[1])
    np.testing.assert_array_equal(axes[1][0].images[0].get_array(), 2 * V[:5])
    with pytest.raises(TypeError, match="two matplotlib Axes"):
        ComparisonDisplay.from_explanation(E, axes=axes[0][:1])
