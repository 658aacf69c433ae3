"""prism_dask on a real cluster of processes: a Dask LocalCluster with two worker processes on
127.0.0.1 computes the covariance, RX fit and RX scores of a synthetic multi-file dataset, and the
answers match one process over the same pixels (within float32 block rounding) and float64
numpy; a worker killed mid-run changes nothing. Run from integrations/dask:
``python3 -m unittest tests.test_cluster``; tests/dask_test.ts does it for ``deno task test``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import numpy as np
from distributed import Client, LocalCluster

import prism_dask
from prism_dask._run import prism_command

BANDS = 6
# Odd sizes: a one-line image, primes, and the rest.
SHAPES = [(7, 13), (1, 17), (29, 5), (11, 11), (13, 3)]
# float32 sums inside the kernels' blocks: relative to the largest variance.
RTOL = 2e-5


def make_dataset(folder: str) -> tuple[list[str], np.ndarray]:
    """Five H x W x C float32 cubes far from zero with a few planted anomalies."""
    rng = np.random.default_rng(13)
    mix = rng.standard_normal((BANDS, BANDS))
    files, parts = [], []
    for i, (h, w) in enumerate(SHAPES):
        cube = (rng.standard_normal((h, w, BANDS)) @ mix * 3 + 500).astype(np.float32)
        cube[0, 0] += 40  # an anomaly in every file
        path = os.path.join(folder, f"cube{i}.npy")
        np.save(path, cube)
        files.append(path)
        parts.append(cube.reshape(-1, BANDS))
    return files, np.concatenate(parts)


def load_json(path: str):
    with open(path) as f:
        return json.load(f)


def cli(*args: str) -> None:
    subprocess.run(prism_command() + list(args), check=True, capture_output=True)


class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="prism-dask-test-")
        cls.dir = cls.tmp.name
        cls.files, cls.pixels = make_dataset(cls.dir)
        # One process over the same pixels: every file's pixels in one file, in order.
        cls.all = os.path.join(cls.dir, "all.npy")
        np.save(cls.all, cls.pixels)
        cls.ref = os.path.join(cls.dir, "ref.json")
        cli("cov", "--input", cls.all, "--out", cls.ref)
        cls.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None)
        cls.client = Client(cls.cluster)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.cluster.close()
        cls.tmp.cleanup()

    def assert_matches_single_process(self, mean, cov):
        ref = load_json(self.ref)
        scale = np.max(np.diag(ref["covariance"]))
        np.testing.assert_allclose(mean, ref["mean"], rtol=0, atol=RTOL * 500)
        np.testing.assert_allclose(cov, ref["covariance"], rtol=0, atol=RTOL * scale)
        # And float64 numpy over the same pixels.
        x = self.pixels.astype(np.float64)
        np.testing.assert_allclose(cov, np.cov(x.T), rtol=0, atol=RTOL * scale)
        np.testing.assert_allclose(mean, x.mean(0), rtol=0, atol=RTOL * 500)

    def test_cov_and_rx_over_files_match_one_process(self):
        out = prism_dask.fit(self.client, self.files, op="cov", out=f"{self.dir}/cov.json",
                             args=["--layout", "hwc"], fan_in=2)
        got = load_json(out)
        self.assertEqual(got["count"], len(self.pixels))
        self.assert_matches_single_process(got["mean"], got["covariance"])

        rx = prism_dask.fit(self.client, self.files, op="rx-fit", out=f"{self.dir}/rx.json",
                            args=["--layout", "hwc"], finish_args=["--eps", "1e-6"])
        model = load_json(rx)
        self.assertEqual((model["format"], model["count"]), ("prism.rx", len(self.pixels)))
        self.assert_matches_single_process(
            model["mean"], np.reshape(model["covariance"], (BANDS, BANDS)))

        # Scores per shard, against the single-process rx of every pixel and float64 numpy.
        scores_dir = os.path.join(self.dir, "scores")
        os.mkdir(scores_dir)
        paths = prism_dask.score(self.client, rx, self.files, out_dir=scores_dir,
                                 args=["--layout", "hwc"])
        self.assertEqual(len(paths), len(self.files))
        got = np.concatenate([np.load(p).reshape(-1) for p in paths])
        cli("rx", "--input", self.all, "--out", f"{self.dir}/rx_all.npy")
        one = np.load(f"{self.dir}/rx_all.npy")
        np.testing.assert_allclose(got, one, rtol=1e-3, atol=1e-3)
        x = self.pixels.astype(np.float64)
        d = x - x.mean(0)
        inv = np.linalg.inv(np.cov(x.T) + 1e-6 * np.eye(BANDS))
        np.testing.assert_allclose(got, np.einsum("ij,jk,ik->i", d, inv, d), rtol=1e-3, atol=1e-3)
        self.assertGreater(got[0], np.median(got) * 5)  # the planted anomaly stands out

    def test_bad_input_names_the_shard_and_the_worker(self):
        with self.assertRaisesRegex(prism_dask.PrismShardError, "cannot reach the Dask scheduler"):
            prism_dask.connect("tcp://127.0.0.1:9", timeout=2)
        with self.assertRaisesRegex(prism_dask.PrismShardError,
                                    r"shard .*cube0\.npy on worker tcp://127\.0\.0\.1:\d+ .*"
                                    r"'/nonexistent/deno' was not found there"):
            prism_dask.fit(self.client, self.files[:1], out=f"{self.dir}/x.json",
                           prism=["/nonexistent/deno", "run"])
        # The same file twice: refused by the merge on a worker, naming both shards.
        with self.assertRaisesRegex(prism_dask.PrismShardError,
                                    r"merge of 2 states on worker tcp://127\.0\.0\.1.*"
                                    r"cube1\.npy rows 0:17 .*same shard merged twice"):
            prism_dask.fit(self.client, [self.files[1]] * 2, out=f"{self.dir}/x.json",
                           args=["--layout", "hwc"])
        # Another band count in one of the files.
        other = os.path.join(self.dir, "seven.npy")
        np.save(other, np.ones((3, 4, BANDS + 1), np.float32) + np.arange(BANDS + 1))
        with self.assertRaisesRegex(prism_dask.PrismShardError, "7 and 6 bands|6 and 7 bands"):
            prism_dask.fit(self.client, [self.files[0], other], out=f"{self.dir}/x.json",
                           args=["--layout", "hwc"])
        self.assertFalse(os.path.exists(f"{self.dir}/x.json"))

    def test_row_shards_of_one_file_and_a_killed_worker(self):
        before = self.client.run(os.getpid)
        result = {}

        def run():
            try:
                result["out"] = prism_dask.fit(self.client, self.all, op="gram",
                                               out=f"{self.dir}/sv.json", shard_rows=61)
            except BaseException as e:  # reported by the main thread
                result["error"] = e

        worker = threading.Thread(target=run)
        worker.start()
        # Kill one worker process as soon as the first shard's state exists.
        deadline = time.time() + 60
        done = 0
        while done == 0 and time.time() < deadline and worker.is_alive():
            done = self.client.run_on_scheduler(
                lambda dask_scheduler: sum(ts.state == "memory" and "shard_task" in str(ts.key)
                                           for ts in dask_scheduler.tasks.values()))
            time.sleep(0.05)
        self.assertTrue(worker.is_alive(), "the fit ended before a worker could be killed")
        victim = sorted(before)[0]
        os.kill(before[victim], signal.SIGKILL)
        worker.join(120)
        self.assertFalse(worker.is_alive(), "the fit did not finish after the kill")
        if "error" in result:
            raise result["error"]
        after = self.client.run(os.getpid)
        self.assertNotIn(before[victim], after.values(), "the killed worker was not replaced")
        got = load_json(result["out"])
        x = self.pixels.astype(np.float64)
        want = np.linalg.svd(x, compute_uv=False)
        self.assertEqual(got["count"], len(self.pixels))
        np.testing.assert_allclose(got["singular_values"], want, rtol=0, atol=RTOL * want[0])


if __name__ == "__main__":
    unittest.main()
