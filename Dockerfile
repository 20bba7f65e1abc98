# mhloader container image (docs/operations.md, "Docker").
#   docker build -t mhloader .                        the daemon (last stage, `runtime`)
#   docker build --target magichour-sim -t mhloader-sim .   the Magic Hour simulator
# The build stage runs the project's own scripts (install-deps.sh, package.sh), so the
# image holds the same binary as the Debian package; the runtime stage installs only
# the shared libraries it links (ctest "ops: Dockerfile ..." checks the list against
# the binaries' DT_NEEDED entries).

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# package.sh builds Release and the .deb; unpacking it gives the stripped binaries.
RUN bash scripts/package.sh build/release \
 && dpkg-deb -x build/release/mhloader_*.deb /out \
 && install -D -s build/release/tests/sim/magichour-sim /out/usr/bin/magichour-sim

FROM debian:bookworm-slim AS runtime-base
# The packages of the libraries mhloader and magichour-sim link (DT_NEEDED; libc6,
# libgcc-s1 and libstdc++6 are in the base image; libpq5 etc. come as dependencies),
# CA certificates for HTTPS and tzdata for job time zones.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-json1.81.0 \
      libpqxx-6.4 \
      libprometheus-cpp-core1.0 \
      libssl3 \
      libsystemd0 \
      libyaml-cpp0.7 \
      zlib1g \
      ca-certificates \
      tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/mhloader --no-create-home \
      --shell /usr/sbin/nologin mhloader \
 && install -d -o mhloader -g mhloader -m 0750 /var/lib/mhloader

FROM runtime-base AS magichour-sim
COPY --from=build /out/usr/bin/magichour-sim /usr/bin/magichour-sim
USER mhloader
EXPOSE 8687
ENTRYPOINT ["/usr/bin/magichour-sim"]
CMD ["--listen", "0.0.0.0:8687"]

FROM runtime-base AS runtime
COPY --from=build /out/usr/bin/mhloader /usr/bin/mhloader
COPY deploy/mhloader.yaml /etc/mhloader/mhloader.yaml
# Secrets are files here (compose secrets, a Kubernetes Secret volume), as under systemd.
ENV CREDENTIALS_DIRECTORY=/run/secrets \
    MHLOADER_CONFIG=/etc/mhloader/mhloader.yaml
USER mhloader
VOLUME ["/etc/mhloader", "/var/lib/mhloader"]
EXPOSE 8686
# /-/healthy on the control listener. bash's /dev/tcp needs no extra package (no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8686 && printf 'GET /-/healthy HTTP/1.0\\r\\n\\r\\n' >&3 && read -r _ code _ <&3 && [ \"$code\" = 200 ]"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/mhloader"]
CMD ["serve"]
