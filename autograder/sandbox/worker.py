"""The student process: runs a submission's cells and answers the grader's calls.

Started by :mod:`autograder.sandbox.process` as ``python -m autograder.sandbox.worker R W`` where R
and W are the file descriptors of the request and response pipes. Everything that comes back is
plain data (see :mod:`autograder.wire`); this file runs *untrusted* code next to it, so nothing
it says is trusted by the grader beyond being data.

Requests (one JSON frame each) and answers:

- ``{"op": "run_cell", "index": i, "source": "..."}`` → ``{"ok": true}`` or ``{"ok": false, "error": {...}}``
- ``{"op": "call", "target": {"name": f} | {"ref": id, "method": m}, "args": [...], "kwargs": {...},
  "seed": s}`` → ``{"ok": true, "value": ...}``; the error carries ``kind`` = ``missing`` |
  ``not_implemented`` | ``exception``.
- ``{"op": "getattr", "ref": id, "name": a}``, ``{"op": "describe", "ref": id}``,
  ``{"op": "forget"}`` (drop kept objects), ``{"op": "exit"}``.
- ``{"op": "handles"}`` → Refs to the builtins ``list``, ``map``, ``getattr``, ``dict``, ``zip`` and to the
  globals of ``torch.nn.modules.module`` (its global hook dictionaries), as they were when this worker
  started, before any student code ran: the grader composes them into bulk reads (one attribute of many
  objects, identity tables) in a few round trips, with nothing the notebook rebound since.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import signal
import sys
import traceback

_HERE = os.path.dirname(os.path.abspath(__file__))


class _Shell:
    """The little of IPython's ``get_ipython()`` that course notebooks use."""

    def __init__(self, namespace: dict):
        self.user_ns = namespace

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1):
        if name in ("matplotlib", "config", "load_ext", "autoreload", "env"):
            return None
        if name in ("time", "timeit"):
            exec(compile(line, "<magic>", "exec"), self.user_ns)
            return None
        print(f"[grader] line magic %{name} is not supported while grading; skipped", file=sys.stderr)
        return None

    def run_cell_magic(self, name: str, line: str, cell: str):
        if name in ("time", "timeit", "capture"):
            exec(compile(cell, "<magic>", "exec"), self.user_ns)
            return None
        print(f"[grader] cell magic %%{name} is not supported while grading; skipped", file=sys.stderr)
        return None

    def system(self, cmd: str):
        print("[grader] shell commands (!) are not run while grading; skipped", file=sys.stderr)

    getoutput = system

    def run_cell(self, source: str, *args, **kwargs):
        exec(compile(source, "<run_cell>", "exec"), self.user_ns)


def _student_frames(tb):
    frames = [f for f in traceback.extract_tb(tb) if not f.filename.startswith(_HERE)]
    return frames


def _format_error(exc: BaseException) -> dict:
    frames = _student_frames(exc.__traceback__)
    text = "".join(traceback.format_list(frames)) if frames else ""
    text += "".join(traceback.format_exception_only(type(exc), exc))
    return {"type": type(exc).__name__, "message": str(exc)[:2000], "traceback": text[-6000:]}


