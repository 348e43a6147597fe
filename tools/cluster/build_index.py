#!/usr/bin/env python3
"""Build a choreo index of a large video corpus on a Ray cluster (issue 15).

  vendor/venv-cluster/bin/python tools/cluster/build_index.py --corpus /shared/videos --out /shared/index/all
  ... --address HEAD_IP:6379 --gpus-per-task 1 --pose-model thunder

Three steps, all through the `choreo` binary (no scheduling of its own in choreo):
 1. Pose extraction, one Ray task per video: `choreo corpus cache VIDEO` detects the poses into
    the content-hash pose cache (and extracts the audio track). A video already cached costs one
    hash of its bytes, so a rerun skips finished videos; a task whose worker or node dies is
    retried (--max-retries) and loses only that video's work. A video that fails on every try
    (or runs past --task-timeout) is listed in the report and left out.
 2. One index shard per node-sized group of videos, in corpus order: `choreo index build
    --from-cache --dance ...` (embeds the cached poses and music; runs no pose model). Shards are
    named by their position and a hash of what goes in, so a rerun reuses finished shards.
 3. `choreo index merge` of the shards into --out, atomically (a new generation of the index).
Merged in corpus order, the result is byte for byte the index `choreo index build --corpus` gives
on one machine (fragment store and graph); tools/cluster/test_cluster.py checks it.

Everything the tasks touch must be at the same path on every node: the corpus, the pose cache,
the choreo binary (with its vendor/onnxruntime) and the models. Errors are one line on stderr
("build_index: ...") with exit status 1.
"""

import argparse
import ctypes
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Fail(Exception):
    """A one-line error for the user."""


def die(msg):
    print(f"build_index: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def last_line(text, default):
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    return lines[-1] if lines else default


def _die_with_parent():
    # The choreo child dies with the Ray worker that runs it (Linux PR_SET_PDEATHSIG = 1).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def run_choreo(cmd, timeout):
    """Runs choreo; returns its stdout; raises RuntimeError with its one-line error."""
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout if timeout and timeout > 0 else None, preexec_fn=_die_with_parent)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timed out after {timeout:g} s")
    if p.returncode != 0:
        raise RuntimeError(last_line(p.stderr, f"choreo exited with status {p.returncode}"))
    return p.stdout, p.stderr


# ---- the Ray tasks (plain functions, wrapped with ray.remote in main) ----

def pose_task(choreo, video, model, pose_model, cache_dir, device, timeout, attempts_dir):
    """Step 1 for one video: fills the pose cache; returns `choreo corpus cache --json`'s object."""
    if attempts_dir:
        tag = hashlib.sha1(video.encode()).hexdigest()[:16]
        Path(attempts_dir, f"{tag}.{socket.gethostname()}.{os.getpid()}.{time.time_ns()}").touch()
    cmd = [choreo, "corpus", "cache", video, "--model", model, "--pose-model", pose_model, "--device", device, "--json"]
    if cache_dir:
        cmd += ["--cache-dir", cache_dir]
    out, _ = run_choreo(cmd, timeout)
    return json.loads(out.strip().splitlines()[-1])


def shard_task(choreo, videos, model, pose_model, cache_dir, out, timeout):
    """Step 2 for one group: an index shard from the cached poses; returns choreo's warnings."""
    if Path(out, "manifest.json").is_file():
        try:
            run_choreo([choreo, "index", "info", out], timeout)
            return {"reused": True, "warnings": []}
        except RuntimeError:
            pass  # not a whole index: build it again (the commit replaces it)
    cmd = [choreo, "index", "build", "--model", model, "--from-cache", "--pose-model", pose_model, "--out", out, "--force"]
    if cache_dir:
        cmd += ["--cache-dir", cache_dir]
    cmd += ["--dance", *videos]
    _, err = run_choreo(cmd, timeout)
    return {"reused": False, "warnings": [l for l in err.splitlines() if l.startswith("choreo: warning")]}


