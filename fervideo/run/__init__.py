"""Orchestration: one analysis job, live mode, batch processing (local or on Ray) and evaluation; joins the engine
to the outputs. The command line sits above it."""
