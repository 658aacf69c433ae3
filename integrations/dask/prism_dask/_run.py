"""Running one prism CLI command on a Dask worker, with failures that name the shard and worker.

Each task runs ``cli.ts shard`` or ``cli.ts merge`` as a subprocess in a private temporary
folder and returns the file it wrote as bytes, so states travel through Dask (no shared
storage is needed for them) and a task that is run again (a worker died, Dask retried it)
does the same work and returns the same bytes: shards are idempotent.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import tempfile
from pathlib import Path

#: The repository root, when this package is used from a prism checkout.
_REPO = Path(__file__).resolve().parents[3]


class PrismShardError(RuntimeError):
    """A shard or merge failed on a worker; the message names the shard and the worker."""


def prism_command(prism: list[str] | str | None = None) -> list[str]:
    """The command that runs prism's CLI: ``prism``, else ``$PRISM_CMD``, else this checkout's
    ``deno run -A cli.ts``."""
    if prism is None:
        prism = os.environ.get("PRISM_CMD")
    if prism is None:
        return ["deno", "run", "-A", str(_REPO / "cli.ts")]
    return shlex.split(prism) if isinstance(prism, str) else list(prism)


def _worker() -> str:
    """Where this task runs: the Dask worker's address, or the host name outside a worker."""
    try:
        from distributed import get_worker

        return f"worker {get_worker().address} on {socket.gethostname()}"
    except (ImportError, ValueError):
        return f"host {socket.gethostname()}"


def run_prism(cmd: list[str], args: list[str], what: str) -> str:
    """Runs ``cmd + args`` and returns its stdout; raises PrismShardError naming ``what`` and
    the worker on failure."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    try:
        done = subprocess.run(cmd + args, capture_output=True, text=True, env=env, check=False)
    except FileNotFoundError as e:
        raise PrismShardError(
            f"{what} on {_worker()}: the prism command {cmd[0]!r} was not found there; install "
            f"Deno and prism on every worker (or pass prism=[...] / set PRISM_CMD)"
        ) from e
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise PrismShardError(
            f"{what} on {_worker()} failed (exit {done.returncode}): {tail}"
        )
    return done.stdout


def shard_task(cmd: list[str], op: str, shard: tuple[str, int | None, int | None],
               extra: list[str]) -> bytes:
    """One shard's state (JSON bytes): ``cli.ts shard --op OP --input PATH [--rows a:b]``."""
    path, start, end = shard
    rows = [] if start is None else ["--rows", f"{start}:{end}"]
    what = f"shard {path}" + ("" if start is None else f" rows {start}:{end}")
    with tempfile.TemporaryDirectory(prefix="prism-shard-") as tmp:
        out = os.path.join(tmp, "state.json")
        run_prism(cmd, ["shard", "--op", op, "--input", path, *rows, *extra, "--out", out], what)
        return Path(out).read_bytes()


def pixel_count_task(cmd: list[str], path: str, extra: list[str]) -> int:
    """The pixels of ``path`` (what ``--rows`` counts), from an empty shard's ``--json`` summary."""
    with tempfile.TemporaryDirectory(prefix="prism-count-") as tmp:
        out = os.path.join(tmp, "empty.json")
        args = ["--json", "shard", "--op", "cov", "--input", path, "--rows", "0:0", *extra,
                "--out", out]
        return int(json.loads(run_prism(cmd, args, f"counting the pixels of {path}"))["file_pixels"])


def merge_task(cmd: list[str], states: list[bytes], finish: str | None,
               extra: list[str]) -> bytes:
    """Merges states (JSON bytes); with ``finish`` (an extension: json, h5, npy) finishes them
    with ``--finish`` and returns that file's bytes."""
    with tempfile.TemporaryDirectory(prefix="prism-merge-") as tmp:
        paths = []
        for i, state in enumerate(states):
            paths.append(os.path.join(tmp, f"in{i}.json"))
            Path(paths[-1]).write_bytes(state)
        out = os.path.join(tmp, f"out.{finish or 'json'}")
        args = ["merge", *paths, "--out", out, *(["--finish", *extra] if finish else [])]
        run_prism(cmd, args, f"merge of {len(states)} states")
        return Path(out).read_bytes()


def score_task(cmd: list[str], model: tuple[str, bytes],
               shard: tuple[str, int | None, int | None], out: str, extra: list[str]) -> str:
    """Scores one shard with a fitted detector (``model``: its file name and bytes) into
    ``out`` (written by prism atomically); returns ``out``."""
    path, start, end = shard
    rows = [] if start is None else ["--rows", f"{start}:{end}"]
    what = f"RX scoring of shard {path}" + ("" if start is None else f" rows {start}:{end}")
    with tempfile.TemporaryDirectory(prefix="prism-score-") as tmp:
        model_path = os.path.join(tmp, model[0])
        Path(model_path).write_bytes(model[1])
        args = ["shard", "--op", "rx-score", "--model", model_path, "--input", path, *rows,
                *extra, "--out", out]
        run_prism(cmd, args, what)
    return out
