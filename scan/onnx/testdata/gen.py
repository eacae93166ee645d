#!/usr/bin/python3
"""Writes the ONNX fixtures in this directory with the real onnx package.

Made once on 2026-11-24 with Debian bookworm's python3-onnx 1.12.0:

    apt-get install python3-onnx
    /usr/bin/python3 gen.py

No model is loaded or run by the tests; they only read the files.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

def graph(nodes, inits, name="g"):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    return helper.make_graph(nodes, name, [x], [y], initializer=inits)

w = numpy_helper.from_array(np.array([1.0, 2.0], dtype=np.float32), name="w")
add = helper.make_node("Add", ["x", "w"], ["y"])
onnx.save(helper.make_model(graph([add], [w])), "benign_add.onnx")

# An If whose branches are subgraphs, to exercise nesting.
then_g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "then", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["y"])], "else", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
cond = numpy_helper.from_array(np.array(True), name="c")
if_node = helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)
onnx.save(helper.make_model(graph([if_node], [cond])), "benign_if.onnx")

# External data next to the model: fine.
ext = numpy_helper.from_array(np.array([3.0, 4.0], dtype=np.float32), name="w")
onnx.external_data_helper.set_external_data(ext, location="weights.bin")
ext.ClearField("raw_data")
onnx.save(helper.make_model(graph([add], [ext])), "benign_external.onnx")

# External data escaping the model directory (the ONNX path traversal).
bad = numpy_helper.from_array(np.array([3.0, 4.0], dtype=np.float32), name="w")
onnx.external_data_helper.set_external_data(bad, location="../../../../etc/passwd")
bad.ClearField("raw_data")
onnx.save(helper.make_model(graph([add], [bad])), "evil_external_traversal.onnx")

# A custom operator domain.
custom = helper.make_node("Decrypt", ["x"], ["y"], domain="com.example.secret")
m = helper.make_model(graph([custom], []), opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example.secret", 1)])
onnx.save(m, "custom_domain.onnx")
