# nianbao: one image for the watcher, the Celery workers and the review pages (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NIANBAO_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY nianbao ./nianbao
COPY report ./report
COPY rules ./rules
COPY storage ./storage
COPY worker ./worker
COPY watcher ./watcher
COPY web ./web
RUN pip install ".[postgres]" \
    && useradd --system --uid 10001 --home-dir /data nianbao \
    && mkdir -p /data \
    && chown nianbao /data

USER nianbao
CMD ["nianbao", "--help"]
