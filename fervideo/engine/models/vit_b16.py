"""ViT-B/16 from torchvision with a 7-class head: the study's pretrained ImageNet transformer, fine-tuned.

Grey faces are repeated to three channels at 224x224 and normalised with the ImageNet weights' own
per-channel mean and std. The project ships no weights for it (a checkpoint is ~330 MB); training starts
from torchvision's ViT_B_16_Weights.IMAGENET1K_V1, found by `load_pretrained` in a file you name, in the
torch hub cache, or downloaded when online. Small configs build tiny versions for tests.
torchvision is imported only when the model is built: importing it adds seconds to every CLI start.
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from fervideo.core.errors import ModelError, UsageError
from fervideo.engine.models.registry import register
from fervideo.engine.preprocess import PreprocessSpec

# torchvision's ViT_B_16_Weights.IMAGENET1K_V1: its file, and the normalisation its transforms() apply
WEIGHTS_NAME = "ViT_B_16_Weights.IMAGENET1K_V1"
WEIGHTS_URL = "https://download.pytorch.org/models/vit_b_16-c867db91.pth"
WEIGHTS_FILE = WEIGHTS_URL.rsplit("/", 1)[-1]  # the name torch hub caches it under
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ViTB16Config:
    num_classes: int = 7
    image_size: int = 224
    patch_size: int = 16
    num_layers: int = 12
    num_heads: int = 12
    hidden_dim: int = 768
    mlp_dim: int = 3072
    dropout: float = 0.0


class ViTB16(nn.Module):
    """torchvision's VisionTransformer (`vit`), its `heads` replaced by one 7-way linear layer."""

    def __init__(self, config: ViTB16Config) -> None:
        from torchvision.models.vision_transformer import VisionTransformer

        super().__init__()
        self.config = config
        self.vit = VisionTransformer(
            image_size=config.image_size,
            patch_size=config.patch_size,
            num_layers=config.num_layers,
            num_heads=config.num_heads,
            hidden_dim=config.hidden_dim,
            mlp_dim=config.mlp_dim,
            dropout=config.dropout,
        )
        # A fresh default-initialised layer: torchvision zero-initialises its head, which would leave the
        # backbone without gradient in the first step of full fine-tuning.
        self.vit.heads = nn.Linear(config.hidden_dim, config.num_classes)

    def tokens(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Normalised encoder output and each layer's attention weights: forward's path, made visible."""
        vit = self.vit
        x = vit._process_input(x)  # (B, 3, 224, 224) -> (B, 196, 768)
        x = torch.cat([vit.class_token.expand(x.shape[0], -1, -1), x], dim=1)  # (B, 197, 768)
        x = vit.encoder.dropout(x + vit.encoder.pos_embedding)
        maps = []
        for layer in vit.encoder.layers:
            y = layer.ln_1(x)
            y, attn = layer.self_attention(y, y, y, need_weights=True, average_attn_weights=False)  # attn (B, H, T, T)
            maps.append(attn)
            x = x + layer.dropout(y)
            x = x + layer.mlp(layer.ln_2(x))
        return vit.encoder.ln(x), maps

    def attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Softmax attention (B, heads, T, T) of every encoder layer; token 0 is the class token."""
        return self.tokens(x)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit(x)  # x: (B, 3, 224, 224) -> (B, 7)

    def freeze(self, mode: str) -> None:
        """Make trainable only the head ('head'), the last K layers and the head ('last:K'), or all ('none')."""
        if mode == "none":
            self.requires_grad_(True)
            return
        encoder = self.vit.encoder
        layers = len(encoder.layers)
        if mode == "head":
            k = 0
        elif mode.startswith("last:") and mode[5:].isdigit() and 1 <= int(mode[5:]) <= layers:
            k = int(mode[5:])
        else:
            raise UsageError(f"unknown freeze mode {mode!r}; use head, none or last:K with K from 1 to {layers}")
        self.requires_grad_(False)
        self.vit.heads.requires_grad_(True)
        if k:
            encoder.layers[-k:].requires_grad_(True)
            encoder.ln.requires_grad_(True)  # the final norm sits between the last layer and the head


def cached_weights_path() -> Path:
    """Where torch hub keeps the ImageNet weights: torch.hub.get_dir()/checkpoints/vit_b_16-c867db91.pth."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def _download(url: str, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(dst), hash_prefix=Path(WEIGHTS_FILE).stem.split("-")[-1])


def _missing_message() -> str:
    return (
        f"vit_b16 starts from torchvision's {WEIGHTS_NAME} weights and they are not here: download {WEIGHTS_URL} "
        f"and put it at {cached_weights_path()} (or anywhere, and pass --pretrained PATH); "
        "pass --random-init to train from random weights instead"
    )


def load_pretrained(model: ViTB16, path: str | Path | None = None, download: bool = True) -> None:
    """Load the ImageNet backbone from path, the hub cache or the web; the 7-class head stays as it is."""
    source = Path(path) if path is not None else cached_weights_path()
    if not source.is_file():
        if path is not None:
            raise ModelError(f"--pretrained {path}: no such file; it should be {WEIGHTS_FILE} from {WEIGHTS_URL}")
        if not download:
            raise ModelError(_missing_message())
        try:
            _download(WEIGHTS_URL, source)
        except (OSError, RuntimeError) as exc:  # URLError is an OSError; a bad hash is a RuntimeError
            raise ModelError(f"{_missing_message()} (download failed: {exc})") from exc
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError, OSError) as exc:
        raise ModelError(f"{source}: not a torch state dict ({type(exc).__name__}); expected {WEIGHTS_FILE}") from exc
    if not isinstance(state, dict):
        raise ModelError(f"{source}: not a state dict; expected {WEIGHTS_FILE} from {WEIGHTS_URL}")
    backbone = {k: v for k, v in state.items() if not k.startswith("heads.")}  # ImageNet's 1000-way head
    try:
        missing, unexpected = model.vit.load_state_dict(backbone, strict=False)
    except RuntimeError as exc:
        raise ModelError(f"{source}: weights do not fit vit_b16 built with {model.config}: {exc}") from exc
    missing = [k for k in missing if not k.startswith("heads.")]
    if missing or unexpected:
        raise ModelError(f"{source}: not ViT-B/16 weights (missing {missing[:3]}, unexpected {unexpected[:3]})")


@register(
    "vit_b16",
    preprocess=PreprocessSpec(input_size=224, channels=3, mean=IMAGENET_MEAN, std=IMAGENET_STD),
    description="torchvision ViT-B/16, ImageNet-pretrained, 7-class head; 224x224 grey repeated to RGB",
    pretrained=load_pretrained,
    # 86M parameters make the registry contract tests slow; one narrow layer of 32x32 patches checks the same
    test_config={"patch_size": 32, "num_layers": 1, "num_heads": 2, "hidden_dim": 16, "mlp_dim": 32},
)
def vit_b16(**config: object) -> ViTB16:
    """torchvision's ViT-B/16 with a 7-class head, randomly initialised (see load_pretrained)."""
    return ViTB16(ViTB16Config(**config))
