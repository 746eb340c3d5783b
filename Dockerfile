# Dockerfile - builds alertbridge and a small runtime image with only its libraries.
#
#   docker build -t alertbridge .
#   docker run --rm -e KAFKA_BROKERS=broker:9092 -p 9464:9464 alertbridge
#
# The image's default config is examples/pipeline.compose.yaml: it reaches
# the broker at $KAFKA_BROKERS (default kafka:9092, the compose service
# name), never the container's own loopback. Mount another config at
# /etc/alertbridge/pipeline.yaml to replace it. docker-compose.yml runs it
# beside a Kafka broker; docs/docker.md walks through it and states the
# image's size. tests/deploy/check_container.sh lints this file (hadolint).

# ---- build: the "build" and "libraries" groups of scripts/install-deps.sh
FROM debian:bookworm-slim AS build
# hadolint ignore=DL3008
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        build-essential \
        cmake \
        pkg-config \
        librdkafka-dev \
        libjansson-dev \
        libcurl4-openssl-dev \
        libssl-dev \
        libyaml-dev \
        libmicrohttpd-dev \
        libpcre2-dev \
        libxxhash-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DAB_BUILD_TESTS=OFF \
 && cmake --build /build --target alertbridge -j"$(nproc)" \
 && /build/cli/alertbridge --version

# ---- runtime: the shared libraries the -dev packages above link against
# (tests/deploy/check_container.sh checks this list against the binary's
# libraries) and curl for the HEALTHCHECK. Versions are not pinned: the
# image takes bookworm's security updates when rebuilt.
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        librdkafka1 \
        libjansson4 \
        libcurl4 \
        libssl3 \
        libyaml-0-2 \
        libmicrohttpd12 \
        libpcre2-8-0 \
        ca-certificates \
        curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 alertbridge \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --shell /usr/sbin/nologin alertbridge
COPY --from=build /build/cli/alertbridge /usr/local/bin/alertbridge
COPY examples/ /usr/share/alertbridge/examples/
COPY examples/pipeline.compose.yaml /etc/alertbridge/pipeline.yaml
COPY examples/integrations/ /etc/alertbridge/integrations/
COPY docs/CONFIGURATION.md /usr/share/alertbridge/
# Numeric, so Kubernetes' runAsNonRoot can verify it (deploy/kubernetes/).
USER 10001:10001
# /metrics, /healthz, /readyz when http.listen is 0.0.0.0:9464; 8080 is
# `alertbridge ingest`'s webhooks (and its probes), ingest.listen's default.
EXPOSE 9464 8080
# /healthz fails once the loop made no progress for http.stall_timeout.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["curl", "-fsS", "--max-time", "4", "-o", "/dev/null", "http://127.0.0.1:9464/healthz"]
# SIGTERM drains in-flight records and commits (kafka.flush_timeout).
STOPSIGNAL SIGTERM
ENTRYPOINT ["alertbridge"]
CMD ["run", "--config", "/etc/alertbridge/pipeline.yaml"]
