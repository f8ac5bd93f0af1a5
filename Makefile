# Two commands: `make demo` and `make test`. Each creates .venv when it is missing.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.fervideo-installed

.PHONY: setup demo test lint bench sample install wheel clean onnx

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# a venv made before fervideo shipped BlazeFace itself: mediapipe pinned numpy<2, and its opencv-contrib-python
	@# shares the cv2 folder with opencv-python-headless, so both go before the install
	@$(BIN)/pip uninstall --quiet --yes mediapipe opencv-contrib-python tflite-runtime 2>/dev/null || true
	@# dev includes the video extra (imageio-ffmpeg): the demo's annotated video is H.264 with sound
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/fervideo analyze samples/demo.mp4 -o out
	@echo "outputs in out/: demo.annotated.mp4 (annotated video), demo.csv (per-frame emotions), demo.episodes.csv (episodes), demo.json (summary)"
	@echo "the command is .venv/bin/fervideo; 'source .venv/bin/activate' puts it on your PATH in this shell"

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q tests/test_layers.py  # no import cycle; imports point down the layers

bench: setup
	$(BIN)/python benchmarks/throughput.py

sample: setup
	$(BIN)/python samples/make_sample.py

# after a new fervideo/weights/*.pt: its ONNX files again (tests/engine/test_onnx.py fails while they are stale); the
# int8 twins of the fernets are calibrated on FER2013 in ../shared and checked on its val split and the wild photos
SHARED ?= ../shared
onnx: setup
	for m in cnn vit; do $(BIN)/python -m training.export --checkpoint fervideo/weights/$$m.pt --onnx fervideo/weights/$$m.onnx; done
	$(BIN)/python -m training.export --checkpoint fervideo/weights/fernet.pt --onnx fervideo/weights/fernet.onnx --int8 $(SHARED)/fer2013 --wild $(SHARED)/wild
	for m in fernet_plus fernet_lite fernet_balanced; do $(BIN)/python -m training.export --checkpoint fervideo/weights/$$m.pt --onnx fervideo/weights/$$m.onnx --int8 $(SHARED)/fer2013 --labels $(SHARED)/fer2013/ferplus.csv --wild $(SHARED)/wild; done

# fervideo (and pandas, for fervideo.outputs.results.load_results) into the Python that PYTHON names: an activated
# virtual environment, a conda environment, or pass PYTHON=/path/to/python. The shipped models run on ONNX
# Runtime; `make install EXTRAS=torch,pandas,video` adds torch (training, eval, .pt checkpoints). The video extra
# (imageio-ffmpeg, 165 MB) writes the annotated video as H.264 with sound; without it, and without an ffmpeg on PATH,
# it is MPEG-4 without sound
EXTRAS ?= pandas,video
install:
	$(PYTHON) -m pip install ".[$(EXTRAS)]"

# the product: a wheel with every model inside (dist/fervideo-*.whl), built from an sdist so nothing is built in
# the tree; `pip install dist/fervideo-*.whl` needs no checkout (tests/test_wheel.py, FERVIDEO_TEST_WHEEL=1)
wheel: setup
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf out fervideo-out .pytest_cache