# ---- the driver ----

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Example:\n  vendor/venv-cluster/bin/python tools/cluster/build_index.py --corpus videos/ --out index/videos\n"
                                        "  ... --address 10.0.0.1:6379 --gpus-per-task 1 --cache-dir /shared/cache")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--corpus", help="a video corpus folder (videos side by side), on storage every node sees")
    src.add_argument("--videos", nargs="+", help="video files instead of a corpus folder (kept in this order)")
    ap.add_argument("--out", required=True, help="the final index folder")
    ap.add_argument("--model", default=str(ROOT / "models/encoders.safetensors"), help="the encoder (default: the shipped one)")
    ap.add_argument("--pose-model", default="thunder", help="thunder (default), lightning or an .onnx path")
    ap.add_argument("--cache-dir", help="pose cache folder (default: .choreo-cache beside each video)")
    ap.add_argument("--choreo", default=str(ROOT / "target/release/choreo"), help="the choreo binary (same path on every node)")
    ap.add_argument("--address", help="an existing Ray cluster (HOST:PORT of the head, or 'auto'); default: a local Ray")
    ap.add_argument("--num-cpus", type=int, help="local Ray only: worker CPUs (default: all)")
    ap.add_argument("--cpus-per-task", type=float, default=1, help="CPUs per pose task (default 1)")
    ap.add_argument("--gpus-per-task", type=float, default=0, help="GPUs per pose task; > 0 runs the pose model with --device cuda")
    ap.add_argument("--max-retries", type=int, default=2, help="retries of a failed or lost task (default 2)")
    ap.add_argument("--task-timeout", type=float, default=3600, help="seconds one choreo call may run (default 3600; 0 = none)")
    ap.add_argument("--shards", type=int, help="index shards (default: the cluster's alive nodes)")
    ap.add_argument("--cpus-per-shard", type=float, default=1, help="CPUs per shard task (default 1)")
    ap.add_argument("--work", help="shard folder (default: .OUT.shards beside --out)")
    ap.add_argument("--keep-shards", action="store_true", help="keep the shards after the merge")
    ap.add_argument("--connect-timeout", type=float, default=30, help="seconds to reach --address (default 30)")
    ap.add_argument("--report", help="also write the report as JSON here")
    a = ap.parse_args(argv)
    if a.max_retries < 0 or a.cpus_per_task <= 0 or a.gpus_per_task < 0 or (a.shards is not None and a.shards < 1):
        raise Fail("--max-retries must be >= 0, --cpus-per-task > 0, --gpus-per-task >= 0, --shards >= 1")
    return a


def natural_videos(choreo, corpus):
    try:
        out, _ = run_choreo([choreo, "corpus", "list", "--corpus", corpus, "--json"], 600)
    except RuntimeError as e:
        raise Fail(str(e).removeprefix("choreo: "))
    j = json.loads(out)
    if j["format"] != "video":
        raise Fail(f"{corpus}: a {j['format']} corpus, not videos; build it with `choreo index build --corpus`")
    return j["dances"]


def check_reachable(address, timeout):
    """An unreachable head is a one-line error in seconds (ray.init would retry for minutes)."""
    if address == "auto":
        return
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise Fail(f"--address {address}: expected HOST:PORT (or 'auto')")
    try:
        socket.create_connection((host, int(port)), timeout=min(timeout, 10)).close()
    except OSError as e:
        raise Fail(f"cannot reach the Ray cluster at {address}: {e.strerror or e}")


def connect(ray, a):
    # A watchdog: a head that accepts the connection but never answers still ends in one line.
    done = threading.Event()

    def watchdog():
        if not done.wait(a.connect_timeout + (0 if a.address else 120)):
            print(f"build_index: no answer from the Ray cluster at {a.address or 'local'} within the time allowed", file=sys.stderr, flush=True)
            os._exit(1)

    threading.Thread(target=watchdog, daemon=True).start()
    kw = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR", configure_logging=True)
    try:
        if a.address:
            check_reachable(a.address, a.connect_timeout)
            ray.init(address=a.address, **kw)
        else:
            ray.init(num_cpus=a.num_cpus, object_store_memory=200 * 2**20, **kw)
    except Fail:
        raise
    except Exception as e:  # noqa: BLE001 - Ray raises many kinds; each becomes one line
        raise Fail(f"cannot connect to the Ray cluster at {a.address or 'local'}: {last_line(str(e), type(e).__name__)}")
    finally:
        done.set()


