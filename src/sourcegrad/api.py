"""The public interface: ``grad``, ``value_and_grad``, ``vjp``, ``source`` ...

Each entry point compiles the derivative once per function and ``wrt`` (on
first use), then calls the generated code directly.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import types
import weakref

import numpy as np

from .errors import NonScalarOutputError, SourceGradError, SourceNotFoundError
from .load import load
from .runtime import Unspecialized, densify
from .signature import Signature

_compiled = weakref.WeakKeyDictionary()
_MISSING = object()
_ndarray = np.ndarray


class Derivative:
    """A loaded generated function and what the API needs to call it."""

    def __init__(self, func, loaded, compile, options=()):
        self.func, self.loaded, self._compile = func, loaded, compile
        self.options = options  # (mode, wrt, split[, signature's parameters])
        found, module = loaded.manifest, loaded.module
        for name, (defaults, kwdefaults) in loaded.restored.defaults.items():
            generated = getattr(module, name)
            generated.__defaults__, generated.__kwdefaults__ = tuple(defaults) or None, kwdefaults
        self.text, self.globals = loaded.text, module.__dict__
        self.wrt, self.tangents = tuple(found["wrt"]), tuple(found.get("tangents", ()))
        params = func.__code__.co_varnames[: func.__code__.co_argcount]
        self.positions = (tuple(params.index(n) for n in self.wrt)
                          if all(n in params for n in self.wrt) else None)
        self.last_position = max(self.positions or (-1,))
        self.first = self.positions[0] if self.positions else len(params)  # (none: past all)
        self.watches = loaded.restored.watches
        self.fast = self._fast()
        if isinstance(found["function"], (tuple, list)):
            self.primal, self.adjoint = (getattr(module, n) for n in found["function"])
            return
        self.function = getattr(module, found["function"])
        self.value = found.get("value", True)  # False: grad's function, the gradient alone
        self.new = found.get("new", False)  # it returns a new array (specialize.new_array)
        self.seed = self.function.__code__.co_varnames[self.function.__code__.co_argcount - 1]

    @property
    def compiled(self):
        """The compiler's record (compiled now if this module came from a file)."""
        if self.loaded.compiled is None:
            self.loaded.compiled = self._compile()
        return self.loaded.compiled

    def current(self) -> bool:
        """Whether the code still matches the namespaces it was generated in.  A
        value that was rebound (a global array, a closure's constant, in the
        function or a helper it calls) is rebound in the generated module too;
        a name the compiler resolved to a function or a module that now means
        something else makes the code stale."""
        if self.fast is not None:  # every watched name a plain global: one lookup each
            for space, name, old, default in self.fast:
                if space.get(name, default) is not old:
                    break
            else:
                return True
        module = self.globals
        for k, (namespace, name, old, bound) in enumerate(self.watches):
            try:
                new = namespace.current(name)
            except KeyError:
                return False
            if new is old:
                continue
            if not bound or _code_like(old) or _code_like(new):
                return False
            for generated in bound:
                module[generated] = new
            self.watches[k] = (namespace, name, new, bound)
        self.fast = self._fast()
        return True

    def _fast(self):
        """``(globals, name, value, default)`` of each watched name, if every one
        is a plain global of its namespace or a builtin it does not shadow (no
        closure cell, lifted function or alias); ``default`` is what a lookup
        of a missing name stands for: the builtin, or a miss."""
        out = []
        for space, name, old, _ in self.watches:
            if name in space.cells or name in space.extra or name in space.aliases:
                return None
            if name in space.globals:
                out.append((space.globals, name, old, _MISSING))
            elif getattr(builtins, name, _MISSING) is old:
                out.append((space.globals, name, old, old))
            else:
                return None
        return out

    def nonscalar(self, value) -> NonScalarOutputError:
        where = self.compiled.source.where
        what = (f"a {type(value).__name__} of {len(value)} values"
                if isinstance(value, (tuple, list)) else f"an array of shape {np.shape(value)}")
        message = (f"grad needs a scalar output, but the output of {where.function} is not a "
                   f"scalar: it is {what}")
        hint = ("Use sourcegrad.vjp(f, *args) for the vector-Jacobian product, or reduce "
                "the output to a scalar (e.g. with .sum()).")
        return NonScalarOutputError(where.format(self.compiled.output_node, message, hint))


def _key(wrt):
    return tuple(wrt) if isinstance(wrt, (list, tuple)) else wrt


