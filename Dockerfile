# TraceGraph API server. Build: docker build -t tracegraph .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schema schema
COPY graph graph
COPY loaders loaders
COPY services services
COPY api api
COPY cli cli
COPY risk risk
COPY reports reports
COPY web web
COPY i18n i18n
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 tracegraph && mkdir -p /data/audit && chown tracegraph /data/audit
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER tracegraph
WORKDIR /home/tracegraph
ENV TRACEGRAPH_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["tracegraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
