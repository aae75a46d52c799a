# GAN sampling service: FastAPI + ONNX Runtime, no torch.
# CPU by default; build with --build-arg ORT_EXTRAS=cuda,cudnn for the CUDA libraries
# (the docker-compose `gpu` profile does), then run with an NVIDIA GPU reserved.
FROM python:3.11-slim

ARG ORT_EXTRAS=""
ARG ORT_VERSION=1.31.1
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GAN_HOST=0.0.0.0 \
    GAN_PORT=8000 \
    GAN_MODELS_DIR=/app/exported_models

WORKDIR /app

# Dependencies first (cached while only code or models change); the project's core deps exclude torch.
# The build leaves nothing behind: no build/ or egg-info in /app, and no ONNX Runtime telemetry device id under
# $HOME (the service turns telemetry off before importing it; the last test makes the build fail if one appears).
COPY pyproject.toml README.md constraints.txt ./
COPY service ./service
RUN pip install --no-cache-dir -c constraints.txt . \
    && if [ -n "$ORT_EXTRAS" ]; then pip install --no-cache-dir "onnxruntime-gpu[$ORT_EXTRAS]==$ORT_VERSION"; fi \
    && python -c "import service.app" \
    && ! python -c "import torch" 2>/dev/null \
    && rm -rf build ./*.egg-info \
    && test ! -e "$HOME/.cache/Microsoft"

COPY exported_models ./exported_models

# The proof cache (GAN_PROOF_CACHE_DIR): a volume there (docker-compose.yml, deploy/k8s) keeps proofs across restarts
# on a read-only root. None is proven at build time: the key holds the CPU, and the build machine's is not the host's.
RUN groupadd --gid 10001 app \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin app \
    && install -d -o 10001 -g 10001 -m 0700 /var/cache/gan-proofs
ENV GAN_PROOF_CACHE_DIR=/var/cache/gan-proofs
USER 10001:10001

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('GAN_PORT', '8000') + '/healthz', timeout=2)"]

# Arguments after the image name go to the service: `docker run IMAGE --port 9000`, `docker run IMAGE --help`.
ENTRYPOINT ["python", "-m", "service"]
