# om-ingest image: the CLI (default) or a Prefect worker, installed from uv.lock.
FROM python:3.11-slim
ENV UV_PROJECT_ENVIRONMENT=/opt/om-ingest PATH=/opt/om-ingest/bin:$PATH PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY om_ingest ./om_ingest
COPY flows ./flows
COPY blocks ./blocks
COPY deployments ./deployments
COPY configs ./configs
COPY prefect.yaml ./
RUN uv sync --frozen --no-dev
RUN useradd --create-home --uid 10001 omingest && mkdir -p /configs /specs /secrets /state /logs \
    && chown omingest /configs /secrets /state /logs
USER omingest
VOLUME ["/configs", "/specs", "/secrets", "/state", "/logs"]
ENTRYPOINT ["om-ingest"]
CMD ["--help"]
