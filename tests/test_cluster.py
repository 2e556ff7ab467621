"""``redact run --cluster`` on a real local Ray cluster: a head without CPUs and two worker nodes of one CPU each.

The same outputs and audit records as a local run; a worker process killed in the middle of a file, a node
removed, the driver killed with ``kill -9`` and run again, and a file that fails: nothing is lost, nothing is
recorded twice, no output is partial. The misbehaving detectors come from ``fault_plugins`` (entry points).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, SAMPLES
from fault_plugins import install

STORE = 80 * 1024 ** 2  # bytes of object store per node: manifests are small


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    from ray.cluster_utils import Cluster

    control, plugins = tmp_path_factory.mktemp("control"), install(tmp_path_factory.mktemp("site"))
    env = {"HOME": str(tmp_path_factory.mktemp("home")),  # Ray writes its token and files under ~/.ray
           "PYTHONPATH": os.pathsep.join(p for p in (str(plugins), os.environ.get("PYTHONPATH")) if p),
           "REDACT_TEST_CONTROL": str(control), "OMP_NUM_THREADS": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the nodes' processes inherit it
    sys.path.insert(0, str(plugins))
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": STORE})
    for _ in range(2):
        cluster.add_node(num_cpus=1, object_store_memory=STORE)
    cluster.wait_for_nodes()
    yield SimpleNamespace(cluster=cluster, address=cluster.address, control=control, env=dict(os.environ))
    cluster.shutdown()
    sys.path.remove(str(plugins))
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def small_images(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
    return folder


def file_records(audit: Path) -> list[dict]:
    return [r for r in map(json.loads, audit.read_text().splitlines()) if r["type"] == "file"]


def assert_each_file_once(out: Path, inputs: Path) -> None:
    """Every input has exactly one ok record and its output; no temporary file is left."""
    ok = [r["input"] for r in file_records(out / "audit.jsonl") if r["status"] == "ok"]
    names = sorted(p.name for p in inputs.iterdir())
    assert sorted(Path(i).name for i in ok) == names
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".") and p.suffix == ".png") == names
    assert [p for p in out.rglob("*") if ".redact-tmp" in p.name] == []


def comparable(audit: Path) -> dict[str, list[dict]]:
    """The audit's records by file, without times, durations, the chain, the host and the output folder."""
    root = str(audit.parent)
    by_file: dict[str, list[dict]] = {}
    for line in audit.read_text().splitlines():
        r = json.loads(line.replace(root, "OUT"))
        for key in ("time", "seconds", "prev", "hash", "host", "cwd"):
            r.pop(key, None)
        by_file.setdefault(r.get("file") or r.get("input") or r["type"], []).append(r)
    return by_file


def test_same_outputs_and_audit_as_a_local_run_and_a_bad_file_does_not_stop_the_others(ray_cluster, tmp_path):
    import redact
    from redact.cluster import redact_on_cluster

    src = tmp_path / "in"
    src.mkdir()
    for name in ("skimage_astronaut.png", "facexlib_test.jpg", "gcompris_music_ireland.webp"):
        (src / name).write_bytes((SAMPLES / "photos" / name).read_bytes())
    (src / "broken.png").write_bytes((SAMPLES / "photos" / "skimage_astronaut.png").read_bytes()[:3000])
    settings = redact.Settings(style="box", detect=("faces",))
    local = redact.redact_paths([src], tmp_path / "local", settings, command="run")
    remote = redact_on_cluster([src], tmp_path / "cluster", settings, address=ray_cluster.address)
    assert (remote.ok, remote.failed, remote.exit_code) == (local.ok, local.failed, local.exit_code) == (3, 1, 1)
    for name in ("skimage_astronaut.png", "facexlib_test.jpg", "gcompris_music_ireland.webp"):
        assert (tmp_path / "cluster" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    assert not (tmp_path / "cluster" / "broken.png").exists()
    assert comparable(tmp_path / "cluster" / "audit.jsonl") == comparable(tmp_path / "local" / "audit.jsonl")


def test_a_worker_killed_in_the_middle_of_a_file_has_the_file_redone(ray_cluster, small_images, tmp_path):
    from redact.cluster import redact_on_cluster
    from redact.core.settings import Settings

    (ray_cluster.control / "crashed").unlink(missing_ok=True)
    report = redact_on_cluster([small_images], tmp_path / "out", Settings(style="box", detect=("crash_once",)),
                               address=ray_cluster.address)
    assert (ray_cluster.control / "crashed").exists()  # a worker process did die
    assert (report.ok, report.failed) == (6, 0)
    assert_each_file_once(tmp_path / "out", small_images)


def test_the_driver_killed_and_run_again_finishes_without_redoing_finished_files(ray_cluster, small_images,
                                                                                  tmp_path):
    from redact.audit import verify

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "redact", "run", str(small_images), "-o", str(out), "--cluster",
           ray_cluster.address, "--detect", "slow", "--style", "box"]
    driver = subprocess.Popen(cmd, cwd=ROOT, env=ray_cluster.env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and driver.poll() is None:
        audit = out / "audit.jsonl"
        if audit.exists() and sum(r["status"] == "ok" for r in file_records(audit)) >= 2:
            break
        time.sleep(0.2)
    assert driver.poll() is None, driver.stderr.read()
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    done_before = {r["input"] for r in file_records(out / "audit.jsonl") if r["status"] == "ok"}
    assert 2 <= len(done_before) < 6
    rerun = subprocess.run(cmd, cwd=ROOT, env=ray_cluster.env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    records = file_records(out / "audit.jsonl")
    assert {r["input"] for r in records if r["status"] == "skipped"} == done_before
    assert_each_file_once(out, small_images)
    assert verify(out / "audit.jsonl")[0]


def test_a_node_removed_in_the_middle_of_a_file_sends_its_file_elsewhere(ray_cluster, small_images, tmp_path):
    """Last in this module: it leaves the cluster one node short."""
    from redact.cluster import redact_on_cluster
    from redact.core.settings import Settings

    stalled = ray_cluster.control / "stalled"
    stalled.unlink(missing_ok=True)
    removed = []

    def remove_the_stalled_node():
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            node_id = stalled.read_text() if stalled.exists() else ""
            if node_id:
                node = next(n for n in ray_cluster.cluster.worker_nodes if n.node_id == node_id)
                ray_cluster.cluster.remove_node(node, allow_graceful=False)
                removed.append(node_id)
                return
            time.sleep(0.2)

    remover = threading.Thread(target=remove_the_stalled_node, daemon=True)
    remover.start()
    report = redact_on_cluster([small_images], tmp_path / "out", Settings(style="box", detect=("stall_once",)),
                               address=ray_cluster.address)
    remover.join(timeout=5)
    assert removed, "no worker stalled"
    assert (report.ok, report.failed) == (6, 0)
    assert_each_file_once(tmp_path / "out", small_images)
