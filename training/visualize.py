"""Pictures of what a model sees: a CNN's first-layer filters and feature maps, a ViT's patches and attention.

    python -m training.visualize --model cnn --image face.jpg --out viz/

The image is a photo (its largest face is found and cropped the way FER2013 framed faces; without a
face, the centre square is used) or a 48x48 FER2013 image, then preprocessed exactly as for inference.
CNNs (models with `features(x)`) give filters.png and features_<i>.png; ViTs (models with
`attention_maps(x)`) give patches.png and attention_<k>.png, one per block application: a row per query
token and a column per head, each tile the query's attention over the patches (the class token's only,
when the model has one), scaled to its own maximum. Every map is normalised on its own, so tiles show
where a map is strong, not how strong it is compared with its neighbours.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from fervideo.cli.common import HelpFormatter
from fervideo.core.atomic import prepare_out_dir
from fervideo.core.errors import FervideoError, InputError, ModelError, OutputError
from fervideo.core.labels import EMOTIONS
from fervideo.engine.checkpoint import WEIGHTS_DIR
from fervideo.engine.classifier import EmotionClassifier
from fervideo.engine.crop import FACE_SIZE, crop_faces
from fervideo.engine.models import create_model, get_entry
from fervideo.engine.preprocess import PreprocessSpec
from fervideo.engine.torch_model import model_input

TILE = 96  # side of one map in a grid, pixels
GAP = 4  # pixels between tiles
COLS = 8  # tiles per row in the CNN grids
INPUT_SIDE = 192  # the input picture is scaled by a whole factor to at least about this side


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.visualize",
        formatter_class=HelpFormatter,
        description="Draw what a fervideo model sees in one face.",
    )
    parser.add_argument("--model", default="cnn", help="registered model name or checkpoint path")
    parser.add_argument("--image", type=Path, required=True, help="a face photo or a 48x48 FER2013 image")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs")
    return parser.parse_args(argv)


def load_face(path: Path) -> tuple[np.ndarray, str]:
    """A 48x48 grey face from a photo or a FER2013 image, and how it was found."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(f"{path}: missing or not an image OpenCV can read")
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape
    if max(height, width) > FACE_SIZE:
        from fervideo.engine.detector import FaceDetector  # the detector loads only when a photo needs it

        with FaceDetector() as detector:
            faces = detector(bgr)
        if len(faces):
            return crop_faces(gray, faces.xyxy[[faces.area.argmax()]])[0], "largest detected face"
    side = min(height, width)
    y0, x0 = (height - side) // 2, (width - side) // 2
    square = gray[y0 : y0 + side, x0 : x0 + side]
    if side == FACE_SIZE:
        return square, "FER2013-size image"
    interpolation = cv2.INTER_AREA if side > FACE_SIZE else cv2.INTER_LINEAR
    return cv2.resize(square, (FACE_SIZE, FACE_SIZE), interpolation=interpolation), "centre square, no face found"


def load_model(name_or_path: str) -> tuple[nn.Module, PreprocessSpec, dict]:
    """Model, preprocessing and info; a registered model without shipped weights gets random ones."""
    candidate = Path(name_or_path)
    if candidate.suffix not in (".pt", ".pth") and not candidate.exists():
        entry = get_entry(name_or_path)
        if entry.weights is None or not (WEIGHTS_DIR / entry.weights).is_file():
            torch.manual_seed(0)
            info = {"name": name_or_path, "arch": name_or_path, "note": "no shipped weights: random init, untrained"}
            return create_model(name_or_path).eval(), entry.preprocess, info
    clf = EmotionClassifier.load(name_or_path, device="cpu", runtime="torch")  # the pictures need the layers
    return clf.model.model, clf.spec, dict(clf.info)


