"""Where sourcegrad's time goes, for one workload.

    python benchmarks/breakdown.py matvec [rnn ...] [--calls N]

For each workload, prints:

1. the median time of the hand-written gradient, of ``sg.grad(f, wrt)`` and
   of the generated function called directly: their difference is the API
   layer (argument matching, gradient type/shape matching, copies);
2. the generated code, line by line, with the time each line takes per
   gradient (a line profiler: every simple statement of the generated
   function is wrapped in ``perf_counter`` calls, whose own cost is measured
   and subtracted; a loop line shows the loop's bookkeeping: its total less
   its body);
3. a cProfile of ``sg.grad``'s call path by internal time, to name the API
   functions that cost.

Diagnostic only; ``run.py`` does the measuring.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import inspect
import io
import os
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _timing  # noqa: E402

if "--system-malloc" not in sys.argv[1:]:
    _timing.keep_freed_memory()  # as run.py does
os.environ.setdefault("SOURCEGRAD_CACHE_DIR", tempfile.mkdtemp(prefix="sourcegrad-breakdown-"))

import numpy as np  # noqa: E402

import handwritten  # noqa: E402
import workloads  # noqa: E402


class _Instrument(ast.NodeTransformer):
    """Wrap every statement in timing code; key each by its line."""

    def __init__(self):
        self.lines = {}  # key -> (lineno, text, compound?, parent key)

    def _body(self, stmts, parent):
        out = []
        for stmt in stmts:
            ret = None
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                # time the returned expression: __ret = <value>; return __ret
                ret, text = stmt, ast.unparse(stmt).splitlines()[0]
                stmt = ast.Assign(targets=[ast.Name("__ret", ast.Store())], value=stmt.value,
                                  lineno=stmt.lineno)
            elif isinstance(stmt, ast.Return):
                out.append(stmt)
                continue
            key = len(self.lines)
            compound = isinstance(stmt, (ast.For, ast.While, ast.If))
            if ret is None:
                text = ast.unparse(stmt).splitlines()[0]
            self.lines[key] = (stmt.lineno, text, compound, parent)
            if compound:
                stmt.body = self._body(stmt.body, key)
                stmt.orelse = self._body(stmt.orelse, key)
            start = ast.parse(f"__bt{key} = __pc()").body[0]
            stop = ast.parse(f"__acc[{key}] += __pc() - __bt{key}; __cnt[{key}] += 1").body
            out.extend([start, stmt, *stop])
            if ret is not None:
                out.append(ast.Return(value=ast.Name("__ret", ast.Load())))
        return out

    def visit_FunctionDef(self, node):
        node.body = self._body(node.body, None)
        return node


def line_profile(fn, text, namespace, args, calls: int):
    """Per-line (lineno, code, runs per call, seconds per call, compound?) of
    the function ``fn``, defined in the module source ``text`` and run in a
    copy of ``namespace``."""
    tree = ast.parse(text)
    target = next(n for n in ast.walk(tree)
                  if isinstance(n, ast.FunctionDef) and n.name == fn.__name__)
    tree.body = [target]
    target.decorator_list = []
    inst = _Instrument()
    inst.visit(target)
    ast.fix_missing_locations(tree)
    namespace = dict(namespace)
    n = len(inst.lines)
    acc, cnt = [0.0] * n, [0] * n
    namespace.update(__pc=_timing.perf_counter, __acc=acc, __cnt=cnt)
    exec(compile(tree, f"<instrumented {fn.__name__}>", "exec"), namespace)
    timed = namespace[fn.__name__]
    timed.__defaults__, timed.__kwdefaults__ = fn.__defaults__, fn.__kwdefaults__
    for _ in range(3):
        timed(*args)
    acc[:], cnt[:] = [0.0] * n, [0] * n
    for _ in range(calls):
        timed(*args)
    inside, outside = _probe_overhead()
    rows = []
    for key, (lineno, text, compound, _) in inst.lines.items():
        own = acc[key] - inside * cnt[key]
        if compound:  # the loop's or branch's own cost: less its statements and
            # the timing code around them
            children = [k for k, line in inst.lines.items() if line[3] == key]
            own -= sum(acc[k] + outside * cnt[k] for k in children)
        rows.append((lineno, text, cnt[key] / calls, max(own, 0.0) / calls, compound))
    return rows


def _probe_overhead():
    """Seconds the timing code around one statement adds: inside the timed
    span, and outside it (measured on ``pass`` in a loop)."""
    acc, cnt = [0.0], [0]
    ns = {"__pc": _timing.perf_counter, "__acc": acc, "__cnt": cnt}
    exec("def wrapped(n):\n    for _ in range(n):\n        __bt0 = __pc()\n        pass\n"
         "        __acc[0] += __pc() - __bt0; __cnt[0] += 1\n"
         "def plain(n):\n    for _ in range(n):\n        pass\n", ns)
    n = 50000
    best = None
    for _ in range(5):
        acc[0], cnt[0] = 0.0, 0
        start = _timing.perf_counter()
        ns["wrapped"](n)
        wrapped = _timing.perf_counter() - start
        start = _timing.perf_counter()
        ns["plain"](n)
        plain = _timing.perf_counter() - start
        inside = acc[0] / n
        outside = max(0.0, (wrapped - plain) / n - inside)
        if best is None or inside + outside < sum(best):
            best = (inside, outside)
    return best


def show_profile(title, rows):
    total = sum(r[3] for r in rows)
    print(f"\n{title} (sum of lines {_timing.fmt_time(total)} per gradient)")
    print(f"{'line':>5} {'runs':>6} {'time/grad':>10} {'share':>6}  code")
    for lineno, text, runs, own, compound in rows:
        print(f"{lineno:>5} {runs:>6g} {_timing.fmt_time(own):>10} "
              f"{own / total if total else 0:>6.1%}  "
              f"{'[loop/branch itself] ' if compound else ''}{text[:90]}")


def api_profile(g, args, calls: int) -> str:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(calls):
        g(*args)
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats("tottime")
    stats.print_stats(18)
    return out.getvalue()


def main():
    import sourcegrad as sg
    import sourcegrad.api
    from sourcegrad.signature import Signature

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="+", choices=[w for w in workloads.WORKLOADS
                                                          if w != "hessian"])
    parser.add_argument("--calls", type=int, default=None,
                        help="gradient calls for the line profile (default: about 1 s)")
    parser.add_argument("--no-cprofile", action="store_true")
    parser.add_argument("--system-malloc", action="store_true",
                        help="glibc's default malloc settings (see run.py)")
    opts = parser.parse_args()

    for name in opts.workloads:
        _timing.wait_until_idle(60.0)  # a busy neighbour distorts every number below
        load = _timing.CpuLoad()
        f, wrt, description = workloads.WORKLOADS[name]
        args = workloads.inputs(name)
        hand = handwritten.GRADIENTS[name]
        g = sg.grad(f, wrt=wrt)
        g(*args)
        d = sourcegrad.api.derivative(  # the function sg.grad calls: specialized to args
            f, wrt, "gradient", signature=Signature.of(args))
        fn = d.function
        t = _timing.measure({"hand": lambda: hand(*args), "sg.grad": lambda: g(*args),
                             "generated": lambda: fn(*args)}, target=0.05, repeats=11)
        hand_t, api_t, gen_t = (t[k]["median"] for k in ("hand", "sg.grad", "generated"))
        print(f"=== {name}: {description}")
        print(f"hand-written {_timing.fmt_time(hand_t)}   sg.grad {_timing.fmt_time(api_t)} "
              f"({api_t / hand_t:.2f}x)   generated function {_timing.fmt_time(gen_t)} "
              f"({gen_t / hand_t:.2f}x)   API layer {_timing.fmt_time(api_t - gen_t)} "
              f"per call")
        calls = opts.calls or max(5, int(1.0 / gen_t))
        show_profile(f"generated {fn.__name__}: line profile over {calls} calls",
                     line_profile(fn, d.text, d.globals, args, calls))
        show_profile(f"hand-written {hand.__name__}: line profile over {calls} calls",
                     line_profile(hand, inspect.getsource(handwritten), vars(handwritten),
                                  args, calls))
        if not opts.no_cprofile:
            print(f"\ncProfile of sg.grad over {calls} calls (internal time):")
            print(api_profile(g, args, calls))
        share = load.other_share()
        if share is not None and share > 0.05:
            print(f"(other processes used {share:.0%} of the CPU meanwhile: numbers distorted)")
        print()


if __name__ == "__main__":
    main()