def groups(items, n):
    """`items` in order, cut into n contiguous groups of near-equal size."""
    n = max(1, min(n, len(items)))
    k, r = divmod(len(items), n)
    out, i = [], 0
    for g in range(n):
        size = k + (1 if g < r else 0)
        out.append(items[i:i + size])
        i += size
    return out


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def main(argv):
    t0 = time.time()
    a = parse_args(argv)
    choreo = str(Path(a.choreo).resolve())
    if not os.access(choreo, os.X_OK):
        raise Fail(f"{choreo}: no choreo binary (build it: cargo build --release --locked)")
    model = str(Path(a.model).resolve())
    if not Path(model).is_file():
        raise Fail(f"{model}: no such encoder")
    pose_model = a.pose_model if a.pose_model in ("thunder", "lightning") else str(Path(a.pose_model).resolve())
    cache_dir = str(Path(a.cache_dir).resolve()) if a.cache_dir else None
    out = Path(a.out).resolve()
    videos = natural_videos(choreo, str(Path(a.corpus).resolve())) if a.corpus else [str(Path(v).resolve()) for v in a.videos]
    if not videos:
        raise Fail("no videos")
    work = Path(a.work).resolve() if a.work else out.parent / f".{out.name}.shards"

    import ray  # after the argument checks: a usage error does not wait for Ray's import
    from tqdm import tqdm

    connect(ray, a)
    attempts = work / "attempts"
    attempts.mkdir(parents=True, exist_ok=True)
    for f in attempts.iterdir():  # a previous run's
        f.unlink()
    res = ray.cluster_resources()
    if res.get("CPU", 0) < a.cpus_per_task or res.get("GPU", 0) < a.gpus_per_task:
        raise Fail(f"no node has the resources asked per task ({a.cpus_per_task:g} CPU, {a.gpus_per_task:g} GPU); the cluster has {res.get('CPU', 0):g} CPU, {res.get('GPU', 0):g} GPU")
    nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
    device = "cuda" if a.gpus_per_task > 0 else "cpu"

    # 1. Poses, one task per video.
    remote_pose = ray.remote(pose_task).options(num_cpus=a.cpus_per_task, num_gpus=a.gpus_per_task, max_retries=a.max_retries, retry_exceptions=True)
    pending = {remote_pose.remote(choreo, v, model, pose_model, cache_dir, device, a.task_timeout, str(attempts)): v for v in videos}
    done, failed = {}, {}
    with tqdm(total=len(videos), unit="video", desc="poses", file=sys.stderr, disable=None) as bar:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for r in ready:
                v = pending.pop(r)
                try:
                    done[v] = ray.get(r)
                except Exception as e:  # noqa: BLE001 - the task's last error, on one line
                    cause = getattr(e, "cause", None) or e
                    failed[v] = last_line(str(cause).replace("RuntimeError:", ""), type(cause).__name__)
                bar.update(1)
    tries = {}
    for f in attempts.iterdir():
        tries[f.name.split(".")[0]] = tries.get(f.name.split(".")[0], 0) + 1
    tag = lambda v: hashlib.sha1(v.encode()).hexdigest()[:16]  # noqa: E731
    ok = [v for v in videos if v in done]
    if not ok:
        raise Fail(f"no video could be processed ({len(failed)} failed; first: {failed[videos[0]] if videos[0] in failed else next(iter(failed.values()))})")

    # 2. Shards: contiguous groups in corpus order, named by position and content.
    enc = sha256_file(model)
    n_shards = a.shards or nodes
    parts = groups(ok, n_shards)
    names = []
    for k, g in enumerate(parts):
        key = json.dumps([enc, pose_model, cache_dir, [(v, done[v]["sha256"]) for v in g]]).encode()
        names.append(str(work / f"shard-{k:04d}-of-{len(parts):04d}-{hashlib.sha256(key).hexdigest()[:12]}"))
    remote_shard = ray.remote(shard_task).options(num_cpus=a.cpus_per_shard, max_retries=a.max_retries, retry_exceptions=True)
    refs = [remote_shard.remote(choreo, g, model, pose_model, cache_dir, n, a.task_timeout) for g, n in zip(parts, names)]
    warnings, reused = [], 0
    with tqdm(total=len(refs), unit="shard", desc="shards", file=sys.stderr, disable=None) as bar:
        left = list(refs)
        while left:
            ready, left = ray.wait(left, num_returns=1, timeout=1.0)
            for r in ready:
                try:
                    s = ray.get(r)
                except Exception as e:  # noqa: BLE001
                    cause = getattr(e, "cause", None) or e
                    raise Fail(f"{names[refs.index(r)]}: {last_line(str(cause).replace('RuntimeError:', ''), type(cause).__name__)}")
                warnings += s["warnings"]
                reused += s["reused"]
                bar.update(1)
    ray.shutdown()

    # 3. Merge (atomic: the index's own commit).
    try:
        merged, _ = run_choreo([choreo, "index", "merge", *names, "--out", str(out)], a.task_timeout)
    except RuntimeError as e:
        raise Fail(str(e).removeprefix("choreo: "))
    if not a.keep_shards:
        import shutil
        shutil.rmtree(work, ignore_errors=True)

    report = {
        "out": str(out),
        "index": merged.strip(),
        "videos": len(videos),
        "detected": sum(1 for v in ok if done[v]["detected"]),
        "from_cache": sum(1 for v in ok if not done[v]["detected"]),
        "failed": [{"video": v, "error": failed[v], "tries": tries.get(tag(v), 0)} for v in videos if v in failed],
        "retried": [{"video": v, "tries": tries[tag(v)]} for v in videos if tries.get(tag(v), 0) > 1],
        "skipped_by_build": warnings,
        "shards": len(names),
        "shards_reused": reused,
        "nodes": nodes,
        "detect_secs": sum(done[v].get("secs", 0) for v in ok),
        "wall_secs": round(time.time() - t0, 2),
    }
    if a.report:
        Path(a.report).write_text(json.dumps(report, indent=2) + "\n")
    print(f"{report['index']} ({len(names)} shards on {nodes} node(s), {report['wall_secs']:.1f} s)")
    print(f"videos: {len(videos)}: {report['detected']} detected, {report['from_cache']} from the cache, {len(failed)} failed")
    for f in report["failed"]:
        print(f"  failed after {f['tries']} tries, left out: {f['video']}: {f['error']}")
    for r in report["retried"]:
        if r["video"] not in failed:
            print(f"  retried ({r['tries']} tries): {r['video']}")
    for w in warnings:
        print(f"  {w.removeprefix('choreo: warning: ')}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fail as e:
        die(e)
    except KeyboardInterrupt:
        die("interrupted")