class Worker:
    def __init__(self, rfd: int, wfd: int):
        self.rfd, self.wfd = rfd, wfd
        self.ns: dict = {"__name__": "__main__", "__builtins__": __builtins__}
        self.objects: dict[int, object] = {}
        self._next_id = 0
        self.shell = _Shell(self.ns)
        self._transform = None
        self._handles = _trusted_handles()
        self._saved_hooks = _saved_tensors_hooks()

    # -- object table -------------------------------------------------------------------------
    def keep(self, obj):
        from autograder.wire import Ref

        self._next_id += 1
        oid = self._next_id  # never reused, so a stale Ref cannot alias a new object
        self.objects[oid] = obj
        return Ref(oid, type(obj).__name__)

    def resolve(self, tag: dict):
        if tag["__t__"] == "ref":
            return self.objects[int(tag["id"])]
        import importlib

        factory = str(tag["factory"])
        if not factory.startswith("autograder.fixtures"):
            raise ValueError("refused factory")
        mod_name, _, fn_name = factory.partition(":")
        fn = getattr(importlib.import_module(mod_name), fn_name)
        from autograder import wire

        args = [wire.decode(a, self.resolve) for a in tag["args"]]
        kwargs = {k: wire.decode(v, self.resolve) for k, v in tag["kwargs"].items()}
        return fn(*args, **kwargs)

    # -- operations ----------------------------------------------------------------------------
    def run_cell(self, msg: dict) -> dict:
        if self._transform is None:
            from IPython.core.inputtransformer2 import TransformerManager

            self._transform = TransformerManager()
        index = int(msg["index"])
        source = str(msg["source"])
        filename = f"<cell {index}>"
        try:
            code_text = self._transform.transform_cell(source)
            linecache.cache[filename] = (len(code_text), None, code_text.splitlines(True), filename)
            code = compile(code_text, filename, "exec")
            exec(code, self.ns)
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            if isinstance(exc, SystemExit):
                return {"ok": False, "error": {"type": "SystemExit", "message": "the cell called sys.exit()",
                                               "traceback": ""}}
            return {"ok": False, "error": _format_error(exc)}
        finally:
            sys.stdout.flush()
        return {"ok": True}

    def _target(self, target: dict):
        if "probe" in target:  # a grader-owned probe (autograder.fixtures) run here, on the student's objects
            import importlib

            factory = str(target["probe"])
            if not factory.startswith("autograder.fixtures."):
                raise ValueError("refused probe")
            mod_name, _, fn_name = factory.partition(":")
            return getattr(importlib.import_module(mod_name), fn_name)
        if "name" in target:
            name = str(target["name"])
            if name not in self.ns:
                raise LookupError(name)
            return self.ns[name]
        obj = self.objects[int(target["ref"])]
        method = target.get("method")
        return obj if method in (None, "__call__") else getattr(obj, str(method))

    def call(self, msg: dict) -> dict:
        from autograder import wire

        try:
            fn = self._target(msg["target"])
        except LookupError as exc:
            return {"ok": False, "error": {"kind": "missing", "type": "NameError",
                                           "message": f"{exc.args[0]} is not defined", "traceback": ""}}
        if not callable(fn):
            return {"ok": False, "error": {"kind": "missing", "type": "TypeError",
                                           "message": f"{type(fn).__name__} object is not callable", "traceback": ""}}
        try:
            args = [wire.decode(a, self.resolve) for a in msg.get("args", [])]
            kwargs = {k: wire.decode(v, self.resolve) for k, v in msg.get("kwargs", {}).items()}
            seed = msg.get("seed")
            if seed is not None:
                _seed_everything(int(seed))
            witness = GraphWitness(self._saved_hooks) if msg.get("witness_graph") else contextlib.nullcontext()
            with witness:  # set around the student's function only: building the arguments is not counted
                value = fn(*args, **kwargs)
        except NotImplementedError as exc:
            err = _format_error(exc)
            err["kind"] = "not_implemented"
            return {"ok": False, "error": err}
        except BaseException as exc:  # noqa: BLE001
            err = _format_error(exc)
            err["kind"] = "exception"
            return {"ok": False, "error": err}
        try:
            if msg.get("keep"):  # the result stays here; the grader gets a handle (passed back as the object)
                value = self.keep(value)
            if msg.get("return_args"):
                value = {"result": value, "args": list(args)}
            reply = {"ok": True, "value": wire.encode(value, keep=self.keep)}
            if isinstance(witness, GraphWitness):
                reply["graph_saved"] = witness.count
            return reply
        except Exception as exc:  # noqa: BLE001
            return {"ok": False, "error": {"kind": "exception", "type": "UnsendableResult",
                                           "message": f"the result could not be returned: {exc}", "traceback": ""}}

    def getattr(self, msg: dict) -> dict:
        from autograder import wire

        try:
            obj = self.objects[int(msg["ref"])]
            value = getattr(obj, str(msg["name"]))
            return {"ok": True, "value": wire.encode(value, keep=self.keep)}
        except BaseException as exc:  # noqa: BLE001
            err = _format_error(exc)
            err["kind"] = "missing" if isinstance(exc, AttributeError) else "exception"
            return {"ok": False, "error": err}

    def describe(self, msg: dict) -> dict:
        try:
            obj = self.objects[int(msg["ref"])]
            return {"ok": True, "value": describe(obj)}
        except BaseException as exc:  # noqa: BLE001
            err = _format_error(exc)
            err["kind"] = "exception"
            return {"ok": False, "error": err}

    def handles(self, msg: dict) -> dict:
        """Refs to the objects captured by :func:`_trusted_handles` (kept like any call's result)."""
        from autograder import wire

        return {"ok": True, "value": {name: wire.encode(self.keep(obj)) for name, obj in self._handles.items()}}

    def forget(self, msg: dict) -> dict:
        """Drop every object kept for the grader (called after each check)."""
        self.objects.clear()
        return {"ok": True, "value": None}

    def serve(self) -> None:
        from autograder import wire

        handlers = {"run_cell": self.run_cell, "call": self.call, "getattr": self.getattr,
                    "describe": self.describe, "forget": self.forget, "handles": self.handles}
        while True:
            try:
                msg = wire.read_frame(self.rfd)
            except KeyboardInterrupt:
                continue
            except (EOFError, OSError):
                return
            op = msg.get("op")
            if op == "exit":
                return
            handler = handlers.get(op)
            try:
                reply = handler(msg) if handler else {"ok": False, "error": {"kind": "protocol", "message": f"bad op {op}"}}
            except KeyboardInterrupt:
                reply = {"ok": False, "error": {"kind": "exception", "type": "KeyboardInterrupt",
                                                "message": "interrupted (time limit)", "traceback": ""}}
            reply["seq"] = msg.get("seq")
            try:
                wire.write_frame(self.wfd, reply)
            except KeyboardInterrupt:
                wire.write_frame(self.wfd, reply)


