"""The command line's exit codes (experiments/cli.py): the Train tab reads them from its training process."""

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130
