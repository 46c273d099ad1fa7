# syntax=docker/dockerfile:1
#
# infersight in a container: one static-ish binary on an empty base.
#
#   docker build -t infersight:0.1.0 .
#   docker run -p 8490:8490 -p 8491:8491 -v infersight-data:/var/lib/infersight infersight:0.1.0
#
# Stages: `web` builds the dashboard (web/, Node), `build` compiles the
# binary with that bundle embedded, and the last stage is `FROM scratch`
# holding the binary, the glibc files it links and nothing else.
#
# Why glibc and not a static musl build: the NVML collector loads
# libnvidia-ml.so.1 with dlopen at run time (the NVIDIA Container Toolkit
# mounts it into the container), and a statically linked musl binary cannot
# dlopen a glibc library. So the binary links glibc dynamically and the
# `build` stage copies exactly what `ldd` lists (the loader, libc, libgcc_s,
# ...) into the final image. TLS roots are compiled in (rustls with
# webpki-roots) and SQLite is bundled, so no CA bundle or other .so is needed.
#
# There is no HEALTHCHECK: a scratch image has no shell or curl to run one.
# Probe over HTTP instead: GET /-/healthy (the process serves HTTP) and
# GET /-/ready (the store answers queries) on port 8490, as the Kubernetes
# manifests in deploy/kubernetes/ do.

ARG RUST_VERSION=1.95
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=web /src/web/dist web/dist
# The bundle was built in the `web` stage: embed it as it is, without npm.
ENV INFERSIGHT_SKIP_WEB_BUILD=1
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p infersight \
    && install -D -m 0755 target/release/infersight /rootfs/usr/local/bin/infersight
# The files the binary links, at the paths the loader looks for them.
RUN ldd /rootfs/usr/local/bin/infersight \
    | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' \
    | xargs -r -I{} cp -L --parents {} /rootfs/ \
    && mkdir -p /rootfs/etc/infersight /rootfs/var/lib/infersight /rootfs/tmp \
    && chown 65532:65532 /rootfs/var/lib/infersight \
    && chmod 1777 /rootfs/tmp \
    && echo 'nonroot:x:65532:65532:nonroot:/var/lib/infersight:/sbin/nologin' > /rootfs/etc/passwd \
    && echo 'nonroot:x:65532:' > /rootfs/etc/group
COPY deploy/container/infersight.toml /rootfs/etc/infersight/infersight.toml

FROM scratch
# A copy between stages keeps the owners of what it copies: the data
# directory stays 65532's, so a new named volume starts out writable.
COPY --from=build /rootfs/ /
# Where Kubernetes GPU nodes (GKE, for one) mount the NVIDIA driver's libraries.
ENV LD_LIBRARY_PATH=/usr/local/nvidia/lib64
USER 65532:65532
WORKDIR /var/lib/infersight
VOLUME ["/var/lib/infersight"]
# 8490: Prometheus-compatible API, dashboard, remote write, OTLP, /metrics.
# 8491: the OpenAI-compatible gateway (on when [[gateway.upstream]] is set).
EXPOSE 8490 8491
ENTRYPOINT ["/usr/local/bin/infersight"]
CMD ["serve", "--config", "/etc/infersight/infersight.toml"]
