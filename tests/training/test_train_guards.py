"""training.train refuses bad arguments and foreign checkpoints in one line, before any epoch, and resumes its own."""

import shutil
import signal

import pytest
import torch

import training.train
from fervideo.core.errors import FervideoError, InputError, ModelError, OutputError, UsageError
from fervideo.engine.checkpoint import load_checkpoint
from tests.helpers import run_path, small_fer_csv, train_args
from training.export import main as export
from training.export import parse_args as export_args
from training.train import main, parse_args, settings


def no_epoch(*args, **kwargs):
    raise AssertionError("an epoch ran before the arguments were checked")


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--epochs", "0"),
        ("--epochs", "-1"),
        ("--batch-size", "0"),
        ("--batch-size", "-3"),
        ("--lr", "-1"),
        ("--lr", "nan"),
        ("--weight-decay", "-1"),
        ("--label-smoothing", "1.5"),
        ("--erase", "2"),
        ("--limit", "0"),
        ("--limit", "-5"),
    ],
)
def test_out_of_range_numbers_are_usage_errors(tmp_path, flag, value):
    with pytest.raises(UsageError, match=flag):
        settings(parse_args(["--data", str(tmp_path), flag, value]))


def test_out_may_not_overwrite_an_input(tmp_path, monkeypatch):
    monkeypatch.setattr(training.train, "train_one_epoch", no_epoch)
    fer_csv = small_fer_csv(tmp_path / "fer2013.csv")
    before = fer_csv.read_bytes()
    with pytest.raises(UsageError, match="--out"):
        main(train_args(fer_csv, fer_csv))
    assert fer_csv.read_bytes() == before


@pytest.mark.parametrize("where", ["folder", "under_a_file"])
def test_an_unwritable_out_is_refused_before_training(folder_data, tmp_path, monkeypatch, where):
    monkeypatch.setattr(training.train, "train_one_epoch", no_epoch)
    (tmp_path / "cache").mkdir()
    (tmp_path / "file").write_text("x")
    out = tmp_path / "folder" if where == "folder" else tmp_path / "file" / "cnn.pt"
    (tmp_path / "folder").mkdir()
    with pytest.raises((UsageError, OutputError), match="folder|file"):
        main(train_args(folder_data, out))


def test_a_missing_class_folder_is_refused(folder_data, tmp_path, monkeypatch):
    monkeypatch.setattr(training.train, "train_one_epoch", no_epoch)
    data = tmp_path / "fer"
    shutil.copytree(folder_data, data)
    (data / "train" / "angry").rename(data / "train" / "Angry")
    with pytest.raises(InputError, match="angry"):
        main(train_args(data, run_path(tmp_path, "run")))


@pytest.fixture(scope="module")
def one_epoch(folder_data, tmp_path_factory):
    """A cnn run of one epoch of two, as a kill after the first epoch leaves it."""
    out = run_path(tmp_path_factory.mktemp("one"), "run")
    main(train_args(folder_data, out, "--epochs", "1", "--seed", "3", "--limit", "14"))
    return out


def test_resume_refuses_another_model(folder_data, one_epoch, tmp_path):
    args = train_args(
        folder_data, run_path(tmp_path, "r"), "--model", "fernet", "--resume", str(one_epoch.with_suffix(".last.pt"))
    )
    with pytest.raises(UsageError, match="'cnn'"):
        main(args)


def test_resume_refuses_a_checkpoint_without_training_state(folder_data, one_epoch, tmp_path):
    with pytest.raises(ModelError, match="last.pt"):
        main(train_args(folder_data, run_path(tmp_path, "r"), "--resume", str(one_epoch)))


def test_resume_of_a_run_stopped_before_its_first_checkpoint_says_so(folder_data, tmp_path):
    with pytest.raises(FervideoError, match="without --resume"):
        main(train_args(folder_data, run_path(tmp_path, "r"), "--resume", str(tmp_path / "r" / "cnn.last.pt")))


