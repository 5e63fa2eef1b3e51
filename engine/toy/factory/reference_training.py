"""Training the toy's reference encoder (engine/reference_tokens.py): the reference image in words' place.

The toy's transformer already paints the clothes a prompt names: it learned that from prompts like "a person
in a red top and blue trousers ...". So the encoder learns to say, from the reference image alone, what that
clause says: its tokens are fitted to the text encoder's output for the clothes clause of the figure shown
(mean squared error, the clause's tokens in order). No video and no transformer pass is involved, so a CPU
fits it in minutes. At generation the tokens take the clause's place beside a prompt that names only the
action and the floor, and the reference, not the words, decides the clothes.

    encoder, report = train_reference_encoder(engine, steps=1500)
    encoder.save_pretrained("assets/toy/reference_encoder")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from engine.toy import world

logger = logging.getLogger(__name__)

ALIGNED_SHARE = 0.25  # references in one of the clip's poses, not the neutral one: students bring any pose


@dataclass
class ReferenceSet:
    images: np.ndarray  # uint8 [N, H, W, 3]
    looks: list


def reference_set(seeds: list[int], aligned_share: float = ALIGNED_SHARE) -> ReferenceSet:
    """Each seed's reference image and look; a share of them standing in a pose from the clip, not neutral."""
    images, looks = [], []
    for seed in seeds:
        aligned = np.random.default_rng([seed, 5]).random() < aligned_share
        sample = world.make_sample(seed, num_frames=5, reference_frame=4 if aligned else None)
        images.append(sample.reference)
        looks.append(sample.look)
    return ReferenceSet(np.stack(images), looks)


def every_clause() -> list[str]:
    """Every clothes clause the world can draw (top, bottom colour and kind): the encoder's possible answers."""
    return [world.clothes_clause(world.Look(skin="light", hair="black", top=top, bottom_colour=bottom, bottom=kind,
                                            shoes="black", long_sleeves=True, background="white", pattern="plain"))
            for top in world.CLOTHES for bottom in world.CLOTHES if bottom != top for kind in world.BOTTOMS]


def clause_tokens(engine, clause: str):
    """The text encoder's output for the clause, without its padding: [tokens, dim]."""
    from engine.reference_tokens import prompt_length

    embeds = engine.prompt_embedding(clause).float()
    return embeds[0, :prompt_length(embeds)]


def clause_targets(engine, looks: list):
    import torch

    cache = {}
    for look in looks:
        clause = world.clothes_clause(look)
        if clause not in cache:
            cache[clause] = clause_tokens(engine, clause)
    return torch.stack([cache[world.clothes_clause(look)] for look in looks])


def new_encoder(engine, seed: int = 0):
    import torch

    from engine.reference_tokens import ReferenceTokenEncoder

    torch.manual_seed(seed)
    num_tokens, dim = clause_tokens(engine, every_clause()[0]).shape
    return ReferenceTokenEncoder(num_tokens=num_tokens, token_dim=dim)


def train_reference_encoder(engine, steps: int = 4000, batch_size: int = 32, learning_rate: float = 1e-3,
                            references: int = 6000, held_out: int = 240, on_step=None, seed: int = 0):
    """The encoder fitted to the clothes clauses of `references` training seeds' references; returns it and a
    report with the held-out references' clause accuracy (the nearest clause to its tokens is the right one)."""
    import torch

    from engine.reference_tokens import pixels_from_array

    train = reference_set(world.training_seeds(references, seed=seed + 11))
    encoder = new_encoder(engine, seed)
    pixels = pixels_from_array(train.images, encoder)
    targets = clause_targets(engine, train.looks)
    optimiser = torch.optim.AdamW(encoder.parameters(), lr=learning_rate, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=learning_rate, total_steps=steps, pct_start=0.05)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    encoder.train()
    threads = torch.get_num_threads()
    # A network this small gains nothing from a second thread, and loses much when another process holds a core
    # (0.08 s a step on one thread beside a training run, 1.3 s on two).
    torch.set_num_threads(1)
    try:
        _fit(encoder, pixels, targets, optimiser, schedule, generator, steps, batch_size, losses, on_step)
    finally:
        torch.set_num_threads(threads)
    encoder.eval()
    report = {"steps": steps, "batch_size": batch_size, "learning_rate": learning_rate, "references": references,
              "final_loss": float(np.mean(losses[-50:])),
              "heldout_clause_accuracy": clause_accuracy(engine, encoder, world.heldout_seeds(held_out, start=5000))}
    logger.info("reference encoder: loss %.4f, held-out clause accuracy %.3f", report["final_loss"],
                report["heldout_clause_accuracy"])
    return encoder, report


def _fit(encoder, pixels, targets, optimiser, schedule, generator, steps, batch_size, losses, on_step):
    import torch

    for step in range(1, steps + 1):
        batch = torch.randint(len(pixels), (batch_size,), generator=generator)
        loss = torch.nn.functional.mse_loss(encoder(pixels[batch]), targets[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        if on_step:
            on_step(step, steps, losses[-1])


def clause_accuracy(engine, encoder, seeds: list[int]) -> float:
    """The share of references whose tokens lie nearest the clause of the clothes they show."""
    import torch

    from engine.reference_tokens import pixels_from_array

    held = reference_set(seeds)
    clauses = every_clause()
    table = torch.stack([clause_tokens(engine, clause) for clause in clauses]).flatten(1)
    with torch.no_grad():
        tokens = encoder(pixels_from_array(held.images, encoder)).flatten(1)
    nearest = torch.cdist(tokens, table).argmin(1)
    truth = torch.tensor([clauses.index(world.clothes_clause(look)) for look in held.looks])
    return float((nearest == truth).float().mean())