def derivative(func, wrt=0, mode="reverse", split=False, signature=None) -> Derivative:
    """The compiled derivative of ``func`` (compiled on first request); with
    ``split``, its primal and adjoint parts; with a ``signature``
    (``signature.Signature``; modes "gradient" and "reverse"), specialized
    to it."""
    if mode not in ("reverse", "forward", "batched", "gradient"):  # see variant
        raise SourceGradError(f"mode must be 'reverse', 'gradient', 'forward' or 'batched', "
                              f"not {mode!r}")
    if isinstance(func, Differentiable):
        func = func.__wrapped__
    if not isinstance(func, types.FunctionType):
        raise _not_a_function(func)
    table = _compiled.setdefault(func, {})
    key = (mode, _key(wrt), split) + ((signature.params,) if signature is not None else ())
    found = table.get(key)
    if found is None or not found.current():
        found = table[key] = _derivative(func, key)
    return found


def variant(func, options: tuple):
    """The generated module's name stem for ``options`` (mode, wrt, split, and
    for "gradient" and "reverse" perhaps the parameters of a signature), and
    a function that compiles it.  Modes: "reverse" (the value and the gradient, for any
    seed), "gradient" (``grad``'s: the seed 1.0 folded in, the value left out
    where the output is provably a scalar), "forward", "batched" (see
    ``batched_jacobian``)."""
    mode, wrt, split = options[:3]
    name = "lambda" if func.__name__ == "<lambda>" else func.__name__

    def compile():
        from . import pipeline  # the compiler is imported when something is compiled

        if mode in ("forward", "batched"):
            return pipeline.compile_forward(func, wrt, batched=mode == "batched")
        signature = Signature(options[3]) if len(options) > 3 else None
        return pipeline.compile_reverse(func, wrt, split, value=mode != "gradient",
                                        signature=signature)

    stem = {"forward": "jvp_", "batched": "jvpb_", "gradient": "grad_"}.get(
        mode, "vjp_" if split else "value_and_grad_")
    return stem + name, compile


def _derivative(func, options) -> Derivative:
    stem, compile = variant(func, options)
    return Derivative(func, load(func, options, stem, compile), compile, options)


def _code_like(value) -> bool:
    """Whether generated code may depend on what ``value`` is, not just on its value."""
    return callable(value) or isinstance(value, types.ModuleType)


def _not_a_function(func) -> SourceNotFoundError:
    if isinstance(func, types.MethodType):
        return SourceNotFoundError(
            f"{func.__qualname__} is a bound method: sourcegrad differentiates functions. "
            "Write a function that takes the arrays it needs as arguments."
        )
    return SourceNotFoundError(
        f"{func!r} is not a Python function: sourcegrad differentiates functions defined "
        "with def or lambda, whose source it reads"
    )


def _match(g, x):
    """``g`` with the type, shape and dtype kind of the primal ``x``."""
    if isinstance(x, np.ndarray):
        if (type(g) is not np.ndarray or g.dtype != x.dtype or not g.flags.writeable
                or g.shape != x.shape):  # (a shape no broadcast gives raises)
            dtype = x.dtype if x.dtype.kind in "fc" else np.float64
            g = np.array(np.broadcast_to(g, x.shape), dtype=dtype)
        return g
    if isinstance(x, np.generic):  # before float: np.float64 is a float
        return x.dtype.type(g) if x.dtype.kind in "fc" else np.float64(g)
    if isinstance(x, float):
        return float(g)
    if isinstance(x, int):
        return float(g)
    if isinstance(x, (tuple, list, dict)):
        return _container(densify(g, x), x)
    return g


def _container(g, x):
    """A container's gradient, item by item like ``x``."""
    if isinstance(x, dict):
        return {k: _match(g[k], v) for k, v in x.items()}
    return type(x)(_match(a, b) for a, b in zip(g, x))


def _params(derivative, args, kwargs):
    sig = inspect.signature(derivative.func)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _run(derivative, args, kwargs, scalar=True, **seed):
    try:
        value, grads = derivative.function(*args, **kwargs, **seed)
    except Unspecialized:
        raise
    except Exception:
        if scalar:
            value = derivative.func(*args, **kwargs)
            if not _is_scalar(value):
                raise derivative.nonscalar(value) from None
        raise
    if scalar and not _is_scalar(value):
        raise derivative.nonscalar(value)
    return value, grads


def _is_scalar(value) -> bool:
    kind = type(value)
    if kind is float or kind is np.float64:
        return True
    return not isinstance(value, (tuple, list, dict)) and np.ndim(value) == 0


