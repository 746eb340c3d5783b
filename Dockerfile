# Dockerfile - builds alertbridge and a small runtime image with only its libraries.
#
#   docker build -t alertbridge .
#   docker run --rm -v $PWD/examples:/etc/alertbridge:ro alertbridge \
#       run --config /etc/alertbridge/pipeline.yaml
#
# docker-compose.yml runs it beside a Kafka broker (docs/docker.md).

# ---- build: the "build" and "libraries" groups of scripts/install-deps.sh
FROM debian:bookworm-slim AS build
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
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DAB_BUILD_TESTS=OFF \
 && cmake --build /build --target alertbridge -j"$(nproc)" \
 && /build/cli/alertbridge --version

# ---- runtime: the shared libraries the -dev packages above link against
FROM debian:bookworm-slim
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
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin alertbridge
COPY --from=build /build/cli/alertbridge /usr/local/bin/alertbridge
COPY examples/ /usr/share/alertbridge/examples/
COPY docs/CONFIGURATION.md /usr/share/alertbridge/
USER alertbridge
# /metrics, /healthz, /readyz when http.listen is 0.0.0.0:9464
EXPOSE 9464
# SIGTERM drains in-flight records and commits (kafka.flush_timeout).
STOPSIGNAL SIGTERM
ENTRYPOINT ["alertbridge"]
CMD ["run", "--config", "/etc/alertbridge/pipeline.yaml"]
