"""Can the toy's prompt features tell "a blue top" from "a blue background"? For each colour word, the text
encoder's output at that word when it names the top and when it names the background, compared with how
different two colour words are in the same place. Wan's cross-attention has no word positions of its own, so
if a colour's feature does not change with its role, the transformer reads the prompt as a bag of words and
can only guess which named colour is the floor's.

    python -m research.toy_text_roles [toy | a toy run's pipeline folder]
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

COLOURS = ("blue", "red", "green", "pink", "yellow", "grey", "purple", "orange")


def word_feature(engine, prompt: str, word: str):
    """The prompt embedding the transformer receives (Engine.prompt_embedding), at `word`'s token."""
    tokenizer = engine.tokenizer()
    tokens = tokenizer.convert_ids_to_tokens(tokenizer(prompt).input_ids)
    return engine.prompt_embedding(prompt)[0, tokens.index("\u2581" + word)].float()


def main(model: str = "toy"):
    import numpy as np
    import torch

    from engine.toy.factory.build import engine_for

    engine = engine_for(model)
    as_top = {c: word_feature(engine, f"a person in a {c} top and teal shorts jumps on a white background", c)
              for c in COLOURS}
    as_floor = {c: word_feature(engine, f"a person in a white top and teal shorts jumps on a {c} background", c)
                for c in COLOURS}
    cosine = lambda a, b: float(torch.nn.functional.cosine_similarity(a, b, dim=0))  # noqa: E731
    same_word = np.mean([cosine(as_top[c], as_floor[c]) for c in COLOURS])
    other_word = np.mean([cosine(as_floor[a], as_floor[b]) for a in COLOURS for b in COLOURS if a != b])
    context = np.mean([float((as_top[c] - as_floor[c]).norm() / as_floor[c].norm()) for c in COLOURS])
    print(f"cosine of one colour word naming the top vs the background: {same_word:.3f}")
    print(f"cosine of two colour words both naming the background:      {other_word:.3f}")
    print(f"share of a colour word's feature that changes with its role: {context:.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