def _matched(derivative, args, kwargs, grads, single):
    """``grads`` matched to the type, shape and dtype of the ``wrt`` arguments."""
    primals = _primals(derivative, args, kwargs)
    if single:
        return _match(grads, primals[0])
    return tuple(_match(g, x) for g, x in zip(grads, primals))


def _primals(derivative, args, kwargs) -> list:
    """The values of the ``wrt`` arguments in this call."""
    positions = derivative.positions
    if not kwargs and positions is not None and len(args) > derivative.last_position:
        return [args[i] for i in positions]
    params = _params(derivative, args, kwargs)
    return [params[n] for n in derivative.wrt]


def value_and_grad(func, wrt=0):
    """``f(*args) -> (value, gradient)``; a tuple of gradients for a tuple ``wrt``."""
    single = not isinstance(wrt, (tuple, list))

    last = []  # the derivative of the last call: checked, not looked up again

    @functools.wraps(func)
    def value_and_grad_f(*args, **kwargs):
        if last and last[0].current():
            d = last[0]
        else:
            d = _specialized(func, wrt, args, "reverse")
            last[:] = [d]
        try:
            value, grads = _run(d, args, kwargs)
        except Unspecialized:
            d, (value, grads) = _respecialized(func, wrt, d, args, kwargs, "reverse")
            last[:] = [d]
        if not kwargs and _ready((grads,) if single else grads, args,
                                 (d.first,) if single else d.positions):
            return value, grads  # (the common case, checked as below)
        grads = _matched(d, args, kwargs, grads, single)
        if single:
            return value, _fresh(grads, args, kwargs)
        return value, _unaliased(grads, (*args, *kwargs.values()), None)

    return value_and_grad_f


def grad(func, wrt=0):
    """The gradient of the scalar function ``func`` with respect to ``wrt``.

    The first call compiles a version specialized to its arguments' ranks
    (see ``specialize``); arguments it does not fit get another version."""
    single = not isinstance(wrt, (tuple, list))
    d = None  # the derivative of the last call: checked, not looked up again

    @functools.wraps(func)
    def grad_f(*args, **kwargs):
        nonlocal d
        fresh = d is not None and d.fast is not None  # d.current(), inlined: per call
        if fresh:
            for space, name, old, default in d.fast:
                if space.get(name, default) is not old:
                    fresh = False
                    break
        if not fresh and (d is None or not d.current()):
            d = _specialized(func, wrt, args, "gradient")
        try:
            if d.value:
                grads = _run(d, args, kwargs)[1]
            else:
                grads = d.function(*args, **kwargs) if kwargs else d.function(*args)
        except Unspecialized:
            d, grads = _respecialized(func, wrt, d, args, kwargs, "gradient")
        if single and not kwargs and d.first < len(args):
            x = args[d.first]  # the common cases, checked as _matched and _fresh would:
            if d.new and type(grads) is _ndarray and type(x) is _ndarray and (
                    grads.dtype is x.dtype and grads.shape == x.shape):  # new by its making
                return grads
            if type(grads) is float and type(x) is float:  # a number's (a new object)
                return grads
            if _ready((grads,), args, (d.first,)):
                return grads
        elif not single and not kwargs and _ready(grads, args, d.positions):
            return grads
        grads = _matched(d, args, kwargs, grads, single)
        if single:
            return _fresh(grads, args, kwargs)
        return _unaliased(grads, (*args, *kwargs.values()), None)

    return grad_f


def _ready(grads, args, positions) -> bool:
    """Whether the tuple ``grads`` already is what ``_matched`` and
    ``_unaliased`` would return (the common case): each a new array (owning
    its memory) with the shape and dtype of its argument (at ``positions`` in
    ``args``), none of them an argument or another."""
    if positions is None or max(positions) >= len(args):
        return False
    for k, g in enumerate(grads):
        x = args[positions[k]]
        if not (type(g) is np.ndarray and g.base is None and type(x) is np.ndarray
                and g.shape == x.shape and g.dtype is x.dtype):
            return False
        for a in args:
            if a is g:
                return False
    return len({id(g) for g in grads}) == len(grads)


def _gradient(d, args, kwargs):
    """The gradient by ``grad``'s function ``d`` (checking the output is a
    scalar where that is not proven)."""
    if d.value:
        return _run(d, args, kwargs)[1]
    return d.function(*args, **kwargs)


def _specialized(func, wrt, args, mode) -> Derivative:
    """``grad``'s (mode "gradient") or ``value_and_grad``'s ("reverse")
    function for arguments like ``args``: specialized to their signature,
    unless ``func``'s general one was built ahead of time (a deployment
    compiles nothing)."""
    general = derivative(func, wrt, mode) if _built_ahead(func, wrt, mode) else None
    return general or derivative(func, wrt, mode, signature=Signature.of(args))