def describe(obj) -> dict:
    """Plain-data description of a student object (modules get their structure)."""
    info: dict = {"type": type(obj).__name__}
    try:
        import torch.nn as nn
    except ImportError:  # pragma: no cover
        return info
    if isinstance(obj, nn.Module):
        info["training"] = bool(obj.training)
        info["modules"] = [[name, type(m).__name__, m.extra_repr()] for name, m in obj.named_modules()]
        info["parameters"] = [[n, list(p.shape), bool(p.requires_grad)] for n, p in obj.named_parameters()]
        info["buffers"] = [[n, list(b.shape), bool(b.requires_grad or b.grad_fn is not None)]
                           for n, b in obj.named_buffers()]
        info["state_dict"] = list(obj.state_dict().keys())
    return info


def _saved_tensors_hooks() -> tuple:
    """torch's push/pop/top of its default saved-tensors hooks (the stack under
    ``torch.autograd.graph.saved_tensors_hooks``), captured when the worker starts."""
    import torch

    autograd = torch._C._autograd
    return (autograd._push_saved_tensors_default_hooks, autograd._pop_saved_tensors_default_hooks,
            autograd._top_saved_tensors_default_hooks)


class GraphWitness:
    """Counts, with torch's own machinery, the tensors autograd saves for a backward pass during one call.

    Around the call, torch's default saved-tensors hooks are set to a counter (the tensors pass through
    unchanged). torch calls the pack hook for every tensor a forward pass saves for backward, i.e. only while
    autograd records a graph (never under ``torch.no_grad()`` or ``inference_mode``), so the count witnesses a
    graph even after it was freed. ``count`` afterwards: the number of tensors saved, or None when the hooks on
    top of torch's stack were not the witness's (the call removed them, or pushed its own over them): the worker
    has no hooks of its own, so after popping the witness's pair the stack must be empty."""

    def __init__(self, hooks: tuple):
        self._push, self._pop, self._top = hooks
        self._hook = self._pack  # one bound method, pushed and then recognised by identity
        self.saved = 0
        self.count: int | None = None

    def _pack(self, tensor):
        self.saved += 1
        return tensor

    @staticmethod
    def _unpack(tensor):
        return tensor

    def __enter__(self):
        self._push(self._hook, self._unpack)
        return self

    def __exit__(self, *exc) -> None:
        popped = []  # every pair left on the stack: the witness's alone, or the call changed the stack
        while len(popped) < 64:
            top = self._top(False)
            if top is None:
                break
            popped.append(top[0])
            self._pop()
        if len(popped) == 1 and popped[0] is self._hook:
            self.count = self.saved


