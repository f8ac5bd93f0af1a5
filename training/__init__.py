"""Training, evaluation helpers and measurement scripts for fervideo's models."""
