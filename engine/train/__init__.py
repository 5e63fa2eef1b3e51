"""Training: LoRA configs and presets, datasets (metadata.csv), timestep samplers, estimates, the trainer."""
