"""Gradio tabs. Each module has one build_*_tab(engine) function; handlers stay thin:
widgets -> request dataclass -> engine -> render."""
