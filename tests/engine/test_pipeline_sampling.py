"""The pipeline under sparse and dense sampling: a face in the only analysed frame, a second sighting."""

from __future__ import annotations

from tests.helpers import run


def test_a_face_in_the_only_analysed_frame_is_kept(tmp_path, capsys, media):
    import cv2

    from fervideo.outputs.sinks import VideoSink
    from tests.helpers import read_json

    photo = cv2.imread(str(media("single_face.jpg")))
    one_frame = tmp_path / "one.mp4"
    with VideoSink(one_frame, 25.0, photo.shape[1], photo.shape[0]) as sink:
        sink.write(photo)
    code, err = run(capsys, "analyze", str(one_frame), "-o", str(tmp_path / "a"), "--no-video")
    assert code == 0, err
    assert read_json(tmp_path / "a" / "one.json")["counts"]["frames_with_face"] == 1
    clip = media("single_face.mp4")  # 2.4 s: --fps 0.4 analyses its first frame alone
    code, err = run(capsys, "analyze", str(clip), "-o", str(tmp_path / "b"), "--no-video", "--fps", "0.4")
    counts = read_json(tmp_path / "b" / "single_face.json")["counts"]
    assert code == 0 and counts["frames_analysed"] == 1 and counts["frames_with_face"] == 1 and counts["tracks"] == 1


def test_dense_sampling_still_waits_for_a_second_sighting():
    from fervideo.engine.schedule import confirmable
    from fervideo.engine.source import Sampling, VideoInfo

    video = VideoInfo("v.mp4", 300, 30.0, 640, 360)
    assert confirmable(video, Sampling()) and confirmable(video, Sampling(every=15))
    assert not confirmable(video, Sampling(every=30)) and not confirmable(video, Sampling(fps=0.4))
    assert not confirmable(VideoInfo("p.jpg", 1, 0.0, 640, 360, is_image=True), Sampling())
