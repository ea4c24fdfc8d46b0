from .backends import (BACKENDS, CompileBackend, ONNXRuntimeBackend,
                       ONNXRuntimeInt8Backend, PyTorchBackend, build_backend,
                       default_backend)
from .inference import (LogitsWrapper, init_model, load_inference_weights)
from .onnx_export import export_onnx, onnx_cache_path
from .tumor_inferencer import TumorInferencer

__all__ = [
    'BACKENDS', 'CompileBackend', 'ONNXRuntimeBackend',
    'ONNXRuntimeInt8Backend', 'PyTorchBackend',
    'build_backend', 'default_backend', 'LogitsWrapper', 'init_model',
    'load_inference_weights', 'export_onnx', 'onnx_cache_path',
    'TumorInferencer'
]
