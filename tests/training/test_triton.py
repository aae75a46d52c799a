"""The Triton model repository parses with Triton's own ModelConfig schema and matches the manifests."""

import importlib.util
import json
from pathlib import Path

import pytest
from google.protobuf import text_format

from training.triton import export_triton

MODELS_DIR = Path(__file__).resolve().parents[2] / "exported_models"
TYPES = {"float32": "TYPE_FP32", "int64": "TYPE_INT64"}


@pytest.fixture(scope="module")
def model_config_pb2():
    # Loaded from its file: the tritonclient.grpc package itself insists on grpcio, which we do not need.
    spec = importlib.util.find_spec("tritonclient")
    path = Path(spec.submodule_search_locations[0]) / "grpc" / "model_config_pb2.py"
    module_spec = importlib.util.spec_from_file_location("model_config_pb2", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_triton_repository_matches_manifests(tmp_path, model_config_pb2):
    names = export_triton(MODELS_DIR, tmp_path, max_batch_size=128)
    assert names
    for name in names:
        manifest = json.loads((MODELS_DIR / name / "manifest.json").read_text())
        config = text_format.Parse((tmp_path / name / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())
        assert config.name == name and config.platform == "onnxruntime_onnx"
        assert config.max_batch_size == 128
        assert config.dynamic_batching.max_queue_delay_microseconds > 0
        for spec, tensors in ((manifest["inputs"], config.input), (manifest["outputs"], config.output)):
            assert [t.name for t in tensors] == [s["name"] for s in spec]
            for s, t in zip(spec, tensors, strict=True):
                assert model_config_pb2.DataType.Name(t.data_type) == TYPES[s["dtype"]]
                assert list(t.dims) == (s["shape"][1:] or [1])
                assert t.HasField("reshape") == (len(s["shape"]) == 1)  # [N] → dims [1] reshaped to []
        onnx_copy = tmp_path / name / "1" / "model.onnx"
        assert onnx_copy.read_bytes() == (MODELS_DIR / name / manifest["file"]).read_bytes()
