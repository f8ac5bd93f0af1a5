"""training.train checks its distillation settings before any teacher runs."""

from __future__ import annotations

import pytest


def test_distillation_settings_are_checked_before_any_teacher_runs(tmp_path):
    from fervideo.core.errors import UsageError
    from training.train import parse_args, settings

    for extra in (["--kd-alpha", "1.5"], ["--kd-temperature", "0"]):
        args = parse_args(["--data", str(tmp_path), "--teacher", str(tmp_path / "t.pt"), *extra])
        with pytest.raises(UsageError, match="--kd-alpha .* must be in \\[0, 1\\] and --kd-temperature above 0"):
            settings(args)


@pytest.mark.parametrize("extra", [["--kd-alpha", "0.5"], ["--kd-temperature", "4"]])
def test_distillation_settings_without_a_teacher_are_refused_not_ignored(tmp_path, extra):
    from fervideo.core.errors import UsageError
    from training.train import parse_args, settings

    with pytest.raises(UsageError, match="--teacher"):
        settings(parse_args(["--data", str(tmp_path), *extra]))
