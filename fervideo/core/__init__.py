"""The bottom layer: leaf types (frames, detections, labels, errors) and leaf I/O (atomic files, paths, signals,
ffmpeg probing). Imports nothing of fervideo outside core."""
