"""Results in, files out: the sinks of a run, the annotated video, CSV, JSON summary, episodes, report, viewer and
exports. Knows only core types (and engine.source, to read frames back for the report's thumbnails)."""