def test_resume_and_init_do_not_go_together(folder_data, one_epoch, tmp_path):
    last = str(one_epoch.with_suffix(".last.pt"))
    with pytest.raises(UsageError, match="--init"):
        main(train_args(folder_data, run_path(tmp_path, "r"), "--resume", last, "--init", str(one_epoch)))


def test_resume_refuses_a_flag_that_changes_the_run(folder_data, one_epoch, tmp_path):
    args = train_args(
        folder_data, run_path(tmp_path, "r"), "--lr", "0.5", "--resume", str(one_epoch.with_suffix(".last.pt"))
    )
    with pytest.raises(UsageError, match="--lr"):
        main(args)


def test_resume_keeps_the_runs_seed_and_limit(folder_data, one_epoch, tmp_path):
    straight = run_path(tmp_path, "straight")
    main(train_args(folder_data, straight, "--epochs", "2", "--seed", "3", "--limit", "14"))
    split = run_path(tmp_path, "split")
    shutil.copy(one_epoch.with_suffix(".last.pt"), split.with_suffix(".last.pt"))
    main(train_args(folder_data, split, "--epochs", "2", "--resume", str(split.with_suffix(".last.pt"))))
    a, b = (load_checkpoint(p.with_suffix(".last.pt")) for p in (straight, split))
    assert all(torch.equal(t, b["state_dict"][k]) for k, t in a["state_dict"].items())


def test_checkpoints_describe_their_data_and_export_with_their_settings(folder_data, one_epoch, tmp_path):
    hp = load_checkpoint(one_epoch)["hp"]
    assert hp["data"] == str(folder_data) and hp["seed"] == 3 and hp["limit"] == 14
    shipped = export(
        export_args(["--checkpoint", str(one_epoch.with_suffix(".last.pt")), "--out", str(tmp_path / "s.pt")])
    )
    assert load_checkpoint(shipped)["hp"]["lr"] == hp["lr"]


def test_a_budget_cut_plan_grows_back_on_resume(folder_data, tmp_path):
    out = run_path(tmp_path, "budget")
    main(train_args(folder_data, out, "--epochs", "3", "--budget", "0.00001", "--limit", "7"))
    last = out.with_suffix(".last.pt")
    assert len(load_checkpoint(last)["train_state"]["history"]) == 1
    main(train_args(folder_data, out, "--budget", "100", "--resume", str(last)))
    assert len(load_checkpoint(last)["train_state"]["history"]) == 3  # the plan of 3, not the cut one


def test_a_stop_says_how_to_resume(folder_data, tmp_path, monkeypatch, capsys, plain_ctrl_c):
    real = training.train.train_one_epoch
    calls = []

    def stopped_in_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(training.train, "train_one_epoch", stopped_in_the_second)
    out = run_path(tmp_path, "stop")
    fixed = ["--model", "cnn", "--device", "cpu", "--batch-size", "8", "--cache-dir", str(tmp_path / "cache")]
    with pytest.raises(SystemExit) as stop:
        training.train.cli([*fixed, "--data", str(folder_data), "--out", str(out), "--epochs", "3"])
    assert stop.value.code == 128 + signal.SIGINT
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"--resume {out.with_suffix('.last.pt')}" in err.splitlines()[-1]


def test_resume_takes_the_runs_own_config_again(folder_data, tmp_path):
    out = run_path(tmp_path, "wide")
    main(train_args(folder_data, out, "--model", "fernet", "--config", "width=4", "--epochs", "1", "--limit", "7"))
    again = ["--model", "fernet", "--epochs", "2", "--resume", str(out.with_suffix(".last.pt"))]
    main(train_args(folder_data, out, *again, "--config", "width=4"))  # the same command, resumed
    assert len(load_checkpoint(out.with_suffix(".last.pt"))["train_state"]["history"]) == 2
    with pytest.raises(UsageError, match="width=8"):
        main(train_args(folder_data, out, *again, "--config", "width=8"))
