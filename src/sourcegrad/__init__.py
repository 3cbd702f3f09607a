"""sourcegrad: source-to-source automatic differentiation for NumPy.

Read the function's source, write its derivative as plain NumPy code, import
it like any module.  See README.md and DESIGN.md.
"""

__version__ = "0.1.0"

from .api import differentiate, grad, jvp, source, value_and_grad, vjp  # noqa: E402
from .jacobians import hessian, hvp, jacobian  # noqa: E402
from .errors import SourceGradError  # noqa: E402
from .runtime import stop_gradient  # noqa: E402
from .testing import check_grads  # noqa: E402

__all__ = [
    "SourceGradError", "check_grads", "differentiate", "grad", "hessian", "hvp",
    "jacobian", "jvp", "source", "stop_gradient", "value_and_grad", "vjp",
]
