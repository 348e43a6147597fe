"""ONNX graphs of choreo's renderer models built with the `onnx` package alone (no PyTorch).

Used for the tiny test fixtures (tests/fixtures/renderer/, kilobytes) and for the benchmark's
generator of pix2pixHD's global size (random weights: speed does not depend on them). The layer
sequence is pix2pixHD's GlobalGenerator (Wang et al. 2018, `networks.py`), the same as
train.py's `GlobalGenerator`:

    ReflectionPad 3, Conv 7x7 -> ngf, InstanceNorm, ReLU
    n_down x [Conv 3x3 stride 2 (channels x2), InstanceNorm, ReLU]
    n_blocks x ResnetBlock [ReflectionPad 1, Conv 3x3, IN, ReLU, ReflectionPad 1, Conv 3x3, IN] + skip
    n_down x [ConvTranspose 3x3 stride 2 (channels /2), InstanceNorm, ReLU]
    ReflectionPad 3, Conv 7x7 -> 3, Tanh

pix2pixHD's global generator: ngf 64, n_down 4, n_blocks 9 (182 M parameters, a 730 MB ONNX file).
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


class _Graph:
    def __init__(self, seed):
        self.nodes, self.inits, self.n = [], [], 0
        self.rng = np.random.default_rng(seed)

    def name(self, p):
        self.n += 1
        return f"{p}{self.n}"

    def const(self, arr, p="w"):
        nm = self.name(p)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def op(self, typ, ins, p=None, **attrs):
        out = self.name(p or typ.lower())
        self.nodes.append(helper.make_node(typ, ins, [out], **attrs))
        return out

    def conv(self, x, cin, cout, k, stride=1, pad=0, std=None):
        std = std if std is not None else np.sqrt(2.0 / (cin * k * k))
        w = self.const((self.rng.standard_normal((cout, cin, k, k)) * std).astype(np.float32))
        b = self.const(np.zeros(cout, np.float32), "b")
        return self.op("Conv", [x, w, b], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)

    def deconv(self, x, cin, cout, k=3):
        std = np.sqrt(2.0 / (cin * k * k))
        w = self.const((self.rng.standard_normal((cin, cout, k, k)) * std).astype(np.float32))
        b = self.const(np.zeros(cout, np.float32), "b")
        return self.op("ConvTranspose", [x, w, b], kernel_shape=[k, k], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])

    def reflect(self, x, p):
        pads = self.const(np.array([0, 0, p, p, 0, 0, p, p], np.int64), "pads")
        return self.op("Pad", [x, pads], mode="reflect")

    def inorm(self, x, c):
        s = self.const(np.ones(c, np.float32), "s")
        b = self.const(np.zeros(c, np.float32), "b")
        return self.op("InstanceNormalization", [x, s, b], epsilon=1e-5)

    def relu(self, x):
        return self.op("Relu", [x])


def _model(g, inp, out, in_shape, out_shape, name):
    graph = helper.make_graph(
        g.nodes, name,
        [helper.make_tensor_value_info(inp, TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)],
        g.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="choreo tools/renderer")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def global_generator(ngf=64, n_down=4, n_blocks=9, size=None, seed=0, out_scale=1.0):
    """pix2pixHD GlobalGenerator: input "pose_map" [N,3,H,W] -> output "image" [N,3,H,W] (tanh).
    `size` fixes H = W (None: dynamic). `out_scale` scales the last conv's weights (the tiny
    fixture uses a small value so its output is a smooth function of the pose map)."""
    g = _Graph(seed)
    x = g.reflect("pose_map", 3)
    x = g.relu(g.inorm(g.conv(x, 3, ngf, 7), ngf))
    c = ngf
    for _ in range(n_down):
        x = g.relu(g.inorm(g.conv(x, c, c * 2, 3, stride=2, pad=1), c * 2))
        c *= 2
    for _ in range(n_blocks):
        y = g.relu(g.inorm(g.conv(g.reflect(x, 1), c, c, 3), c))
        y = g.inorm(g.conv(g.reflect(y, 1), c, c, 3), c)
        x = g.op("Add", [x, y])
    for _ in range(n_down):
        x = g.relu(g.inorm(g.deconv(x, c, c // 2), c // 2))
        c //= 2
    x = g.conv(g.reflect(x, 3), c, 3, 7, std=out_scale * np.sqrt(2.0 / (c * 49)))
    out = g.op("Tanh", [x], p="image")
    hw = [size, size] if size else ["H", "W"]
    return _model(g, "pose_map", out, ["N", 3, *hw], ["N", 3, *hw], "choreo_generator")


def face_residual(nf=8, n_layers=2, side=None, seed=1, out_scale=0.1):
    """Face residual net: input "face_in" [N,6,h,w] (generated crop RGB, pose-map crop RGB) ->
    "residual" [N,3,h,w] (tanh). Stride-1 convolutions only, so any crop side works."""
    g = _Graph(seed)
    x = g.relu(g.conv("face_in", 6, nf, 3, pad=1))
    for _ in range(n_layers - 1):
        x = g.relu(g.conv(x, nf, nf, 3, pad=1))
    x = g.conv(x, nf, 3, 3, pad=1, std=out_scale * np.sqrt(2.0 / (nf * 9)))
    out = g.op("Tanh", [x], p="residual")
    hw = [side, side] if side else ["h", "w"]
    return _model(g, "face_in", out, ["N", 6, *hw], ["N", 3, *hw], "choreo_face")


def wrong_input(size=64):
    """A model outside the contract: input [1,4,S,S] (RGBA), output [1,3,S,S]."""
    g = _Graph(2)
    x = g.conv("rgba", 4, 3, 1)
    out = g.op("Tanh", [x], p="image")
    return _model(g, "rgba", out, [1, 4, size, size], [1, 3, size, size], "wrong_input")


def param_count(m):
    return sum(int(np.prod(t.dims)) for t in m.graph.initializer)
