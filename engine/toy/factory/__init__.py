"""The toy's factory: what trains, measures and documents the toy model (`python -m experiments toy ...`).

    vae_training   the VAE, and its decoder and encoder legs
    training       the world encoded as the pipeline prepares it; the transformer trained with the lab's trainer
    build          the whole recipe in one resumable run folder, and shipping it into assets/toy
    evaluate       the quality report on held-out seeds (round_trips: the VAE alone; walk: an unseen walk)
    card           the model card, written from the run record and the report
    blog           the blog in a box: a narrow dataset, the blog's two LoRAs, their drift

Nothing the app runs at generation time imports from here (engine/toy outside this package is the runtime).
"""
