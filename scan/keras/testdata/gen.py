#!/usr/bin/python3
"""Writes the Keras fixtures in this directory without Keras itself.

The files reproduce the layouts Keras writes: a .keras zip with config.json,
metadata.json and model.weights.h5, and a legacy .h5 whose root group has a
model_config JSON attribute. Made once on 2026-11-24 with the standard
library and Debian bookworm's python3-h5py 3.7.0:

    apt-get install python3-h5py
    /usr/bin/python3 gen.py

The Lambda payload is base64 text standing in for marshalled bytecode; it
is never decoded or run.
"""
import json
import zipfile

import h5py

dense = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
         "config": {"name": "dense", "units": 2, "activation": "relu",
                    "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}, "registered_name": None}}}
inp = {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
       "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input_layer"}}


def model(layers):
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "sequential", "layers": layers}}


lam = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
       "config": {"name": "lambda", "function": {"class_name": "__lambda__", "config": {
           "code": "4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMMAAAAdABkAYMBAQB8AFMAKQJO2gJpZCkB2gVwcmludCkB2gF4qQByAwAAAPoIPHN0ZGluPtoIPGxhbWJkYT4BAAAAcwAAAAA=",
           "defaults": None, "closure": None}}, "output_shape": None, "arguments": {}}}
custom = {"module": "acme_layers.attention", "class_name": "SecretAttention", "registered_name": "acme>SecretAttention",
          "config": {"name": "attn", "heads": 2}}


def keras_zip(name, cfg):
    with zipfile.ZipFile(name, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.3.3", "date_saved": "2026-11-24@00:00:00"}))
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + bytes(64))


keras_zip("benign.keras", model([inp, dense]))
keras_zip("lambda.keras", model([inp, lam, dense]))
keras_zip("custom_object.keras", model([inp, custom]))

legacy_lambda = {"class_name": "Lambda", "config": {"name": "lambda", "function": [lam["config"]["function"]["config"]["code"], None, None],
                                                      "function_type": "lambda", "output_shape": None}}
for name, layers in [("benign_legacy.h5", [{"class_name": "Dense", "config": {"name": "dense", "units": 2}}]),
                     ("lambda_legacy.h5", [legacy_lambda])]:
    with h5py.File(name, "w") as f:
        f.attrs["keras_version"] = "2.12.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"name": "seq", "layers": layers}})
        f.create_group("model_weights")
