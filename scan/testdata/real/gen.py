#!/usr/bin/python3
"""Writes the benign model fixtures in this directory with the real tools.

Made once on 2026-11-24 with Debian bookworm's packages:

    apt-get install python3-torch python3-numpy python3-joblib
    /usr/bin/python3 gen.py     # torch 1.13.0a0, numpy 1.24.2, joblib 1.2.0

Nothing here is loaded by the tests; they only scan the files.
"""
import joblib
import numpy as np
import torch

torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
torch.save(net.state_dict(), "torch_zip_state_dict.pt")
torch.save(net.state_dict(), "torch_legacy_state_dict.pt", _use_new_zipfile_serialization=False)

opt = torch.optim.Adam(net.parameters(), lr=0.01)
net(torch.randn(5, 4)).sum().backward()
opt.step()
torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "loss": 0.25},
           "torch_training_checkpoint.pt")
torch.save({"ids": torch.arange(6, dtype=torch.int64), "mask": torch.ones(2, 3, dtype=torch.bool),
            "half": torch.zeros(3, dtype=torch.float16)}, "torch_dtypes.pt")

np.save("numpy_float.npy", np.arange(12, dtype=np.float32).reshape(3, 4))
np.savez("numpy_arrays.npz", a=np.arange(5), b=np.eye(2))

arrays = {"coef": np.arange(10.0), "intercept": np.zeros(3, dtype=np.int32),
          "labels": np.array(["cat", "dog"]), "meta": {"version": 2, "classes": [0, 1]}}
joblib.dump(arrays, "joblib_arrays.joblib")
joblib.dump(arrays, "joblib_arrays_zlib.joblib", compress=3)
joblib.dump({"objects": np.array([{"a": 1}, [2, 3]], dtype=object)}, "joblib_object_array.joblib")