def grid(tiles: list[np.ndarray], cols: int) -> np.ndarray:
    """Equal-sized BGR tiles in rows of `cols`, on a white background."""
    rows = -(-len(tiles) // cols)
    side = tiles[0].shape[0]
    canvas = np.full((rows * side + (rows + 1) * GAP, cols * side + (cols + 1) * GAP, 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        y, x = GAP + (i // cols) * (side + GAP), GAP + (i % cols) * (side + GAP)
        canvas[y : y + side, x : x + side] = tile
    return canvas


def to_uint8(a: np.ndarray) -> np.ndarray:
    """Min-max scale one map to 0..255 (a flat map becomes mid-grey)."""
    low, high = float(a.min()), float(a.max())
    if high - low < 1e-12:
        return np.full(a.shape, 128, np.uint8)
    return np.round((a - low) / (high - low) * 255).astype(np.uint8)


def tile(a: np.ndarray, colormap: int | None = cv2.COLORMAP_VIRIDIS) -> np.ndarray:
    """One map as a TILE x TILE BGR square, nearest-neighbour so that each unit stays a visible block."""
    big = cv2.resize(to_uint8(a), (TILE, TILE), interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(big, cv2.COLOR_GRAY2BGR) if colormap is None else cv2.applyColorMap(big, colormap)


def input_picture(x: torch.Tensor, spec: PreprocessSpec) -> np.ndarray:
    """The first channel of the model input, un-normalised, scaled up by a whole factor, grey BGR."""
    mean = spec.mean[0] if isinstance(spec.mean, tuple) else spec.mean
    std = spec.std[0] if isinstance(spec.std, tuple) else spec.std
    grey = np.clip((x[0, 0].numpy() * std + mean) * 255, 0, 255).round().astype(np.uint8)  # (S, S)
    side = grey.shape[0] * max(1, INPUT_SIDE // grey.shape[0])
    return cv2.cvtColor(cv2.resize(grey, (side, side), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2BGR)


def draw_cnn(model: nn.Module, x: torch.Tensor, out: Path) -> list[Path]:
    """First-layer filters as a grid, then every feature map of each layer or stage."""
    files = []
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is not None:
        weights = conv.weight.detach().mean(dim=1).numpy()  # (O, kh, kw), averaged over input channels
        files.append(_write(out / "filters.png", grid([tile(w, None) for w in weights], min(COLS, len(weights)))))
    for i, maps in enumerate(model.features(x), start=1):
        maps = maps[0].numpy()  # (C, H, W)
        files.append(_write(out / f"features_{i}.png", grid([tile(m) for m in maps], min(COLS, len(maps)))))
    return files


def draw_vit(model: nn.Module, x: torch.Tensor, picture: np.ndarray, out: Path) -> list[Path]:
    """The patch grid over the input, then each block application's attention per query token and head."""
    side, size = picture.shape[0], x.shape[-1]
    g = size // model.config.patch_size  # patches per side
    step = side / g
    patches = picture.copy()
    for i in range(1, g):
        edge = round(i * step)
        cv2.line(patches, (edge, 0), (edge, side - 1), (0, 0, 255), 1)
        cv2.line(patches, (0, edge), (side - 1, edge), (0, 0, 255), 1)
    maps = model.attention_maps(x)
    first = 1 if maps[0].shape[-1] == g * g + 1 else 0  # a class token comes first
    if g <= 8:  # numbers on 196 patches would hide the face
        for p in range(g * g):
            org = (round((p % g) * step) + 3, round((p // g) * step) + 14)
            cv2.putText(patches, str(p + first), org, cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255), 1, cv2.LINE_AA)
    files = [_write(out / "patches.png", patches)]
    face = cv2.resize(picture, (TILE, TILE), interpolation=cv2.INTER_AREA)
    for k, attn in enumerate(maps, start=1):
        attn = attn[0].numpy()  # (H, T, T)
        queries = [0] if first else range(g * g)
        tiles = []
        for q in queries:
            for h in range(attn.shape[0]):
                over = attn[h, q, first:].reshape(g, g) / attn[h, q, first:].max()  # (g, g), over the patches
                heat = cv2.resize(np.round(over * 255).astype(np.uint8), (TILE, TILE), interpolation=cv2.INTER_NEAREST)
                blended = cv2.addWeighted(face, 0.5, cv2.applyColorMap(heat, cv2.COLORMAP_JET), 0.5, 0)
                if not first:  # outline the query's own patch
                    y0, x0 = (q // g) * TILE // g, (q % g) * TILE // g
                    cv2.rectangle(blended, (x0, y0), (x0 + TILE // g - 1, y0 + TILE // g - 1), (255, 255, 255), 1)
                tiles.append(blended)
        files.append(_write(out / f"attention_{k}.png", grid(tiles, attn.shape[0])))
    return files


@torch.inference_mode()
def visualize(model_name: str, image: str | Path, out: str | Path) -> dict:
    """Write the model's pictures for one face into out; returns the model info, the files and the prediction."""
    face, found = load_face(Path(image))
    model, spec, info = load_model(model_name)
    model.eval()
    out = prepare_out_dir(out)  # a file named as --out: one line, not a FileExistsError
    x = model_input(face[None], spec)  # (1, C, S, S)
    picture = input_picture(x, spec)
    files = [_write(out / "face.png", cv2.cvtColor(face, cv2.COLOR_GRAY2BGR)), _write(out / "input.png", picture)]
    if hasattr(model, "features"):
        files += draw_cnn(model, x, out)
    elif hasattr(model, "attention_maps"):
        files += draw_vit(model, x, picture, out)
    else:
        raise ModelError(f"model {model_name!r} has neither features() nor attention_maps(); nothing to draw")
    probs = torch.softmax(model(x).float(), dim=1)[0].tolist()
    return {**info, "face": found, "files": [str(f) for f in files], "probs": dict(zip(EMOTIONS, probs, strict=True))}


def _write(path: Path, image: np.ndarray) -> Path:
    if not cv2.imwrite(str(path), image):
        raise OutputError(f"{path}: could not be written; check that the folder is writable")
    return path


def main(args: argparse.Namespace) -> dict:
    """Draw the pictures and list the files written."""
    result = visualize(args.model, args.image, args.out)
    if "note" in result:
        print(f"note: {result['note']}")
    top = max(result["probs"], key=result["probs"].get)
    print(f"{result['name']}: {result['face']}, predicted {top} ({result['probs'][top]:.0%})")
    for path in result["files"]:
        print(path)
    return result


if __name__ == "__main__":
    try:
        main(parse_args())
    except FervideoError as exc:
        raise SystemExit(f"error: {exc}") from exc
