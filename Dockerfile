# syntax=docker/dockerfile:1
# cspm_stream: one image, the sub-command picks the role:
#   docker run cspm-stream run --role ingest|process|alerts|remediate|all
#   docker run cspm-stream topics create | report --format html --output /out/report.html
# Two stages: the build stage has the compilers (some wheels may need them); the final stage
# only gets the ready virtualenv, runs as an unprivileged user and has no build tools.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
WORKDIR /src
# dependencies first (cached while only the code changes)
COPY pyproject.toml README.md ./
RUN mkdir cspm_stream && touch cspm_stream/__init__.py \
 && /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install . \
 && /opt/venv/bin/pip uninstall -y cspm-stream
COPY cspm_stream ./cspm_stream
RUN /opt/venv/bin/pip install --no-deps . \
 && /opt/venv/bin/cspm-stream --help >/dev/null

FROM python:3.11-slim AS runtime
LABEL org.opencontainers.image.title="cspm-stream" \
      org.opencontainers.image.description="Real-time, Kafka-native Cloud Security Posture Management daemon for AWS" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CSPM_CONFIG=/etc/cspm/cspm.yaml \
    CSPM_APP_DATA_DIR=/var/lib/cspm \
    CSPM_APP_LOG_FORMAT=json
RUN groupadd --system --gid 10001 cspm \
 && useradd --system --uid 10001 --gid cspm --home-dir /var/lib/cspm --no-create-home \
      --shell /usr/sbin/nologin cspm \
 && mkdir -p /var/lib/cspm /out \
 && chown cspm:cspm /var/lib/cspm /out
COPY --from=build /opt/venv /opt/venv
COPY config/cspm.yaml /etc/cspm/cspm.yaml
USER 10001:10001
WORKDIR /var/lib/cspm
EXPOSE 6066
# Liveness of the web listener (/healthz answers while the event loop runs). It is on 127.0.0.1 by
# default, which is where this check runs; compose sets CSPM_WEB_HOST=0.0.0.0 to let Prometheus in.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CSPM_WEB_PORT', '6066'), timeout=4)"]
# A faust worker can hang while leaving its group: the daemon bounds its own shutdown
# (app.shutdown_timeout_s); give docker's SIGKILL a little more than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["cspm-stream"]
CMD ["run", "--role", "all"]
