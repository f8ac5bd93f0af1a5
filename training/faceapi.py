"""face-api.js's facial expression net, rebuilt in torch and scored on our validation data as an outside reference.

    npm pack @vladmandic/face-api && tar xzf vladmandic-face-api-*.tgz   # MIT; the weights are in package/model/
    python -m training.faceapi --package package/model --data ../shared/fer2013 \
        --labels ../shared/fer2013/ferplus.csv [--wild ../shared/wild] [--ensemble fernet_plus fernet_balanced fernet]

Evaluation only: the net is never trained on or shipped, and nothing here downloads it. It reads face-api's tfjs
manifest and .bin and follows its FaceFeatureExtractor, fc and softmax on 112x112 RGB in 0..255 (FER2013's grey
48x48 faces are resized and copied to three channels; the wild photos are read in colour). Prints face-api's accuracy,
macro accuracy and per-class recall on FER2013 val (folder labels), FER+ val (majority) and the wild photos, the
"balanced" mean of the two val macros as in training.prior, and, per --ensemble model and weight W, the scores of
(1 - W) * log p(ours) + W * log p(face-api).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fervideo.cli.common import HelpFormatter
from fervideo.core.errors import FervideoError, InputError, ModelError
from fervideo.core.labels import EMOTIONS
from fervideo.data.dataset import Split, folder_files, load_split, split_files
from fervideo.data.ferplus import majority_labels, read_votes, vote_matrix
from fervideo.data.metrics import confusion_matrix, macro_accuracy, report
from fervideo.engine.classifier import EmotionClassifier

MANIFEST = "face_expression_model-weights_manifest.json"
FACEAPI_CLASSES = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")  # FaceExpressions.ts
# face-api's column for each of EMOTIONS (angry, disgust, fear, happy, sad, surprise, neutral)
TO_EMOTIONS = [
    FACEAPI_CLASSES.index(n) for n in ("angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral")
]
MEAN_RGB = (122.782, 117.001, 104.298)  # FaceFeatureExtractor.forwardInput subtracts it, then divides by 255
SIZE = 112


def manifest_path(package: Path) -> Path:
    """The manifest in package (the model/ folder) or in package/model (the extracted npm package's root)."""
    for folder in (package, package / "model"):
        if (folder / MANIFEST).is_file():
            return folder / MANIFEST
    raise ModelError(
        f"{package}: no {MANIFEST} in it or in {package / 'model'}; run `npm pack @vladmandic/face-api`, extract "
        "the .tgz and give its package/model folder"
    )


def stored_dtype(entry: dict) -> np.dtype:
    """The dtype of a manifest entry's bytes in the .bin: its quantisation's, else its own."""
    name = (entry.get("quantization") or {}).get("dtype", entry["dtype"])
    if name not in ("float32", "uint8", "uint16"):  # float16 quantisation decodes differently; face-api uses uint8
        raise ModelError(f"{entry['name']}: weights stored as {name} are not supported (float32, uint8, uint16 are)")
    return np.dtype(name)


def decode(raw: bytes, entry: dict) -> np.ndarray:
    """One tensor as float32: quantised values become v * scale + min, in float64 as tfjs's decodeWeights does."""
    values = np.frombuffer(raw, stored_dtype(entry))
    if quant := entry.get("quantization"):
        return (values.astype(np.float64) * quant["scale"] + quant["min"]).astype(np.float32)
    return values.copy()


def load_weights(package: Path) -> dict[str, np.ndarray]:
    """{tfjs weight name: float32 array} from the manifest and the .bin files it names."""
    path = manifest_path(package)
    weights = {}
    for group in json.loads(path.read_text()):
        files = [path.parent / name for name in group["paths"]]
        if missing := [str(f) for f in files if not f.is_file()]:
            raise ModelError(f"{path}: its weights file {', '.join(missing)} is missing; extract the whole package")
        data = b"".join(f.read_bytes() for f in files)
        sizes = [int(np.prod(e["shape"])) * stored_dtype(e).itemsize for e in group["weights"]]
        if sum(sizes) != len(data):  # a manifest from one release beside the .bin of another, or a cut download
            raise ModelError(
                f"{path}: the manifest describes {sum(sizes)} bytes of weights but {', '.join(group['paths'])} "
                f"hold {len(data)}; take the manifest and the .bin from the same face-api package"
            )
        ends = np.cumsum(sizes)
        for entry, end, size in zip(group["weights"], ends, sizes, strict=True):
            weights[entry["name"]] = decode(data[end - size : end], entry).reshape(entry["shape"])
    return weights


def pad_same(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TF's 'same' padding, which puts the odd pixel at the bottom and right (torch's padding= cannot)."""
    pads = []
    for size in reversed(x.shape[-2:]):
        total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class FaceExpressionNet(nn.Module):
    """face-api's FaceExpressionNet: RGB (N, 112, 112, 3) in 0..255 to probabilities (N, 7) in FACEAPI_CLASSES order."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        super().__init__()
        for name, array in weights.items():
            t = torch.from_numpy(array)
            if t.ndim == 4:  # TF filters are (H, W, in, out), depthwise (H, W, C, 1); torch's (out, in/groups, H, W)
                t = t.permute(2, 3, 0, 1) if "depthwise" in name else t.permute(3, 2, 0, 1)
            self.register_buffer(name.replace("/", "_"), t.contiguous())
        self.register_buffer("mean", torch.tensor(MEAN_RGB).view(1, 3, 1, 1))

    def separable(self, x: torch.Tensor, name: str, stride: int) -> torch.Tensor:
        """depthwiseSeparableConv.ts: depthwise 3x3 then pointwise, 'same' padding, a bias and no activation."""
        depthwise = getattr(self, f"{name}_depthwise_filter")
        x = F.conv2d(pad_same(x, 3, stride), depthwise, stride=stride, groups=depthwise.shape[0])
        return F.conv2d(x, getattr(self, f"{name}_pointwise_filter"), getattr(self, f"{name}_bias"))

    def dense(self, x: torch.Tensor, block: int) -> torch.Tensor:
        """denseBlock4: a strided conv, then three more, each fed the ReLU of the sum of the outputs before it."""
        name = f"dense{block}_conv"
        if block == 0:
            out1 = F.conv2d(pad_same(x, 3, 2), self.dense0_conv0_filters, self.dense0_conv0_bias, stride=2)
        else:
            out1 = self.separable(x, f"{name}0", 2)
        out1 = F.relu(out1)
        out2 = self.separable(out1, f"{name}1", 1)
        out3 = self.separable(F.relu(out1 + out2), f"{name}2", 1)
        out4 = self.separable(F.relu(out1 + (out2 + out3)), f"{name}3", 1)
        return F.relu(out1 + (out2 + (out3 + out4)))  # summed in denseBlock.ts's order

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """Probabilities (N, 7) in FACEAPI_CLASSES order for RGB (N, 112, 112, 3) in 0..255."""
        x = (rgb.permute(0, 3, 1, 2) - self.mean) / 255.0
        for block in range(4):
            x = self.dense(x, block)
        x = F.avg_pool2d(x, 7, 2).flatten(1)  # 7x7 features -> 256
        return torch.softmax(x @ self.fc_weights + self.fc_bias, dim=1)


def fer_input(faces: np.ndarray) -> np.ndarray:
    """Grey 48x48 faces (N, 48, 48) uint8 as face-api's input: 112x112, the grey copied to R, G and B."""
    big = np.stack([cv2.resize(f, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR) for f in faces])
    return np.repeat(big[..., None], 3, axis=-1)


def wild_input(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """The photos of folder/<class>/ in colour, whole, RGB and resized to 112x112, with their labels."""
    images, labels = [], []
    for path, label in folder_files(folder):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(f"{path}: not a readable image")
        images.append(cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), (SIZE, SIZE), interpolation=cv2.INTER_LINEAR))
        labels.append(label)
    if not images:
        raise InputError(f"--wild {folder}: no images under {folder}/<class>/ for classes {', '.join(EMOTIONS)}")
    return np.stack(images), np.array(labels, np.int64)


