"""engine/loading.py: how a pipeline is placed on its device. Group offload itself needs CUDA (tests/test_gpu.py);
here, which parts it streams and which it keeps whole, and placing a pipeline built in memory."""

from engine.loading import STREAMED_PARTS, place_pipeline, resident_parts
from engine.spec import ModelSpec
from engine.tiny import build_tiny_animate2_pipeline, build_tiny_animate_pipeline, build_tiny_pipeline


def test_group_offload_keeps_every_part_with_weights_but_the_streamed_ones_whole_on_the_gpu():
    assert resident_parts(build_tiny_pipeline()) == ["vae"]
    assert sorted(resident_parts(build_tiny_animate_pipeline())) == ["image_encoder", "vae"]
    assert sorted(resident_parts(build_tiny_animate2_pipeline())) == ["image_encoder", "vae"]  # Animate-2's preset
    assert STREAMED_PARTS == ("transformer", "text_encoder")


def test_a_pipeline_built_in_memory_is_placed_as_a_loaded_one():
    pipe = place_pipeline(build_tiny_pipeline(), ModelSpec.from_preset("tiny"), "cpu")
    assert pipe.lab_condition_store is not None and pipe.lab_reference_encoder is None
    assert pipe.transformer.device.type == "cpu"
