#!/usr/bin/env python3
"""Acceptance test of the Ray build (issue 15); run by tools/test.sh with vendor/venv-cluster's Python.

1. A small video corpus: vendor/media/vtest.avi (80 s, 10 fps) and three 10-s clips cut from it,
   each given an audio track (Tang2018 music from ../shared, else a generated click track).
2. The single-machine reference: `choreo index build --corpus` on a copy of the corpus (its own
   pose cache).
3. The Ray build: a local Ray with 2 worker CPUs (two pose tasks at a time), 2 shards; while it
   runs, the Ray worker detecting the long video is killed (SIGKILL): Ray retries the task.
4. Compared: the fragment store (every fragment's dance, start, poses, continuation, pose and
   audio embedding) byte for byte, the manifest's sources (names, frames, fragment counts), and
   also the graph byte for byte (the shards merge in corpus order, so the insertion order is the
   same; a different order would change only the graph).
5. Bad input: a video that fails on every try and one that hangs (killed by --task-timeout) are
   listed in the report and left out; an unreachable --address is a one-line error.
Prints "cluster: N passed, M failed"; exit 1 on any failure.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHOREO = ROOT / "target/release/choreo"
DRIVER = ROOT / "tools/cluster/build_index.py"
PY = sys.executable
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + str(detail)}", flush=True)


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def make_corpus(dst):
    vt = ROOT / "vendor/media/vtest.avi"
    if not vt.is_file():
        vt = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
    if not vt.is_file():
        return None
    songs = sorted((ROOT.parent / "shared/data/tang2018").glob("DANCE_*/audio.mp3"))[:4]
    dst.mkdir(parents=True)
    for i, (name, start, secs) in enumerate([("vtest.mkv", 0, 80), ("clip1.mp4", 10, 10), ("clip2.mp4", 35, 10), ("clip3.mp4", 60, 10)]):
        if songs:
            audio = ["-ss", str(10 * i), "-i", str(songs[i % len(songs)])]
        else:  # a click every half second
            audio = ["-f", "lavfi", "-i", f"aevalsrc='if(lt(mod(t,0.5),0.02),sin(2*PI*1000*t),0)':s=44100:d={secs}"]
        video = ["-c:v", "copy"] if name.endswith(".mkv") else ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        ffmpeg("-ss", str(start), "-t", str(secs), "-i", str(vt), *audio, "-map", "0:v:0", "-map", "1:a:0", "-t", str(secs), *video, "-c:a", "aac", str(dst / name))
    return dst


def driver(*args, **kw):
    return subprocess.Popen([PY, str(DRIVER), "--choreo", str(CHOREO), "--pose-model", "lightning", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def children_running(marker):
    """(pid, ppid) of the `choreo corpus cache` processes whose command line contains marker."""
    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().split(b"\0")
            status = (p / "status").read_text()
        except OSError:
            continue
        if len(cmd) > 3 and cmd[1:3] == [b"corpus", b"cache"] and marker.encode() in cmd[3]:
            ppid = int(next(l.split()[1] for l in status.splitlines() if l.startswith("PPid:")))
            found.append((int(p.name), ppid))
    return found


def index_files(ix):
    m = json.loads((Path(ix) / "manifest.json").read_text())
    g = Path(ix) / m["generation"]
    return (g / m["store_file"]).read_bytes(), (g / m["graph_file"]).read_bytes(), m


def main():
    t_start = time.time()
    ci = os.environ.get("CI")
    if not CHOREO.is_file():
        print(f"cluster: {CHOREO} missing (cargo build --release --locked)")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="choreo-cluster-"))
    try:
        corpus = make_corpus(tmp / "corpus")
        if corpus is None:
            print("cluster: skipped: no vtest.avi (run tools/setup.sh)")
            return 1 if ci else 0
        ref = tmp / "ref"
        shutil.copytree(corpus, ref)

        t = time.time()
        p = subprocess.run([str(CHOREO), "index", "build", "--corpus", str(ref), "--pose-model", "lightning", "--out", str(tmp / "ix_single")], capture_output=True, text=True)
        t_single = time.time() - t
        check("single-machine build", p.returncode == 0, p.stderr)

        # The Ray build; the worker detecting the 80-s video is killed once, mid-run.
        t = time.time()
        d = driver("--corpus", str(corpus), "--out", str(tmp / "ix_ray"), "--num-cpus", "2", "--shards", "2", "--max-retries", "2", "--report", str(tmp / "report.json"))
        killed = None
        while d.poll() is None and killed is None:
            running = children_running(str(corpus / "vtest.mkv"))
            if running:
                time.sleep(1.5)  # let it get going
                pid, worker = running[0]
                if Path(f"/proc/{pid}").exists():
                    os.kill(worker, signal.SIGKILL)
                    killed = worker
            time.sleep(0.1)
        out, err = d.communicate(timeout=300)
        t_ray = time.time() - t
        check("Ray build exits 0 after a worker was killed", d.returncode == 0 and killed is not None, f"rc {d.returncode}, killed {killed}: {err[-2000:]}")
        if d.returncode == 0:
            rep = json.loads((tmp / "report.json").read_text())
            retried = {Path(r["video"]).name: r["tries"] for r in rep["retried"]}
            check("the killed video was retried, nothing failed", retried.get("vtest.mkv", 0) >= 2 and not rep["failed"] and rep["videos"] == 4, rep)
            a, b = index_files(tmp / "ix_single"), index_files(tmp / "ix_ray")
            check("same fragment store (fragments, poses, embeddings), byte for byte", a[0] == b[0], f"{len(a[0])} vs {len(b[0])} bytes")
            check("same sources", a[2]["sources"] == b[2]["sources"] and a[2]["fragments"] == b[2]["fragments"], (a[2]["sources"], b[2]["sources"]))
            check("same graph (same insertion order)", a[1] == b[1])
            check("shards removed after the merge", not (tmp / ".ix_ray.shards").exists())
            # A rerun finds every video in the cache.
            d2 = driver("--corpus", str(corpus), "--out", str(tmp / "ix_ray"), "--num-cpus", "2", "--shards", "2", "--report", str(tmp / "report2.json"))
            out2, err2 = d2.communicate(timeout=300)
            rep2 = json.loads((tmp / "report2.json").read_text()) if d2.returncode == 0 else {}
            check("a rerun takes every video from the cache", d2.returncode == 0 and rep2.get("from_cache") == 4 and index_files(tmp / "ix_ray")[0] == a[0], err2[-1000:] or rep2)

        # Bad input: a broken video (fails on every try), a hanging one (timeout), one good.
        bad = tmp / "bad"
        bad.mkdir()
        shutil.copy(corpus / "clip1.mp4", bad / "good.mp4")
        (bad / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 and then nothing")
        shutil.copy(corpus / "clip2.mp4", bad / "hang.mp4")
        wrapper = tmp / "choreo-hangs"
        wrapper.write_text(f"#!/bin/sh\ncase \"$*\" in *hang.mp4*) exec sleep 600;; esac\nexec {CHOREO} \"$@\"\n")
        wrapper.chmod(0o755)
        t = time.time()
        d = subprocess.run([PY, str(DRIVER), "--choreo", str(wrapper), "--pose-model", "lightning", "--corpus", str(bad), "--out", str(tmp / "ix_bad"),
                            "--num-cpus", "2", "--max-retries", "1", "--task-timeout", "4", "--report", str(tmp / "bad.json")], capture_output=True, text=True, timeout=240)
        rep = json.loads((tmp / "bad.json").read_text()) if d.returncode == 0 else {}
        failed = {Path(f["video"]).name: f for f in rep.get("failed", [])}
        check("bad videos are listed and left out, the rest is indexed", d.returncode == 0 and set(failed) == {"broken.mp4", "hang.mp4"}
              and "1 dances" in rep.get("index", "") and "left out" in d.stdout, d.stderr[-1500:] + d.stdout)
        if failed:
            check("each failed video was tried 1 + max-retries times; the hang timed out",
                  all(f["tries"] == 2 for f in failed.values()) and "timed out" in failed["hang.mp4"]["error"] and "broken.mp4" in failed["broken.mp4"]["error"], failed)
        print(f"   (bad-input run {time.time() - t:.1f} s)")

        # An unreachable cluster: one line, non-zero, quickly.
        t = time.time()
        d = subprocess.run([PY, str(DRIVER), "--corpus", str(corpus), "--out", str(tmp / "ix_none"), "--address", "127.0.0.1:9"], capture_output=True, text=True, timeout=120)
        lines = [l for l in d.stderr.splitlines() if l.strip()]
        check("unreachable --address: one-line error, exit 1, within 15 s", d.returncode == 1 and len(lines) == 1 and "127.0.0.1:9" in lines[0] and time.time() - t < 15, d.stderr)
        check("nothing written for it", not (tmp / "ix_none").exists())
        print(f"   timings: single-machine build {t_single:.1f} s, Ray build (2 workers, one killed) {t_ray:.1f} s, whole test {time.time() - t_start:.1f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n_ok = sum(results)
    print(f"cluster: {n_ok} passed, {len(results) - n_ok} failed")
    return 0 if n_ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