@torch.inference_mode()
def predict(net: FaceExpressionNet, rgb: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """face-api's probabilities (N, 7) for RGB uint8 images (N, 112, 112, 3), columns in EMOTIONS order."""
    out = [net(torch.from_numpy(rgb[i : i + batch_size]).float()).numpy() for i in range(0, len(rgb), batch_size)]
    return np.concatenate(out)[:, TO_EMOTIONS]


def scores(preds: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, macro accuracy and per-class recall (of the classes present) of preds against labels."""
    rep = report(confusion_matrix(labels, preds))
    recall = {name: row["accuracy"] for name, row in rep["per_class"].items() if row["total"]}
    return {"accuracy": rep["accuracy"], "macro": macro_accuracy(rep), "recall": recall}


def blend(ours: np.ndarray, theirs: np.ndarray, weight: float) -> np.ndarray:
    """An ensemble's predictions: argmax of the log-probabilities' mean, weight on face-api's (theirs)."""
    return ((1 - weight) * np.log(ours + 1e-8) + weight * np.log(theirs + 1e-8)).argmax(axis=1)


def ensembles(models: list[str], weights: list[float], val: Split, plus: np.ndarray, theirs: np.ndarray) -> list[dict]:
    """Per model and weight: FER2013 val and FER+ val scores of the ensemble, and their balanced mean."""
    kept, rows = plus >= 0, []
    for model in models:  # the shipped fp32 ONNX files: what fervideo runs
        ours = EmotionClassifier.load(model, "cpu", "fp32", "onnx").predict(val.images, 64)
        for weight in weights:
            preds = blend(ours, theirs, weight)
            fer, fp = scores(preds, val.labels), scores(preds[kept], plus[kept])
            rows.append({"model": model, "weight": weight, "fer2013": fer, "ferplus": fp})
            rows[-1]["balanced"] = (fer["macro"] + fp["macro"]) / 2
    return rows


def print_tables(alone: dict, balanced: float, rows: list[dict]) -> None:
    """face-api's scores per data set, then the ensembles', as markdown tables."""
    print(f"| face-api | accuracy | macro | {' | '.join(EMOTIONS)} |\n|---|---|---|{'---|' * len(EMOTIONS)}")
    for name, s in alone.items():
        recall = " | ".join(f"{s['recall'].get(e, float('nan')):.1%}" for e in EMOTIONS)
        print(f"| {name} | {s['accuracy']:.2%} | {s['macro']:.2%} | {recall} |")
    print(f"balanced: {balanced:.2%}")
    if rows:
        print("\n| model | face-api weight | FER2013 val | macro | lowest recall | FER+ val | macro | balanced |")
        print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        f, p, low = r["fer2013"], r["ferplus"], min(r["fer2013"]["recall"].values())
        print(
            f"| {r['model']} | {r['weight']:g} | {f['accuracy']:.2%} | {f['macro']:.2%} | {low:.1%} "
            f"| {p['accuracy']:.2%} | {p['macro']:.2%} | {r['balanced']:.2%} |"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.faceapi", formatter_class=HelpFormatter, description=__doc__.splitlines()[0]
    )
    parser.add_argument("--package", type=Path, required=True, help="the npm package's model/ folder, or its root")
    parser.add_argument("--data", type=Path, required=True, help="FER2013 as DIR/<split>/<class>/*.jpg")
    parser.add_argument("--labels", type=Path, required=True, help="the FER+ votes CSV")
    parser.add_argument("--wild", type=Path, help="DIR/<class>/*.jpg: photos from outside FER2013")
    parser.add_argument("--ensemble", nargs="*", default=[], metavar="MODEL", help="our registered models to pair")
    parser.add_argument("--weights", nargs="+", type=float, default=[0.25, 0.5], help="face-api's ensemble weights")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Print face-api's scores alone and in each ensemble; return them."""
    args = parse_args(argv)
    net = FaceExpressionNet(load_weights(args.package)).eval()
    val = load_split(args.data, "val")
    plus = majority_labels(vote_matrix(read_votes(args.labels), split_files(args.data, "val")))  # -1: left out
    theirs = predict(net, fer_input(val.images))
    kept = plus >= 0
    alone = {
        "FER2013 val": scores(theirs.argmax(1), val.labels),
        "FER+ val": scores(theirs[kept].argmax(1), plus[kept]),
    }
    if args.wild:
        images, labels = wild_input(args.wild)
        alone["wild"] = scores(predict(net, images).argmax(1), labels)
    balanced = (alone["FER2013 val"]["macro"] + alone["FER+ val"]["macro"]) / 2
    rows = ensembles(args.ensemble, args.weights, val, plus, theirs)
    print_tables(alone, balanced, rows)
    return {"alone": alone, "balanced": balanced, "ensembles": rows}


if __name__ == "__main__":
    try:
        main()
    except FervideoError as exc:  # a missing package file or data folder: one line, not a traceback
        raise SystemExit(f"error: {exc}") from exc
