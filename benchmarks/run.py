"""Run every benchmark and write the results.

    python benchmarks/run.py            # the full run (several minutes)
    python benchmarks/run.py --quick    # a smoke run (under a minute)

Prints a table and writes ``benchmarks/results.md`` and
``benchmarks/results.json`` (``--out DIR`` to write elsewhere).  See
``benchmarks/README.md`` for what each workload is and how to read the table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import _timing  # noqa: E402  (standard library only: safe before NumPy)

def _threads_option(argv):
    """``--threads N`` must act before NumPy (and its BLAS) is imported."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return None


if "--system-malloc" not in sys.argv[1:]:
    _timing.keep_freed_memory()  # restarts this process (see _timing.keep_freed_memory)

THREADS = _threads_option(sys.argv[1:])
if THREADS is not None:
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = THREADS  # NumPy's BLAS, PyTorch; the JAX child inherits them
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen="
                               + ("false" if THREADS == "1" else "true")
                               + f" intra_op_parallelism_threads={THREADS}").strip()

# Generated modules of this run go to a fresh directory, not the user's cache.
_CACHE = tempfile.mkdtemp(prefix="sourcegrad-bench-cache-")
os.environ["SOURCEGRAD_CACHE_DIR"] = _CACHE

import numpy as np  # noqa: E402

import handwritten  # noqa: E402
import peers  # noqa: E402
import workloads  # noqa: E402

#: the columns of the table, in order: key -> header
SYSTEMS = {
    "hand": "hand-written NumPy",
    "sourcegrad": "sourcegrad",
    "sourcegrad_fn": "sourcegrad (generated fn)",
    "autograd": "autograd",
    "tangent": "tangent",
    "torch": "PyTorch",
    "jax_hand": "hand-written NumPy (JAX process)",
    "jax_eager": "JAX eager",
    "jax_jit": "jax.jit",
}
#: the system each ratio is taken against (same process)
BASELINE = {key: ("jax_hand" if key.startswith("jax") else "hand") for key in SYSTEMS}

#: sourcegrad / hand-written <= target (issue 6)
TARGETS = {"matvec": 1.3, "mlp": 1.10, "rnn": 1.5, "scalar_loop": 1.5, "elementwise": 1.10}
#: autograd / sourcegrad >= target
AUTOGRAD_TARGETS = {"matvec": 5.0, "scalar_loop": 5.0}

#: workloads whose slow peers get their rounds capped by time
SLOW = ("rnn", "elementwise", "hessian", "scalar_loop")

SETTINGS = {
    # target: seconds per batch; repeats: batches per system; max_seconds: cap
    # on the rounds of a slow workload (at least 3 rounds)
    "full": {"target": 0.05, "repeats": 21, "max_seconds": 25.0,
             "compile_runs": 5, "scaling_sizes": (10, 100, 1000), "scaling_repeats": 3},
    "quick": {"target": 0.004, "repeats": 5, "max_seconds": 1.5,
              "compile_runs": 2, "scaling_sizes": (10, 100), "scaling_repeats": 1},
}



# --- correctness ---------------------------------------------------------------


def _parts(g):
    return tuple(g) if isinstance(g, (tuple, list)) else (g,)


close = handwritten.close  # the check every system's gradient passes before timing


def directional_check(name, args, grads) -> bool:
    """The hand-written gradient against central differences of the function
    along a random direction (an independent check of the reference)."""
    f, wrt, _ = workloads.WORKLOADS[name]
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    rng = np.random.default_rng(1)
    directions = [rng.standard_normal(np.shape(args[i])) for i in wrt]
    predicted = sum(float(np.sum(np.asarray(g) * v)) for g, v in zip(_parts(grads), directions))
    eps = 1e-6

    def shifted(sign):
        moved = list(args)
        for i, v in zip(wrt, directions):
            moved[i] = args[i] + sign * eps * (v if np.ndim(v) else float(v))
        return f(*moved)

    estimate = (shifted(1.0) - shifted(-1.0)) / (2 * eps)
    return abs(estimate - predicted) <= 1e-5 * max(1.0, abs(predicted))


# --- the machine ---------------------------------------------------------------


def machine() -> dict:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        blas = "?"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "page_fault_us": page_fault_cost(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
    }