def _built_ahead(func, wrt, mode) -> bool:
    from .load import is_built

    target = func.__wrapped__ if isinstance(func, Differentiable) else func
    options = (mode, _key(wrt), False)
    return isinstance(target, types.FunctionType) and is_built(
        target, options, variant(target, options)[0])


def _respecialized(func, wrt, d, args, kwargs, mode):
    """The version of the function of ``mode`` for ``args``, which ``d`` does
    not fit, and what it returns: one specialized to their signature, else
    the general one."""
    run = _gradient if mode == "gradient" else _run
    signature = Signature.of(args)
    if (signature.params,) != d.options[3:]:
        other = derivative(func, wrt, mode, signature=signature)
        try:
            return other, run(other, args, kwargs)
        except Unspecialized:
            pass
    general = derivative(func, wrt, mode)
    return general, run(general, args, kwargs)


def vjp(func, *args, **kwargs):
    """``(y, pullback)``: ``pullback(cotangent)`` gives one gradient per positional
    parameter of ``func``.

    Arguments that hold integers or booleans as NumPy data (labels, indices,
    masks) are not differentiated: their gradient is zero, and no code runs
    for it.  Python numbers are differentiated like floats.
    """
    target = func.__wrapped__ if isinstance(func, Differentiable) else func
    code = target.__code__
    values = _params_of(target, args, kwargs)
    names = code.co_varnames[: code.co_argcount]
    wrt = tuple(i for i, name in enumerate(names) if _differentiable(values.get(name)))
    d = derivative(target, wrt, split=True)
    value, record = d.primal(*args, **kwargs)
    records = [record]

    def pullback(cotangent):
        # the adjoint consumes its record (the tape): a second call runs the primal again
        used = records.pop() if records else d.primal(*args, **kwargs)[1]
        grads = d.adjoint(used, cotangent)
        grads = dict(zip(wrt, _matched(d, args, kwargs, grads, single=False)))
        out = tuple(grads[i] if i in grads else _zero(values.get(name))
                    for i, name in enumerate(names))
        return _unaliased(out, args, cotangent)

    return value, pullback


