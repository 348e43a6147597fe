"""Writes the tiny ONNX models the Rust tests use (tests/fixtures/renderer/), with the `onnx`
package only: a pix2pixHD-shaped generator at toy width (ngf 4, one downsampling, one residual
block; dynamic N, H, W; and the same with H = W fixed at 128), a face residual net, and a model of the wrong input shape.

    python3 tools/renderer/make_fixtures.py [OUT_DIR]
"""

import os
import sys

import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_graphs import face_residual, global_generator, param_count, wrong_input  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "renderer")
os.makedirs(out, exist_ok=True)
for name, m in [
    ("tiny_generator.onnx", global_generator(ngf=4, n_down=1, n_blocks=1, seed=0, out_scale=0.5)),
    ("tiny_generator_128.onnx", global_generator(ngf=4, n_down=1, n_blocks=1, size=128, seed=0, out_scale=0.5)),
    ("tiny_face.onnx", face_residual(nf=4, n_layers=2, seed=1)),
    ("wrong_input.onnx", wrong_input(64)),
]:
    p = os.path.join(out, name)
    onnx.save(m, p)
    print(f"{p}: {param_count(m)} parameters, {os.path.getsize(p)} bytes")
