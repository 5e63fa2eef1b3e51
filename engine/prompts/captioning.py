"""Optional language models for prompts: a Florence-2 captioner and a small instruct LLM rewriter.

Both load lazily, on first use only, through transformers' own classes (never trust_remote_code), on
CUDA when there is one. Where the weights are not available the error says so in one line, and the rest
of the prompt tools keep working without them. This is the blog's per-clip pipeline:
caption of the first frame + file-name metadata -> rewritten prompt.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)

# transformers' native Florence-2 port; microsoft/Florence-2-base needs remote code, which we never run.
CAPTIONER_ID = "florence-community/Florence-2-base"
REWRITER_ID = "Qwen/Qwen2.5-0.5B-Instruct"
CAPTION_TASK = "<MORE_DETAILED_CAPTION>"
MAX_PROMPT_WORDS = 120

REWRITE_INSTRUCTIONS = (
    "You write prompts for a pose-driven video generation model. Turn the caption of the first frame and the "
    "clip's metadata into one vivid prompt of at most 80 words: the person's appearance and clothing and the "
    "setting from the caption, the dance from the metadata, and that the person follows the skeleton pose "
    "exactly. Answer with the prompt only."
)

_lock = threading.Lock()
_loaded: dict = {}


def _device_and_dtype():
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16
    return "cpu", torch.float32


def _unavailable(what: str, source: str, err: Exception) -> RuntimeError:
    reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
    return RuntimeError(
        f"the {what} {source!r} is not available here ({reason}). It needs its weights in the Hugging Face "
        "cache or network access; the prompt builder works without it."
    )


HUB_CHECK_SECONDS = 3.0  # one quick question to the hub instead of transformers' retries (about 25 s offline)


def check_available(source: str):
    """Answer at once whether `source` can load: a local folder, the Hugging Face cache, or (when online
    is allowed) a hub that answers within HUB_CHECK_SECONDS. Raises OSError with the reason."""
    import os
    from pathlib import Path

    if Path(source).is_dir():
        return
    from huggingface_hub import model_info, snapshot_download

    try:
        snapshot_download(source, local_files_only=True, allow_patterns=["config.json"])
        return
    except Exception:  # noqa: BLE001 - not in the cache: ask the hub, if we may
        pass
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        raise OSError("not in the local Hugging Face cache, and HF_HUB_OFFLINE is set")
    try:
        model_info(source, timeout=HUB_CHECK_SECONDS)
    except Exception as err:  # noqa: BLE001 - no network, unknown repo, ...: one reason is enough
        raise OSError(f"not in the local cache, and the hub did not answer ({type(err).__name__})") from None


def _load(kind: str, source: str, loader):
    with _lock:
        key = (kind, source)
        if key not in _loaded:
            try:
                check_available(source)
                _loaded[key] = loader()
            except (OSError, ValueError) as err:
                raise _unavailable(kind, source, err) from None
            logger.info("loaded %s %s", kind, source)
        return _loaded[key]


def unload_all():
    """Free every loaded captioner and rewriter (the tests start from none loaded)."""
    with _lock:
        _loaded.clear()


class _LanguageModel:
    """A model loaded on first use and shared by every instance with the same source."""

    kind = ""

    def __init__(self, source: str, max_new_tokens: int, min_new_tokens: int = 1):
        self.source = source
        self.max_new_tokens = max_new_tokens
        self.min_new_tokens = min_new_tokens

    def _components(self):
        def load():
            device, dtype = _device_and_dtype()
            preprocessor, model = self._from_pretrained(dtype)
            return preprocessor, model.to(device).eval()

        return _load(self.kind, self.source, load)

    def _generate(self, model, inputs: dict):
        import torch

        with torch.no_grad():
            return model.generate(**inputs, max_new_tokens=self.max_new_tokens, min_new_tokens=self.min_new_tokens,
                                  do_sample=False, num_beams=1)


class Captioner(_LanguageModel):
    """Describes an image in words with Florence-2."""

    kind = "captioner"

    def __init__(self, source: str = CAPTIONER_ID, max_new_tokens: int = 96, min_new_tokens: int = 1):
        super().__init__(source, max_new_tokens, min_new_tokens)

    def _from_pretrained(self, dtype):
        from transformers import AutoProcessor, Florence2ForConditionalGeneration

        return (AutoProcessor.from_pretrained(self.source),
                Florence2ForConditionalGeneration.from_pretrained(self.source, dtype=dtype))

    def caption(self, image) -> str:
        processor, model = self._components()
        inputs = processor(text=CAPTION_TASK, images=image.convert("RGB"), return_tensors="pt")
        inputs = {k: v.to(model.device, model.dtype if v.is_floating_point() else v.dtype) for k, v in inputs.items()}
        output = self._generate(model, inputs)
        return clean_model_text(processor.batch_decode(output, skip_special_tokens=True)[0])


class Rewriter(_LanguageModel):
    """Turns a caption plus metadata words into one prompt with a small instruct LLM."""

    kind = "rewriter"

    def __init__(self, source: str = REWRITER_ID, max_new_tokens: int = 160, min_new_tokens: int = 1):
        super().__init__(source, max_new_tokens, min_new_tokens)

    def _from_pretrained(self, dtype):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        return (AutoTokenizer.from_pretrained(self.source),
                AutoModelForCausalLM.from_pretrained(self.source, dtype=dtype))

    def rewrite(self, caption: str, metadata: dict | None = None) -> str:
        tokenizer, model = self._components()
        facts = "; ".join(f"{k.replace('_words', '').replace('_', ' ')}: {v}"
                          for k, v in (metadata or {}).items() if v and k != "caption")
        messages = [
            {"role": "system", "content": REWRITE_INSTRUCTIONS},
            {"role": "user", "content": f"Caption: {caption.strip() or '(none)'}\nMetadata: {facts or '(none)'}"},
        ]
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        ids = {k: v.to(model.device) for k, v in ids.items()}
        output = self._generate(model, ids)
        new_tokens = output[0, ids["input_ids"].shape[1]:]
        return clean_model_text(tokenizer.decode(new_tokens, skip_special_tokens=True))


def clean_model_text(text: str, max_words: int = MAX_PROMPT_WORDS) -> str:
    """One line, no surrounding quotes, at most max_words words (a runaway model cannot flood a prompt)."""
    words = " ".join(text.replace("\n", " ").split()).strip().strip('"').split(" ")
    return " ".join(words[:max_words]).strip()