def _params_of(func, args, kwargs) -> dict:
    """The arguments of a call of ``func``, by parameter name (defaults too)."""
    code = getattr(func, "__code__", None)
    flags = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS
    if code is not None and not kwargs and len(args) == code.co_argcount and not (
            code.co_kwonlyargcount or code.co_flags & flags):
        return dict(zip(code.co_varnames, args))  # positional: what bind would say
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _differentiable(x) -> bool:
    """Whether a gradient is computed for the argument ``x`` (see ``vjp``)."""
    if isinstance(x, bool):
        return False
    if isinstance(x, (int, float, complex, np.inexact)):
        return True
    if isinstance(x, dict):
        return any(_differentiable(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(_differentiable(v) for v in x)
    return isinstance(x, np.ndarray) and x.dtype.kind in "fc"


def _zero(x):
    """The gradient of an argument that is not differentiated."""
    if isinstance(x, (np.ndarray, np.generic, int, float)):
        return _match(0.0, x)
    return None


def _fresh(g, args, kwargs):
    """``g``, copied if it may share memory with an argument (``_unaliased``
    for one gradient; an array that owns its memory shares it only with its
    views)."""
    if type(g) is np.ndarray and g.base is None and not kwargs:
        for a in args:
            if a is g or type(a) is np.ndarray and a.base is g:
                break
        else:  # an array that owns its memory shares it only with its views
            return g
    return _unaliased((g,), (*args, *kwargs.values()), None)[0]


def _unaliased(grads, args, cotangent) -> tuple:
    """``grads`` with copies of any array that may share memory with an argument,
    the cotangent or another gradient: a caller may update a gradient in place."""
    parts = cotangent if isinstance(cotangent, (tuple, list)) else (cotangent,)
    others = [a for a in (*args, *parts) if isinstance(a, np.ndarray)]
    # Arrays that share an owner's memory are that owner and its views, whose
    # ``base`` NumPy makes the owner: comparing owners is exact and cheap.
    owners = [a if a.base is None else a.base for a in others]
    exact = all(type(r) is np.ndarray and r.base is None for r in owners)
    out = []
    for g in grads:
        if isinstance(g, np.ndarray):
            owner = g if g.base is None else g.base
            if exact and type(owner) is np.ndarray and owner.base is None:
                shared = any(r is owner for r in owners)
            else:
                shared = any(np.may_share_memory(g, o) for o in others)
            if shared:
                g = g.copy()
                owner = g
            others.append(g)
            owners.append(owner)
            exact = exact and type(owner) is np.ndarray and owner.base is None
        out.append(g)
    return tuple(out)


def source(func, mode="reverse", wrt=0, args=None) -> str:
    """The text of the generated derivative module; with ``args`` (modes
    "gradient" and "reverse"), of the function specialized to arguments like
    them, the one ``grad(func, wrt)(*args)`` (or ``value_and_grad``) runs."""
    if args is not None:
        if mode not in ("gradient", "reverse"):
            raise SourceGradError("source: args= goes with mode='gradient' or 'reverse' "
                                  "(grad's or value_and_grad's code for such arguments)")
        return derivative(func, wrt, mode, signature=Signature.of(args)).text
    return derivative(func, wrt, mode).text


def jvp(func, primals, tangents):
    """``(y, ty)``: the output at ``primals`` and its tangent along ``tangents``
    (one per positional parameter; ``None`` or an integer argument's tangent
    is ignored)."""
    target = func.__wrapped__ if isinstance(func, Differentiable) else func
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise SourceGradError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    wrt = tuple(i for i, (x, t) in enumerate(zip(primals, tangents))
                if t is not None and _differentiable(x))
    d = derivative(target, wrt, mode="forward")
    seeds = {name: tangents[i] for name, i in zip(d.tangents, wrt)}
    value, tangent = d.function(*primals, **seeds)
    return value, _match_tangent(tangent, value)


def _match_tangent(t, y):
    """A tangent with the type, shape and dtype kind of the output ``y``."""
    if isinstance(y, (tuple, list)):
        return type(y)(_match_tangent(a, b) for a, b in zip(t, y))
    if isinstance(y, dict):
        return {k: _match_tangent(t[k], v) for k, v in y.items()}
    return _match(t, y)


class Differentiable:
    """What ``@differentiate`` returns: the function, plus its derivatives.
    ``modes`` are those ``sourcegrad build`` generates ahead of time."""

    def __init__(self, func, wrt=0, modes=("reverse",)):
        functools.update_wrapper(self, func)
        self.__wrapped__ = func
        self.wrt = wrt
        self._grad = self._value_and_grad = None
        self.modes = (modes,) if isinstance(modes, str) else tuple(modes)
        for mode in self.modes:
            if mode not in ("reverse", "forward"):
                raise SourceGradError(f"differentiate: modes are 'reverse' and 'forward', "
                                      f"not {mode!r}")

    def __call__(self, *args, **kwargs):
        return self.__wrapped__(*args, **kwargs)

    def grad(self, *args, **kwargs):
        if self._grad is None:  # one, that keeps the version it last ran
            self._grad = grad(self.__wrapped__, self.wrt)
        return self._grad(*args, **kwargs)

    def value_and_grad(self, *args, **kwargs):
        if self._value_and_grad is None:
            self._value_and_grad = value_and_grad(self.__wrapped__, self.wrt)
        return self._value_and_grad(*args, **kwargs)

    def vjp(self, *args, **kwargs):
        return vjp(self.__wrapped__, *args, **kwargs)

    def jvp(self, primals, tangents):
        return jvp(self.__wrapped__, primals, tangents)

    def source(self, mode="reverse"):
        return source(self.__wrapped__, mode, self.wrt)

    def variants(self) -> list:
        """The derivatives ``sourcegrad build`` writes: for "reverse", those
        ``.grad`` and ``.value_and_grad`` use; for "forward", the one ``.jvp`` uses when the ``wrt``
        arguments have tangents."""
        code = self.__wrapped__.__code__
        names = code.co_varnames[: code.co_argcount]
        items = self.wrt if isinstance(self.wrt, (tuple, list)) else (self.wrt,)
        positions = tuple(sorted({names.index(w) if isinstance(w, str) else w % len(names)
                                  for w in items}))
        out = []
        for mode in self.modes:
            out += ([("gradient", _key(self.wrt), False), ("reverse", _key(self.wrt), False)]
                    if mode == "reverse" else [("forward", positions, False)])
        return out


def differentiate(func=None, *, wrt=0, modes=("reverse",)):
    """Decorator: ``@differentiate`` or ``@differentiate(wrt=..., modes=...)``;
    ``modes`` (``"reverse"``, ``"forward"``) are what ``sourcegrad build``
    generates ahead of time."""
    if func is None:
        return lambda f: Differentiable(f, wrt, modes)
    return Differentiable(func, wrt, modes)
