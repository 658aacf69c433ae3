"""prism on a Dask cluster: shards mapped over a ``distributed.Client``, merged exactly.

``fit`` runs ``cli.ts shard`` on every file (or row range of a file) on the cluster's workers,
tree-reduces the states with ``cli.ts merge`` (Chan's update in float64, so the result equals
one pass over all pixels up to float32 rounding inside the kernels' blocks) and finishes them into
a covariance, an RX detector or singular values. ``score`` scores every shard with a fitted
detector, one output file per shard. Worker failures are Dask's to retry: a shard is idempotent.

Every worker needs Deno and prism (``prism=[...]`` or ``$PRISM_CMD`` say how to run its CLI;
the default is this checkout's ``deno run -A cli.ts``) and must see the input files under the
same paths; states travel through Dask, so only inputs and score outputs need shared storage.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ._run import (PrismShardError, merge_task, pixel_count_task, prism_command, score_task,
                   shard_task)

__all__ = ["PrismShardError", "connect", "fit", "score", "shards_of"]

#: What ``fit(..., finish=True)`` may write, by operation (``out``'s extension picks one).
FINISH_FORMATS = {"cov": ("json", "h5", "npy"), "rx-fit": ("json", "h5"),
                  "gram": ("json", "h5", "npy")}

Shard = tuple[str, "int | None", "int | None"]


def connect(address: str, timeout: float = 10):
    """A ``distributed.Client`` for the scheduler at ``address`` (``tcp://host:8786``), or a
    PrismShardError saying it cannot be reached."""
    from distributed import Client

    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as e:
        raise PrismShardError(
            f"cannot reach the Dask scheduler at {address} within {timeout} s ({e}); check the "
            f"address, that 'dask scheduler' runs there, and that this machine can reach its port"
        ) from e


def shards_of(client, inputs: str | Sequence[str], *, shard_rows: int | None = None,
              args: Sequence[str] = (), prism=None) -> list[Shard]:
    """The shards of ``inputs``: one per file, or with ``shard_rows`` each file cut into row
    ranges of that many pixels (its pixel count is asked of prism on a worker)."""
    files = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    if not files:
        raise ValueError("inputs is empty: give at least one file")
    files = [os.path.abspath(f) for f in files]
    if shard_rows is None:
        return [(f, None, None) for f in files]
    if not isinstance(shard_rows, int) or shard_rows < 1:
        raise ValueError(f"shard_rows must be a whole number >= 1, got {shard_rows!r}")
    cmd = prism_command(prism)
    counts = client.gather([client.submit(pixel_count_task, cmd, f, list(args), pure=False)
                            for f in files])
    return [(f, a, min(a + shard_rows, n)) for f, n in zip(files, counts)
            for a in range(0, n, shard_rows)]


def fit(client, inputs: str | Sequence[str], *, out: str, op: str = "cov",
        shard_rows: int | None = None, args: Sequence[str] = (), finish: bool = True,
        finish_args: Sequence[str] = (), fan_in: int = 8, prism=None) -> str:
    """Computes ``op`` (``cov``, ``rx-fit``, ``gram``) over every pixel of ``inputs`` on the
    cluster and writes the result to ``out`` (atomically; returned).

    ``args`` go to every ``cli.ts shard`` (``--dataset``, ``--layout``, ``--bands``, ...);
    ``finish_args`` to the final ``cli.ts merge --finish`` (``--eps``, ``--ddof``). With
    ``finish=False``, ``out`` (``.json``) is the merged state, to merge with others later.
    States are merged ``fan_in`` at a time, level by level (a tree), on the workers.
    """
    if op not in FINISH_FORMATS:
        raise ValueError(f"op must be one of {', '.join(FINISH_FORMATS)}, got {op!r}")
    if not isinstance(fan_in, int) or fan_in < 2:
        raise ValueError(f"fan_in must be a whole number >= 2, got {fan_in!r}")
    ext = Path(out).suffix.lstrip(".").lower()
    allowed = FINISH_FORMATS[op] if finish else ("json",)
    if ext not in allowed:
        raise ValueError(f"out {out}: give a .{', .'.join(allowed)} file for op {op!r}"
                         f"{'' if finish else ' without finish'}")
    cmd = prism_command(prism)
    shards = shards_of(client, inputs, shard_rows=shard_rows, args=args, prism=prism)
    level = [client.submit(shard_task, cmd, op, s, list(args), pure=False) for s in shards]
    while len(level) > fan_in:
        level = [client.submit(merge_task, cmd, level[i:i + fan_in], None, [], pure=False)
                 for i in range(0, len(level), fan_in)]
    final = client.submit(merge_task, cmd, level, ext if finish else None, list(finish_args),
                          pure=False)
    _write_atomic(out, final.result())
    return out


def score(client, model: str, inputs: str | Sequence[str], *, out_dir: str,
          shard_rows: int | None = None, args: Sequence[str] = (), ext: str = "npy",
          prism=None) -> list[str]:
    """Scores every shard of ``inputs`` with the fitted RX detector in ``model`` (sent to the
    workers through Dask): one ``.npy`` (or ``.h5``) of float32 scores per shard in ``out_dir``,
    which the workers must be able to write (shared storage). Returns the paths, in shard
    order: ``<stem>.npy`` per file, ``<stem>.<start>-<end>.npy`` per row range."""
    if ext not in ("npy", "h5"):
        raise ValueError(f"ext must be 'npy' or 'h5', got {ext!r}")
    out_dir = os.path.abspath(out_dir)
    if not os.path.isdir(out_dir):
        raise FileNotFoundError(f"out_dir {out_dir} is not a folder; create it first")
    cmd = prism_command(prism)
    payload = (Path(model).name, Path(model).read_bytes())
    shards = shards_of(client, inputs, shard_rows=shard_rows, args=args, prism=prism)
    targets = {}
    for path, start, end in shards:
        stem = Path(path).stem + ("" if start is None else f".{start}-{end}")
        target = os.path.join(out_dir, f"{stem}.{ext}")
        if target in targets:
            raise ValueError(f"{path} and {targets[target][0]} would both be scored into "
                             f"{target}: give inputs with different file names")
        targets[target] = (path, start, end)
    futures = [client.submit(score_task, cmd, payload, shard, target, list(args), pure=False)
               for target, shard in targets.items()]
    return client.gather(futures)


def _write_atomic(path: str, data: bytes) -> None:
    """Writes ``data`` to a temporary file beside ``path`` and renames it into place."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".prism-dask-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
