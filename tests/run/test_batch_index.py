"""The batch's index.csv and index.html count what a reader expects: tracked faces, and inputs in good English."""

from __future__ import annotations

import pytest

from fervideo.run.batch.jobs import Job, summary_row
from fervideo.run.batch.overview import write_overview


def test_the_index_counts_tracked_faces_not_detections():
    track = {"id": 1, "frames": 72, "dominant_emotion": "happy"}
    summary = {"counts": {"frames_analysed": 72, "faces": 72, "tracks": 1}, "tracks": [track], "outputs": {}}
    assert summary_row(summary)["faces"] == 1  # one person seen in 72 frames
    assert summary_row({**summary, "tracks": []})["faces"] == 0


@pytest.mark.parametrize(("inputs", "heading"), [(1, "1 input</h1>"), (2, "2 inputs</h1>")])
def test_the_overview_heading_counts_inputs_singular_or_plural(tmp_path, inputs, heading):
    jobs = [Job(tmp_path / "in" / f"clip{i}.mp4", tmp_path) for i in range(inputs)]
    for job in jobs:
        job.row = {"input": str(job.input), "status": "failed", "error": "not a video"}
    page = write_overview(tmp_path, jobs).read_text()
    assert f"fervideo batch: {heading}" in page
