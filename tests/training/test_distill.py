import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fervideo.engine.checkpoint import load_checkpoint
from fervideo.engine.classifier import EmotionClassifier
from tests.helpers import run_path, train_args
from training.distill import DistillLoss, soft_targets
from training.train import main


def test_distill_loss_without_the_teacher_is_cross_entropy():
    logits, labels = torch.randn(16, 7), torch.randint(0, 7, (16,))
    loss = DistillLoss(alpha=0.0, temperature=4.0, label_smoothing=0.1)(logits, labels, torch.randn(16, 7))
    torch.testing.assert_close(loss, F.cross_entropy(logits, labels, label_smoothing=0.1))


def test_distill_loss_is_zero_when_the_student_matches_the_teacher():
    logits = torch.randn(16, 7)
    shifted = logits + 3.0  # the same distribution: logits are defined up to a constant
    loss = DistillLoss(alpha=1.0, temperature=2.0)(logits, torch.zeros(16, dtype=torch.long), shifted)
    assert abs(float(loss)) < 1e-5


def test_distill_loss_pulls_the_student_toward_the_teacher():
    teacher = torch.tensor([[4.0, 0, 0, 0, 0, 0, 0]])
    student = torch.zeros(1, 7, requires_grad=True)
    DistillLoss(alpha=1.0, temperature=2.0)(student, torch.tensor([3]), teacher).backward()
    assert student.grad[0, 0] < 0 and (student.grad[0, 1:] > 0).all()  # a step raises class 0, lowers the rest


@pytest.fixture(scope="module")
def teachers(folder_data, tmp_path_factory):
    paths = []
    for seed in ("0", "1"):
        out = tmp_path_factory.mktemp(f"teacher{seed}") / "cnn.pt"
        main(train_args(folder_data, out, "--epochs", "1", "--seed", seed))
        paths.append(out)
    return paths


def test_soft_targets_average_the_teachers_tta_probabilities(teachers, monkeypatch):
    from fervideo.engine import runtime

    monkeypatch.setitem(runtime._threads, "n", None)  # as in training, which never asks for a classifier's share
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # training's cores: loading the teachers must not take them away
    try:
        targets = soft_targets(teachers, faces, device="cpu")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert targets.shape == (5, 7) and targets.dtype == torch.float32
    each = [EmotionClassifier.load(str(p), device="cpu").predict(faces, tta=True) for p in teachers]
    np.testing.assert_allclose(targets.exp().numpy(), (each[0] + each[1]) / 2, atol=1e-5)


def test_train_with_teachers_records_them_and_resumes_exactly(folder_data, teachers, tmp_path):
    kd = ["--teacher", str(teachers[0]), "--teacher", str(teachers[1]), "--kd-alpha", "0.5"]
    straight = run_path(tmp_path, "straight")
    main(train_args(folder_data, straight, "--epochs", "2", *kd))
    hp = load_checkpoint(straight)["hp"]
    assert hp["teacher"] == [str(p) for p in teachers] and hp["kd_alpha"] == 0.5 and hp["kd_temperature"] == 2.0

    split = run_path(tmp_path, "split")
    main(train_args(folder_data, split, "--epochs", "1", *kd))
    main(train_args(folder_data, split, "--epochs", "2", "--resume", str(split.with_suffix(".last.pt"))))
    a = load_checkpoint(straight.with_suffix(".last.pt"))
    b = load_checkpoint(split.with_suffix(".last.pt"))
    assert all(torch.equal(t, b["state_dict"][k]) for k, t in a["state_dict"].items())
    assert a["train_state"]["hp"]["teacher"] == b["train_state"]["hp"]["teacher"]


def test_a_teacher_changes_what_the_student_learns(folder_data, teachers, tmp_path):
    plain, taught = run_path(tmp_path, "plain"), run_path(tmp_path, "taught")
    main(train_args(folder_data, plain, "--epochs", "1", "--seed", "5"))
    main(train_args(folder_data, taught, "--epochs", "1", "--seed", "5", "--teacher", str(teachers[0])))
    a, b = load_checkpoint(plain)["state_dict"], load_checkpoint(taught)["state_dict"]
    assert any(not torch.equal(t, b[k]) for k, t in a.items() if t.is_floating_point())


def test_soft_targets_are_cached_per_teacher_set(teachers, tmp_path):
    faces = np.random.default_rng(1).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    first = soft_targets(teachers, faces, device="cpu", cache_dir=tmp_path)
    (cache,) = tmp_path.glob("teachers-*.npy")
    np.save(cache, np.full((4, 7), 1 / 7, dtype=np.float32))  # a marked cache shows it is what is read
    assert torch.allclose(soft_targets(teachers, faces, device="cpu", cache_dir=tmp_path).exp(), torch.tensor(1 / 7))
    again = soft_targets(teachers[:1], faces, device="cpu", cache_dir=tmp_path)  # other teachers: another key
    assert len(list(tmp_path.glob("teachers-*.npy"))) == 2 and not torch.equal(again, first)
