"""fervideo.engine.models.vit_b16 and its training flags, on tiny random-init versions of ViT-B/16."""

from urllib.error import URLError

import cv2
import numpy as np
import pytest
import torch

from fervideo.core.errors import ModelError, UsageError
from fervideo.core.labels import EMOTIONS
from fervideo.engine.checkpoint import build_model, load_checkpoint
from fervideo.engine.models import create_model, get_entry
from fervideo.engine.models import vit_b16 as vb
from fervideo.engine.torch_model import model_input
from training import train

TINY = get_entry("vit_b16").test_config


def tiny(seed=0, **overrides):
    torch.manual_seed(seed)
    return create_model("vit_b16", **{**TINY, **overrides})


def faces(n=2, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 48, 48), dtype=np.uint8)


def imagenet_style_state(model):
    """What torchvision's file holds: the backbone, and a 1000-way head under heads.head."""
    state = {k: v.clone() for k, v in model.vit.state_dict().items() if not k.startswith("heads.")}
    state["heads.head.weight"] = torch.zeros(1000, model.config.hidden_dim)
    state["heads.head.bias"] = torch.zeros(1000)
    return state


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """An empty torch hub folder and a download that fails as it does offline, recording its calls."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    calls = []

    def no_network(url, dst):
        calls.append(url)
        raise URLError("no network")

    monkeypatch.setattr(vb, "_download", no_network)
    return calls


def test_tiny_forward_on_prepared_faces():
    entry = get_entry("vit_b16")
    x = model_input(faces(3), entry.preprocess)
    assert x.shape == (3, 3, 224, 224)
    model = tiny().eval()
    with torch.no_grad():
        assert model(x).shape == (3, 7)
    assert sum(p.numel() for p in model.parameters()) < 100_000


def test_per_channel_imagenet_normalisation():
    entry = get_entry("vit_b16")
    grey = np.full((1, 48, 48), 128, np.uint8)
    x = model_input(grey, entry.preprocess)
    for c, (mean, std) in enumerate(zip(vb.IMAGENET_MEAN, vb.IMAGENET_STD, strict=True)):
        torch.testing.assert_close(x[0, c], torch.full((224, 224), (128 / 255 - mean) / std))


def test_constants_match_torchvision():
    from torchvision.models import ViT_B_16_Weights

    weights = ViT_B_16_Weights.IMAGENET1K_V1
    assert str(weights) == vb.WEIGHTS_NAME and weights.url == vb.WEIGHTS_URL
    transforms = weights.transforms()
    assert tuple(transforms.mean) == vb.IMAGENET_MEAN and tuple(transforms.std) == vb.IMAGENET_STD
    assert vb.ViTB16Config().image_size == transforms.crop_size[0] == get_entry("vit_b16").preprocess.input_size


def test_tokens_follow_forward_and_attention_rows_sum_to_one():
    model = tiny(num_layers=2).eval()
    x = model_input(faces(2), get_entry("vit_b16").preprocess)
    with torch.no_grad():
        tokens, maps = model.tokens(x)
        torch.testing.assert_close(model.vit.heads(tokens[:, 0]), model(x), atol=1e-5, rtol=1e-5)
    assert len(maps) == 2
    for attn in maps:
        assert attn.shape == (2, TINY["num_heads"], 50, 50)  # class token + 7x7 patches of 32
        torch.testing.assert_close(attn.sum(-1), torch.ones(2, TINY["num_heads"], 50))


def trainable(model):
    return {name for name, p in model.named_parameters() if p.requires_grad}


def test_freeze_modes():
    model = tiny(num_layers=3)
    everything = trainable(model)
    head = {"vit.heads.weight", "vit.heads.bias"}
    model.freeze("head")
    assert trainable(model) == head
    model.freeze("last:2")
    last_two = ("vit.encoder.layers.encoder_layer_1.", "vit.encoder.layers.encoder_layer_2.", "vit.encoder.ln.")
    expected = head | {n for n in everything if n.startswith(last_two)}
    assert trainable(model) == expected and len(expected) > 2 + 2
    model.freeze("none")
    assert trainable(model) == everything
    for bad in ("last:0", "last:4", "last:x", "body"):
        with pytest.raises(UsageError, match="freeze mode"):
            model.freeze(bad)


def test_offline_without_weights_is_an_actionable_error(offline_hub, tmp_path):
    with pytest.raises(ModelError) as info:
        vb.load_pretrained(tiny())
    message = str(info.value)
    assert offline_hub == [vb.WEIGHTS_URL]  # one try, through the patched download only
    assert str(tmp_path / "hub" / "checkpoints" / "vit_b_16-c867db91.pth") in message
    assert vb.WEIGHTS_URL in message and "--pretrained" in message and "--random-init" in message
    with pytest.raises(ModelError, match="--random-init"):
        vb.load_pretrained(tiny(), download=False)
    assert len(offline_hub) == 1
    with pytest.raises(ModelError, match="no such file"):
        vb.load_pretrained(tiny(), tmp_path / "missing.pth")


def test_loads_a_local_file_and_the_hub_cache(offline_hub, tmp_path):
    source = tiny(seed=1)
    path = tmp_path / "weights.pth"
    torch.save(imagenet_style_state(source), path)
    for where in (path, None):
        if where is None:  # the same file where torch hub keeps it
            vb.cached_weights_path().parent.mkdir(parents=True)
            path.rename(vb.cached_weights_path())
        model = tiny(seed=2)
        head = model.vit.heads.weight.clone()
        vb.load_pretrained(model, where)
        for name, value in source.vit.state_dict().items():
            if not name.startswith("heads."):
                assert torch.equal(model.vit.state_dict()[name], value), name
        assert torch.equal(model.vit.heads.weight, head)  # the 7-class head keeps its own initialisation
    assert offline_hub == []


def test_foreign_weights_are_model_errors(tmp_path):
    wider = tmp_path / "wider.pth"
    torch.save(imagenet_style_state(tiny(hidden_dim=32)), wider)
    with pytest.raises(ModelError, match="do not fit"):
        vb.load_pretrained(tiny(), wider)
    text = tmp_path / "notes.pth"
    text.write_text("not weights")
    with pytest.raises(ModelError, match="not a torch state dict"):
        vb.load_pretrained(tiny(), text)


# --- training flags ------------------------------------------------------------------------------


@pytest.fixture
def tiny_data(tmp_path):
    rng = np.random.default_rng(0)
    for split, count in (("train", 2), ("val", 1)):
        for label, name in enumerate(EMOTIONS):
            folder = tmp_path / "fer" / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                image = np.clip(rng.normal(40 + 25 * label, 20, (48, 48)), 0, 255).astype(np.uint8)
                assert cv2.imwrite(str(folder / f"{i}.png"), image)
    return tmp_path / "fer"


def test_train_head_only_from_a_pretrained_file(tiny_data, tmp_path, monkeypatch):
    monkeypatch.setattr(train, "create_model", lambda name: create_model(name, **TINY))
    pretrained = tmp_path / "weights.pth"
    torch.save(imagenet_style_state(tiny(seed=3)), pretrained)
    out = tmp_path / "run" / "vit_b16.pt"
    argv = ["--model", "vit_b16", "--data", str(tiny_data), "--out", str(out), "--device", "cpu"]
    argv += ["--epochs", "1", "--batch-size", "7", "--pretrained", str(pretrained), "--cache-dir", str(tmp_path / "c")]
    args = train.parse_args(argv)
    assert train.settings(args)["freeze"] == "head" and train.settings(args)["lr"] == 1e-3
    train.main(args)
    state = load_checkpoint(out)["state_dict"]
    start = torch.load(pretrained, weights_only=True)
    for name, value in state.items():
        if not name.startswith("vit.heads."):
            assert torch.equal(value, start[name.removeprefix("vit.")]), name  # the frozen backbone is untouched
    model, spec = build_model(load_checkpoint(out))  # the checkpoint rebuilds its tiny config by itself
    assert spec.channels == 3 and model.config.hidden_dim == TINY["hidden_dim"]


def test_train_flag_errors(tmp_path):
    cnn = create_model("cnn")
    with pytest.raises(UsageError, match="no pretrained backbone"):
        train.init_backbone(cnn, train.parse_args(["--data", str(tmp_path), "--pretrained", "x.pth"]))
    with pytest.raises(UsageError, match="--freeze none"):
        train.freeze(cnn, "head")
    train.freeze(cnn, "none")
    args = train.parse_args(["--model", "vit_b16", "--data", str(tmp_path), "--random-init", "--pretrained", "x"])
    with pytest.raises(UsageError, match="contradict"):
        train.init_backbone(tiny(), args)
    args = train.parse_args(["--model", "vit_b16", "--data", str(tmp_path), "--random-init"])
    assert train.init_backbone(tiny(), args) == "random"


def test_optimizer_gets_only_trainable_parameters():
    model = tiny()
    model.freeze("head")
    optimizer = train.make_optimizer(model, {"optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0})
    assert sum(len(group["params"]) for group in optimizer.param_groups) == 2
