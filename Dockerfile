# sharesync: multi-stage build. The build step is the one CI runs (same cargo command, no
# extra features); the runtime image is debian-slim running as a non-root user.
# commands/tests/shipped.rs runs the runtime stage's ENV, WORKDIR, ENTRYPOINT, CMD and HEALTHCHECK
# against the built binary, so keep them in the exec form it reads.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p sharesync-commands --bin sharesync

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data sharesync \
 && mkdir -p /data /config && chown sharesync /data
COPY --from=build /src/target/release/sharesync /usr/local/bin/sharesync
USER sharesync
WORKDIR /data
# SQLite database, client identifier and saved token live here.
VOLUME ["/data"]
# Mount the config read-only at /config/sharesync.toml.
ENV SHARESYNC_DATA_DIR=/data SHARESYNC_CONFIG=/config/sharesync.toml
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
  CMD ["sharesync", "health"]
ENTRYPOINT ["sharesync"]
CMD ["bot"]
