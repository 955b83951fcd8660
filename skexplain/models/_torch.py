"""torch modules as models (optional ``torch`` extra, imported lazily)."""

import numpy as np

from ..utils._optional import import_optional
from ._base import FD_STEP, ModelAdapter

__all__ = ["TorchModel", "is_torch_module"]


def is_torch_module(obj):
    """True if ``obj`` is a ``torch.nn.Module`` (without importing torch)."""
    return any(
        cls.__module__.startswith("torch.nn") and cls.__name__ == "Module"
        for cls in type(obj).__mro__
    )


class TorchModel(ModelAdapter):
    """A ``torch.nn.Module`` mapping ``(n, d)`` inputs to ``(n,)`` or ``(n, k)``.

    Gradients come from autograd (exact). Inputs are converted to the
    module's parameter dtype (float32 by default) and outputs back to float64
    numpy arrays; the module is switched to ``eval()`` mode by the caller's
    choice, not here.

    Parameters
    ----------
    module : torch.nn.Module
        The model (extra ``torch``).
    apply_softmax : bool, default=False
        Explain the softmax probabilities of a module that returns logits.
    device : str, default="cpu"
        Where the module runs.
    fd_step : float, default=FD_STEP
        Unused (the gradients are exact); kept for the common signature.

    Examples
    --------
    >>> import numpy as np
    >>> torch = __import__("pytest").importorskip("torch")
    >>> from skexplain.models import TorchModel
    >>> net = torch.nn.Linear(2, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[2.0, -1.0]]))
    >>> TorchModel(net).gradient(np.ones((1, 2)), 0)
    array([[ 2., -1.]])
    """

    exact_gradient = True

    def __init__(self, module, *, apply_softmax=False, device="cpu", fd_step=FD_STEP):
        super().__init__(fd_step=fd_step)
        self.torch = import_optional("torch", "torch")
        self.module = module
        self.apply_softmax = apply_softmax
        self.device = device
        params = list(module.parameters())
        self.dtype = params[0].dtype if params else self.torch.float32

    def _forward(self, Xt):
        out = self.module(Xt)
        if out.ndim == 1:
            out = out[:, None]
        if self.apply_softmax:
            out = self.torch.softmax(out, dim=1)
        return out

    def _outputs(self, X):
        torch = self.torch
        with torch.no_grad():
            Xt = torch.as_tensor(X, dtype=self.dtype, device=self.device)
            return self._forward(Xt).detach().cpu().numpy().astype(np.float64)

    def _gradient(self, X, columns):
        torch = self.torch
        Xt = torch.as_tensor(X, dtype=self.dtype, device=self.device).requires_grad_(True)
        out = self._forward(Xt)
        idx = torch.as_tensor(columns, dtype=torch.long, device=out.device)
        sel = out.gather(1, idx[:, None]).sum()
        (grad,) = torch.autograd.grad(sel, Xt)
        return grad.detach().cpu().numpy().astype(np.float64)