#: the names of :func:`_trusted_handles` (the ``handles`` operation's answer)
HANDLE_BUILTINS = ("list", "map", "getattr", "dict", "zip")
HANDLES = (*HANDLE_BUILTINS, "module_globals")


def _trusted_handles() -> dict:
    """The builtins the grader's bulk reads are made of, and ``torch.nn.modules.module``'s globals (where torch
    keeps its global module hooks), captured when the worker starts, before any student code runs."""
    import builtins

    import torch.nn.modules.module as module

    found = {name: getattr(builtins, name) for name in HANDLE_BUILTINS}
    found["module_globals"] = vars(module)
    return found


def _seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global (CPU) random generators: what ``torch.manual_seed`` does
    for the CPU, without its lazy CUDA/XPU/MTIA seeding, which formats a stack trace per device on
    every call (~1 ms a seed; hundreds of seeds per graded notebook). Grading runs on the CPU only."""
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.default_generator.manual_seed(seed)


def run_worker(rfd: int, wfd: int) -> None:
    """Serve the grader on the two pipe ends until told to exit (torch already importable)."""
    import torch

    torch.set_num_threads(1)
    from autograder import no_compile

    no_compile.install()  # the first optimizer would otherwise import torch._dynamo (~1.5 s)
    worker = Worker(rfd, wfd)
    import builtins

    builtins.get_ipython = lambda: worker.shell  # type: ignore[attr-defined]
    worker.ns["get_ipython"] = builtins.get_ipython
    from autograder import wire

    wire.write_frame(wfd, {"ok": True, "ready": True, "torch": torch.__version__})
    worker.serve()
    sys.stdout.flush()


def enter_sandbox(mountpoint: str, tmp_mb: int, pipe_fds: tuple[int, int], cgroup: str | None = None,
                  reveal: tuple[str, ...] = ()) -> None:
    """Become PID 1 of a fresh sandbox (see :mod:`autograder.sandbox.namespaces`), with stdout and
    stderr in a file of the sandbox's own /tmp (nothing outside ever opens it) and its working
    directory as the current one."""
    from autograder.sandbox import cgroups, namespaces

    if cgroup:  # before anything forks: every process of the sandbox is counted
        cgroups.join(cgroup)
    namespaces.enter(mountpoint, tmp_mb, close_in_relay=pipe_fds, reveal=reveal)
    log = os.open("/tmp/.output.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.makedirs(os.environ.get("MPLCONFIGDIR", namespaces.WORKDIR + "/.mpl"), exist_ok=True)


def main(argv: list[str]) -> None:
    """``python -m autograder.sandbox.worker RFD WFD [--sandbox MOUNTPOINT TMP_MB CGROUP REVEAL]``."""
    rfd, wfd = int(argv[1]), int(argv[2])
    # Python installs its KeyboardInterrupt handler only where SIGINT was not ignored at start-up, and a
    # grader started as a background job of a non-interactive shell (CI scripts: `cmd &`) passes SIGINT
    # ignored to its children: the time limits' interrupt would then be lost and the process killed.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if len(argv) > 3 and argv[3] == "--sandbox":
        reveal = tuple(a for a in (argv[7] if len(argv) > 7 else "").split(",") if a)
        enter_sandbox(argv[4], int(argv[5]), (rfd, wfd), argv[6] if len(argv) > 6 and argv[6] else None, reveal)
    os.environ.setdefault("MPLBACKEND", "Agg")
    run_worker(rfd, wfd)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
