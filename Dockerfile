# The altermag application image: library, Prefect flows and the REST API.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# The app with its service extras (no torch: the ground-state prior is numpy).
COPY pyproject.toml README.md ./
COPY altermag ./altermag
COPY flows ./flows
COPY api ./api
RUN pip install ".[store,api,flows]"

RUN useradd --create-home altermag && mkdir -p /data/candidates \
    && chown altermag /data/candidates
USER altermag
ENV ALTERMAG_OUT_DIR=/data/candidates PREFECT_HOME=/home/altermag/.prefect
EXPOSE 8000 4200
CMD ["altermag", "api", "--host", "0.0.0.0"]
