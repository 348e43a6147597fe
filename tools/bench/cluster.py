"""The body of tools/bench/cluster.sh (run with vendor/venv-cluster's Python)."""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools/cluster"))
from test_cluster import CHOREO, DRIVER, make_corpus  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--pose-model", default="thunder")
ap.add_argument("--cores-per-node", type=int, default=2, help="for the paper estimate")
a = ap.parse_args()

tmp = Path(tempfile.mkdtemp(prefix="choreo-cluster-bench-"))
try:
    corpus = make_corpus(tmp / "corpus")
    if corpus is None:
        sys.exit("vtest.avi not found: run tools/setup.sh")
    shutil.copytree(corpus, tmp / "ref")
    t = time.time()
    subprocess.run([str(CHOREO), "index", "build", "--corpus", str(tmp / "ref"), "--pose-model", a.pose_model, "--out", str(tmp / "ix1")], check=True, capture_output=True)
    t_single = time.time() - t
    t = time.time()
    subprocess.run([str(CHOREO), "index", "build", "--corpus", str(tmp / "ref"), "--pose-model", a.pose_model, "--out", str(tmp / "ix1b")], check=True, capture_output=True)
    t_cached = time.time() - t
    t = time.time()
    subprocess.run([sys.executable, str(DRIVER), "--corpus", str(corpus), "--out", str(tmp / "ix2"), "--pose-model", a.pose_model, "--num-cpus", "2",
                    "--shards", "2", "--report", str(tmp / "r.json")], check=True, capture_output=True)
    t_ray = time.time() - t
    rep = json.loads((tmp / "r.json").read_text())
    frames = sum(len(json.loads(p.read_text())["frames"]) for p in (corpus / ".choreo-cache").glob("*.poses.json"))
    m = json.loads((tmp / "ix2/manifest.json").read_text())
    same = (tmp / "ix1" / m["generation"] / m["store_file"]).read_bytes() == (tmp / "ix2" / m["generation"] / m["store_file"]).read_bytes()
    per_frame = rep["detect_secs"] / frames  # seconds of one task (one core) per frame, decode included
    print(f"corpus: 4 videos, 110 s, {frames} frames decoded; pose model {a.pose_model}; {m['fragments']} fragments; same fragment store: {same}")
    print(f"single process (choreo index build, cold cache): {t_single:.1f} s   (rebuild from the cache: {t_cached:.1f} s)")
    print(f"Ray, local, 2 workers, 2 shards (cold cache):    {t_ray:.1f} s   (of which in pose tasks: {rep['detect_secs']:.1f} task-s)")
    print(f"speed-up of Ray over the single process: {t_single / t_ray:.2f}x")
    print(f"measured pose cost per frame and core: {per_frame * 1000:.1f} ms ({1 / per_frame:.1f} frames/s per task)")
    hours = 100
    total = hours * 3600 * 24  # frames decoded at 24 fps (videos at >= 24 fps)
    print(f"paper estimate, {hours} h of video at 24 fps = {total / 1e6:.2f} M frames, {a.cores_per_node} cores per node, one task per core:")
    for n in (1, 4, 16, 64):
        h = total * per_frame / (n * a.cores_per_node) / 3600
        print(f"  {n:>3} node(s): poses {h:7.1f} h")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
