"""VACE Lab engine: model loading, conditioning, generation. No UI imports here.

Heavy libraries (torch, diffusers, transformers) are imported inside functions so that importing this
package stays fast and the app can serve its page before a model is loaded.
"""

from engine.request import GenerationRequest, GenerationResult
from engine.spec import ModelSpec

__all__ = ["GenerationRequest", "GenerationResult", "ModelSpec", "Engine"]


def __getattr__(name):
    # Engine pulls in media helpers; keep `import engine` cheap until it is used.
    if name == "Engine":
        from engine.engine import Engine

        return Engine
    raise AttributeError(name)