def page_fault_cost() -> float:
    """Microseconds per 4 KiB page to first touch a new 32 MiB anonymous
    mapping (the kernel maps and zeroes each page; much more on some virtual
    machines), less the time to write the same memory again."""
    import mmap

    size = 2**25
    costs = []
    for _ in range(3):
        region = mmap.mmap(-1, size)
        a = np.frombuffer(region, dtype=np.float64)
        start = _timing.perf_counter()
        a.fill(1.0)
        first = _timing.perf_counter() - start
        start = _timing.perf_counter()
        a.fill(2.0)
        again = _timing.perf_counter() - start
        costs.append((first - again) / (size / 4096) * 1e6)
        del a
        region.close()
    return statistics.median(costs)


def sourcegrad_version() -> dict:
    import sourcegrad

    out = {"version": getattr(sourcegrad, "__version__", "?")}
    try:
        out["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
            check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        out["src_modified"] = bool(dirty)
    except Exception:
        pass
    return out


# --- the workloads, in this process -----------------------------------------------


def sourcegrad_systems(name, args):
    """The sourcegrad callables: the public API and, for gradients, the
    generated function that ``sg.grad`` calls (it returns the value too only
    when the output is not provably a scalar).  Each entry is
    (fn, to_numpy, seconds of creating it and calling it the first time)."""
    import sourcegrad as sg
    import sourcegrad.api
    from sourcegrad.signature import Signature

    f, wrt, _ = workloads.WORKLOADS[name]
    start = _timing.perf_counter()
    if name == "hessian":
        h = sg.hessian(f, wrt=wrt)
        h(*args)
        first = _timing.perf_counter() - start
        return {"sourcegrad": ((lambda: h(*args)), _same, first)}
    g = sg.grad(f, wrt=wrt)
    g(*args)  # compiles
    first = _timing.perf_counter() - start
    d = sourcegrad.api.derivative(  # the function sg.grad calls: specialized to args
        f, wrt, "gradient", signature=Signature.of(args))
    fn = d.function
    return {"sourcegrad": ((lambda: g(*args)), _same, first),
            "sourcegrad_fn": ((lambda: fn(*args)), (lambda r: r[1]) if d.value else _same, None)}


def _same(r):
    return r


def run_workload(name, settings, available) -> dict:
    args = workloads.inputs(name)
    hand = handwritten.GRADIENTS[name]
    reference = hand(*args)
    row = {"cells": {}, "first_call": {}}
    cells = row["cells"]
    if name != "hessian" and not directional_check(name, args, reference):
        row["error"] = "the hand-written gradient fails the central-difference check"
        return row

    candidates = {}
    try:
        candidates.update(sourcegrad_systems(name, args))
    except Exception as exc:
        cells["sourcegrad"] = {"error": _short(exc)}
    for key, build in peers.BUILDERS.items():
        if not available.get(key):
            continue
        start = _timing.perf_counter()
        try:
            fn, to_numpy = build(name, args)
            fn()  # the first call
        except peers.Unsupported as exc:
            cells[key] = {"skipped": str(exc)}
            continue
        except Exception as exc:
            cells[key] = {"error": _short(exc)}
            continue
        candidates[key] = (fn, to_numpy, _timing.perf_counter() - start)

    systems = {"hand": lambda: hand(*args)}
    for key, (fn, to_numpy, first) in candidates.items():
        if first is not None:
            row["first_call"][key] = first
        try:
            value = to_numpy(fn())
        except Exception as exc:
            cells[key] = {"error": _short(exc)}
            continue
        if not close(value, reference):
            cells[key] = {"error": "gradient differs from the hand-written one"}
            continue
        systems[key] = fn

    slow = name in SLOW
    load = _timing.CpuLoad()
    timed = _timing.measure(systems, target=settings["target"], repeats=settings["repeats"],
                            max_seconds=settings["max_seconds"] if slow else None)
    row["other_cpu"] = load.other_share()
    cells.update(timed)
    return row


def _short(exc) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text.splitlines()[-1][:300] if text else type(exc).__name__


# --- JAX, in a child process -------------------------------------------------------


def jax_python() -> str | None:
    explicit = os.environ.get("SOURCEGRAD_BENCH_JAX_PYTHON")
    if explicit:
        return explicit
    default = HERE / ".venv-jax" / "bin" / "python"
    return str(default) if default.exists() else None


def run_jax(names, settings, notes) -> dict | None:
    python = jax_python()
    if python is None:
        notes.append("JAX: skipped (no interpreter: set SOURCEGRAD_BENCH_JAX_PYTHON or create "
                     "benchmarks/.venv-jax, see benchmarks/README.md)")
        return None
    config = dict(settings, workloads=list(names), slow=list(SLOW))
    config.pop("scaling_sizes", None)
    env = dict(os.environ, PYTHONPATH=str(HERE))
    try:
        done = subprocess.run([python, str(HERE / "jax_child.py"), json.dumps(config)],
                              capture_output=True, text=True, env=env, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        notes.append(f"JAX: skipped ({_short(exc)})")
        return None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["?"]
        notes.append(f"JAX: the child process failed ({tail[0][:300]})")
        return None
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if "error" in out:
        notes.append(f"JAX: skipped ({out['error']})")
        return None
    return out


# --- compile time, in child processes -------------------------------------------------


def run_compile(settings, notes) -> dict:
    """Cold compile and warm start of the matvec and mlp gradients (see
    compile_child.py): ``compile_runs`` pairs of child processes."""
    out = {}
    # bytecode files allowed, as on a user's machine (a priming run writes them)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(HERE)
    primed = False
    for name in ("matvec", "mlp"):
        shapes = [None if isinstance(a, float) else list(np.shape(a))
                  for a in workloads.inputs(name)]
        runs = {"cold": [], "warm": []}
        for _ in range(settings["compile_runs"] + (0 if primed else 1)):
            cache = tempfile.mkdtemp(prefix="sourcegrad-bench-compile-")
            try:
                for kind in ("cold", "warm"):
                    done = subprocess.run(
                        [sys.executable, str(HERE / "compile_child.py"), name, kind,
                         json.dumps(shapes)],
                        capture_output=True, text=True,
                        env=dict(env, SOURCEGRAD_CACHE_DIR=cache), timeout=300)
                    if done.returncode != 0:
                        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
                        notes.append(f"compile ({name}): the child process failed: {tail[:300]}")
                        return out
                    if primed:
                        runs[kind].append(json.loads(done.stdout.strip().splitlines()[-1]))
            finally:
                shutil.rmtree(cache, ignore_errors=True)
            primed = True
        out[name] = {
            kind: {key: (statistics.median(r[key] for r in values) if key != "compiled"
                         else any(r[key] for r in values)) for key in values[0]}
            for kind, values in runs.items()
        }
        if out[name]["warm"]["compiled"]:
            notes.append(f"compile ({name}): a warm start imported the compiler")
        out[name]["runs"] = settings["compile_runs"]
    return out


# --- output ------------------------------------------------------------------------


def cell_text(row, key) -> str:
    cell = row["cells"].get(key)
    if cell is None:
        return "-"
    if "skipped" in cell:
        return "n/a"
    if "error" in cell:
        return "FAILED"
    text = _timing.fmt_time(cell["median"])
    if key != BASELINE[key]:
        base = row["cells"].get(BASELINE[key], {})
        if "median" in base:
            text += f" ({cell['median'] / base['median']:.2f}x)"
    return text


def _pct(share) -> str:
    return "?" if share is None else f"{share:.0%}"


def ratio(row, key, base, stat="median"):
    a, b = row["cells"].get(key, {}), row["cells"].get(base, {})
    if stat in a and stat in b:
        return a[stat] / b[stat]
    return None


def markdown(results) -> str:
    meta = results["meta"]
    m = meta["machine"]
    lines = [
        "# sourcegrad benchmarks",
        "",
        f"Run: {meta['date']} ({meta['mode']} run, {meta['duration_s']:.0f} s), "
        f"`{meta['command']}`.",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; {m['os']}; first touch "
        f"of new memory {m['page_fault_us']:.2f} us per 4 KiB page"
        + ("; malloc keeps freed memory (MALLOC_TRIM_THRESHOLD_ etc.: see README)"
           if meta.get("malloc_keep") else "; glibc's default malloc (--system-malloc)"),
        f"- Python {m['python']}, NumPy {m['numpy']} ({m['blas']}); "
        f"sourcegrad {meta['sourcegrad'].get('version')} "
        f"(commit {meta['sourcegrad'].get('commit', '?')}"
        f"{', src/ modified' if meta['sourcegrad'].get('src_modified') else ''})",
        f"- Load: other processes used {_pct(meta.get('other_cpu'))} of the machine's CPU "
        "time over the whole run, waits included (from /proc/stat; see the notes for the "
        "measurements taken under load)",
        "- Peers: " + ", ".join(f"{k} {v}" if v else f"{k}: not installed"
                                for k, v in meta["peers"].items()),
    ]
    jax = results.get("jax")
    if jax:
        lines.append(f"- JAX process: Python {jax['python']}, NumPy {jax['numpy']}, "
                     f"jax {jax['jax']}, jaxlib {jax['jaxlib']} ({', '.join(jax['devices'])})")
    lines += [
        f"- Timing: {meta['timing']}",
        "",
        "## Gradient time: median per call (ratio to hand-written NumPy)",
        "",
        "Lower is better. A ratio is that system's median over the hand-written gradient's "
        "median, both measured in the same process; the JAX columns are measured in a "
        "Python 3.12 child process with its own hand-written NumPy column.",
        "",
    ]
    keys = list(SYSTEMS)
    lines.append("| workload | " + " | ".join(SYSTEMS[k] for k in keys) + " |")
    lines.append("|---|" + "---:|" * len(keys))
    for name, row in results["workloads"].items():
        lines.append(f"| {name} | " + " | ".join(cell_text(row, k) for k in keys) + " |")
    lines += ["", "Workloads:", ""]
    for name in results["workloads"]:
        lines.append(f"- **{name}**: {workloads.WORKLOADS[name][2]}")

    lines += ["", "## Targets", "",
              "The ratio of medians is the figure; beside it, the ratio of the fastest "
              "batches, which a machine that runs slower at times moves less.", "",
              "| workload | sourcegrad / hand-written | (of minimums) | target | met | "
              "autograd / sourcegrad | target | met |",
              "|---|---:|---:|---:|---|---:|---:|---|"]
    for name, row in results["workloads"].items():
        r = ratio(row, "sourcegrad", "hand")
        r_min = ratio(row, "sourcegrad", "hand", "min")
        a = ratio(row, "autograd", "sourcegrad")
        t, at = TARGETS.get(name), AUTOGRAD_TARGETS.get(name)

        def show(x):
            return "-" if x is None else f"{x:.2f}"

        def met(x, target, below):
            if x is None or target is None:
                return "-"
            return "yes" if (x <= target if below else x >= target) else "**no**"

        lines.append(f"| {name} | {show(r)} | {show(r_min)} | {'<= ' + str(t) if t else '-'} | "
                     f"{met(r, t, True)} | {show(a)} | {'>= ' + str(at) if at else '-'} | "
                     f"{met(a, at, False)} |")

    lines += ["", "## First call (includes any compilation), in the benchmark process", "",
              "Creating the gradient function and calling it once. sourcegrad's includes "
              "compiling, writing and importing the generated module (a fresh cache "
              "directory; the compiler itself was imported before); tangent compiles in "
              "`tangent.grad`; jax.jit's is tracing and XLA compilation.", "",
              "| workload | sourcegrad | autograd | tangent | PyTorch | jax.jit |",
              "|---|---:|---:|---:|---:|---:|"]
    for name, row in results["workloads"].items():
        first = row.get("first_call", {})
        cols = [first.get(k) for k in ("sourcegrad", "autograd", "tangent", "torch")]
        cols.append(row.get("jit_first_call"))
        lines.append(f"| {name} | " + " | ".join(_timing.fmt_time(c) for c in cols) + " |")

    comp = results.get("compile")
    if comp:
        runs = next(iter(comp.values()))["runs"]
        lines += ["", "## Compile and start-up time (child processes)", "",
                  f"Median of {runs} runs. Each run starts a fresh interpreter with an empty "
                  "`SOURCEGRAD_CACHE_DIR` (cold), then a second one with the directory the "
                  "first filled (warm); bytecode files allowed, after one priming run. "
                  "*start* = import of sourcegrad and the user module + the first gradient "
                  "(NumPy's import not counted); *compile* is the part of the cold start spent "
                  "in `compile_reverse`; *steady* is the second gradient call.", "",
                  "| gradient | cold start | cold: compile | warm start | warm: compiler "
                  "imported | warm: import | steady | NumPy import (not counted) |",
                  "|---|---:|---:|---:|---|---:|---:|---:|"]
        for name, c in comp.items():
            cold, warm = c["cold"], c["warm"]
            lines.append(
                f"| {name} | {_timing.fmt_time(cold['start'])} | "
                f"{_timing.fmt_time(cold['compile'])} | {_timing.fmt_time(warm['start'])} | "
                f"{'yes' if warm['compiled'] else 'no'} | {_timing.fmt_time(warm['import'])} | "
                f"{_timing.fmt_time(warm['second_grad'])} | "
                f"{_timing.fmt_time(warm['numpy_import'])} |")

    scaling = results.get("scaling")
    if scaling:
        lines += ["", "## Compile scaling (in process)", "",
                  "Generated straight-line functions; `compile_reverse` is the whole compiler "
                  "(parse to text); *first sg.grad call* adds writing, importing and running "
                  "the generated module. Median of the repeats.", "",
                  "| source lines | generated lines | compile_reverse | per source line | "
                  "first sg.grad call | repeats |",
                  "|---:|---:|---:|---:|---:|---:|"]
        for s in scaling.values():
            lines.append(
                f"| {s['lines']:,} | {s['generated_lines']:,} | "
                f"{_timing.fmt_time(s['compile_median'])} | "
                f"{_timing.fmt_time(s['compile_median'] / s['lines'])} | "
                f"{_timing.fmt_time(s['first_grad_median'])} | {s['repeats']} |")

    notes = list(results["notes"])
    for name, row in results["workloads"].items():
        for key, cell in row["cells"].items():
            if "skipped" in cell:
                notes.append(f"{name}, {SYSTEMS[key]}: n/a: {cell['skipped']}")
            elif "error" in cell:
                notes.append(f"{name}, {SYSTEMS[key]}: FAILED: {cell['error']}")
        if "error" in row:
            notes.append(f"{name}: {row['error']}")
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


# --- main ----------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", nargs="+", metavar="WORKLOAD",
                        choices=list(workloads.WORKLOADS), help="run these workloads only")
    parser.add_argument("--no-jax", action="store_true", help="skip the JAX child process")
    parser.add_argument("--no-compile", action="store_true",
                        help="skip the compile-time measurements (workloads 7 and 8)")
    parser.add_argument("--wait-idle", type=float, metavar="SECONDS", default=None,
                        help="before each workload, wait up to this long for other processes "
                             "to leave the CPU idle (default: 120 s, 0 with --quick)")
    parser.add_argument("--system-malloc", action="store_true",
                        help="keep glibc's default malloc settings (by default the run keeps "
                             "freed memory in the process; see README)")
    parser.add_argument("--threads", metavar="N",
                        help="threads for NumPy's BLAS, PyTorch and XLA (default: each "
                             "library's own choice)")
    parser.add_argument("--out", type=Path, default=HERE,
                        help="directory for results.md and results.json (default: benchmarks/)")
    opts = parser.parse_args(argv)
    mode = "quick" if opts.quick else "full"
    settings = SETTINGS[mode]
    names = opts.only or list(workloads.WORKLOADS)
    started = _timing.perf_counter()
    whole_run = _timing.CpuLoad()
    notes = []

    def say(text):
        print(text, file=sys.stderr, flush=True)

    peer_versions = {key: peers.version(*names) for key, names in peers.MODULES.items()}
    available = {key: v is not None for key, v in peer_versions.items()}
    for key, ok in available.items():
        if not ok:
            notes.append(f"{SYSTEMS[key]}: skipped (cannot import {peers.MODULES[key][0]}; "
                         "pip install -e '.[bench]')")
    if available.get("torch"):
        import torch

        peer_versions["torch"] += f" ({torch.get_num_threads()} threads)"
    if available.get("tangent") and "scalar_loop" in names:
        notes.append("scalar_loop, tangent: tangent has no adjoint for math.sin, so its column "
                     "runs the same loop with np.sin on the float (workloads.scalar_loop_np)")

    results = {
        "meta": {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "mode": mode,
            "malloc_keep": _timing.keeping_freed_memory(),
            "command": " ".join(["python benchmarks/run.py", *(sys.argv[1:] if argv is None
                                                                else argv)]),
            "machine": machine(),
            "sourcegrad": sourcegrad_version(),
            "peers": peer_versions,
            "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
            "timing": (
                "time.perf_counter; per workload every system is warmed up (3 calls), then "
                f"calibrated to batches of >= {settings['target'] * 1e3:g} ms; "
                f"{settings['repeats']} rounds, each running one batch of every system in "
                "rotating order (rounds of slow workloads capped at "
                f"{settings['max_seconds']:g} s, at least 3); reported: median over batches "
                "of the per-call time; gc off inside a batch; float64 throughout; threads: "
                + (f"{THREADS} (--threads)" if THREADS else "each library's default")),
        },
        "workloads": {},
        "notes": notes,
    }
    wait_idle = opts.wait_idle if opts.wait_idle is not None else (0.0 if opts.quick else 120.0)

    def idle(what):
        if wait_idle > 0:
            waited = _timing.wait_until_idle(wait_idle)
            if waited >= 1.0:
                say(f"  (waited {waited:.0f} s for other processes to leave the CPU)")
            if waited >= wait_idle:
                notes.append(f"{what}: other processes kept the CPU busy for more than "
                             f"{wait_idle:g} s before it; measured anyway")

    busy = 0.10  # other processes' share of the CPU above which a measurement is retried
    attempts = 3 if wait_idle > 0 else 1
    jax_meta = None
    import sourcegrad.pipeline  # noqa: F401  the compiler's import is not the first workload's

    for name in names:
        say(f"[{name}] ...")
        row = first_calls = None
        for attempt in range(attempts):
            idle(name)
            found = run_workload(name, settings, available)
            # a later attempt finds the derivatives made: its first calls compile nothing
            first_calls = first_calls or found["first_call"]
            found["first_call"] = first_calls
            if row is None or (found.get("other_cpu") or 0) < (row.get("other_cpu") or 0):
                row = found
            if (row.get("other_cpu") or 0) <= busy or attempt + 1 == attempts:
                break
            say(f"  (other processes used {row['other_cpu']:.0%} of the CPU: measuring again)")
        results["workloads"][name] = row
        say("  " + ", ".join(f"{SYSTEMS[k]}: {cell_text(row, k)}"
                             for k in SYSTEMS if k in row["cells"]))
        if opts.no_jax or (jax_meta is False):
            continue
        jrow = None
        for attempt in range(attempts):
            idle(f"{name} (JAX)")
            jax = run_jax([name], settings, notes)
            if jax is None:
                jax_meta = False  # not available: noted once
                break
            jax_meta = {k: v for k, v in jax.items() if k != "workloads"}
            found = jax["workloads"][name]
            if jrow is None or (found.get("other_cpu") or 0) < (jrow.get("other_cpu") or 0):
                jrow = found
            if (jrow.get("other_cpu") or 0) <= busy or attempt + 1 == attempts:
                break
            say(f"  (JAX: other processes used {jrow['other_cpu']:.0%} of the CPU: "
                "measuring again)")
        if jrow is None:
            continue
        row["cells"].update(jrow.get("cells", {}))
        if jrow.get("other_cpu") is not None:
            row["jax_other_cpu"] = jrow["other_cpu"]
        if "jit_first_call" in jrow:
            row["jit_first_call"] = jrow["jit_first_call"]
        if "error" in jrow:
            notes.append(f"{name}, JAX: FAILED: {jrow['error'][:300]}")
        say("  JAX process: " + ", ".join(f"{SYSTEMS[k]}: {cell_text(row, k)}"
                                          for k in SYSTEMS if k.startswith("jax")
                                          and k in row["cells"]))
    if jax_meta:
        results["jax"] = jax_meta

    if not opts.no_compile:
        say("[compile: child processes] ...")
        idle("compile")
        results["compile"] = run_compile(settings, notes)
        say("[compile scaling] ...")
        idle("compile scaling")
        import compile_scaling

        try:
            results["scaling"] = compile_scaling.measure(settings["scaling_sizes"],
                                                         settings["scaling_repeats"])
        except Exception as exc:
            notes.append(f"compile scaling: FAILED: {_short(exc)}")
        if mode == "quick":
            notes.append("quick run: compile scaling without the 1,000-line function")

    results["meta"]["duration_s"] = _timing.perf_counter() - started
    results["meta"]["other_cpu"] = whole_run.other_share()
    for name, row in results["workloads"].items():
        for key, where in (("other_cpu", ""), ("jax_other_cpu", " (JAX process)")):
            share = row.get(key)
            if share is not None and share > 0.05:
                notes.append(f"{name}{where}: other processes used {share:.0%} of the machine's "
                             "CPU time while it was measured: its times are less reliable")
    text = markdown(results)
    opts.out.mkdir(parents=True, exist_ok=True)
    (opts.out / "results.md").write_text(text)
    (opts.out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(text)
    say(f"wrote {opts.out / 'results.md'} and {opts.out / 'results.json'}")
    shutil.rmtree(_CACHE, ignore_errors=True)


if __name__ == "__main__":
    main()
