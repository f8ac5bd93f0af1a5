"""Frames in, faces and probabilities out: video source, detector, crop, preprocessing, tracker, classifier and the
runtimes of the models. Imports only core."""
