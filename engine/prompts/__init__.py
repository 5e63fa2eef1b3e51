"""Prompts: templates and variants, reference descriptions, prompt sets, captioning and rewriting."""
