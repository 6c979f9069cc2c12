"""Rewrites fer's int8 ONNX export into variants, to measure what limits int8 speed in onnxruntime (#7).

  /usr/bin/python3 bench/int8_variants.py uint8 IN.onnx OUT.onnx
      activations as uint8 with zero point 128 instead of int8 with 0: the same numbers, and the U8S8
      kernels that MLAS prefers on x86.
  /usr/bin/python3 bench/int8_variants.py float-depthwise IN.onnx OUT.onnx
      the first conv and every depthwise conv back in float (their weights dequantized), where MLAS's int8
      kernels lose to its fp32 ones; the other convs stay QLinearConv.

Then: fer bench models/onnx/fer-mini-xception.{fp32,int8}.onnx OUT.onnx --batch 1,64
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def to_uint8(m):
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    weight_zps = {n.input[2] for n in g.node if n.op_type == 'DequantizeLinear' and n.input[0] in inits and len(n.input) > 2}
    act_zps = {n.input[2] for n in g.node if n.op_type == 'QuantizeLinear' and n.input[0] not in inits}
    assert not (act_zps & weight_zps), 'an activation zero point is shared with weights'
    for name in act_zps:
        a = numpy_helper.to_array(inits[name])
        assert (a == 0).all(), name
        inits[name].CopyFrom(numpy_helper.from_array((a.astype(np.int32) + 128).astype(np.uint8), name))


def float_depthwise(m):
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    first = True
    for n in list(g.node):
        if n.op_type != 'Conv':
            continue
        group = next((helper.get_attribute_value(a) for a in n.attribute if a.name == 'group'), 1)
        if not first and group == 1:
            continue
        first = False
        for idx in range(1, len(n.input)):
            dq = producer[n.input[idx]]
            q = numpy_helper.to_array(inits[dq.input[0]]).astype(np.float64)
            s = numpy_helper.to_array(inits[dq.input[1]]).astype(np.float64)
            zp = numpy_helper.to_array(inits[dq.input[2]]).astype(np.float64) if len(dq.input) > 2 else np.zeros(())
            if s.ndim == 1 and q.ndim > 1:  # per-channel: along the DQ's axis
                shape = [1] * q.ndim
                shape[next((helper.get_attribute_value(a) for a in dq.attribute if a.name == 'axis'), 1)] = -1
                s, zp = s.reshape(shape), zp.reshape(shape) if zp.ndim else zp
            name = dq.output[0] + '.float'
            g.initializer.append(numpy_helper.from_array(((q - zp) * s).astype(np.float32), name))
            n.input[idx] = name
            g.node.remove(dq)


mode, src, dst = sys.argv[1:4]
model = onnx.load(src)
{'uint8': to_uint8, 'float-depthwise': float_depthwise}[mode](model)
onnx.checker.check_model(model)
onnx.save(model, dst)
print(f'{dst}: {mode}')
