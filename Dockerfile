# mmcache container image (README.md, "Container").
#
#   docker build -t mmcache .
#   docker run -d --name mmcache -p 6379:6379 mmcache --requirepass "$PASSWORD"
#   docker run -d -p 6379:6379 mmcache --protected-mode no   # trusted network only
#   docker run -d -p 6379:6379 mmcache --requirepass "$PASSWORD" --threads 2 --maxmemory 64mb
# Without a password, protected mode refuses every client that is not on the
# container's own loopback (README.md, "Container").
#   docker kill -s HUP mmcache      # reload /etc/mmcache/mmcache.conf
#   docker stop mmcache             # SIGTERM: answers what it received, exits 0
#
# Two stages on Debian 12: the build stage has the compiler and the -dev
# packages; the runtime stage gets only the binary, the shared libraries it
# links and a default config. tests/container/smoke.sh builds and checks it.

############################### build stage ##################################
FROM debian:bookworm-slim AS build

# The package list of scripts/install-deps.sh, less the test tools. The
# top-level CMakeLists.txt looks for hiredis and cmocka even when the tests
# are off (loadtest/ links hiredis), so their -dev packages stay.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake make gcc libc6-dev pkg-config \
      libuv1-dev libjemalloc-dev liburcu-dev libhiredis-dev libcmocka-dev libxxhash-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# Release, the server only. Warnings are not errors here: test.sh is where
# the code is held to -Werror; a user's image build should not stop on one.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DMMCACHE_TESTS=OFF -DMMCACHE_WERROR=OFF \
 && cmake --build /build --target mmcache -j"$(nproc)" \
 && install -D -m 0755 /build/mmcache /out/bin/mmcache

# The default config is the repository's mmcache.conf, listening on every
# interface: inside a container that is the container's own network, and
# `docker run -p` decides what reaches it. Fail the build if the bind line
# ever changes shape and the substitution silently stops matching.
RUN mkdir -p /out/etc/mmcache \
 && { echo '# mmcache.conf as shipped in the container image: the repository'"'"'s file with'; \
      echo '# "bind 0.0.0.0" (the container'"'"'s own network; publish it with docker run -p).'; \
      echo '# Replace it with: docker run -v ./my.conf:/etc/mmcache/mmcache.conf mmcache'; \
      echo; \
      sed 's/^bind 127\.0\.0\.1$/bind 0.0.0.0/' mmcache.conf; } > /out/etc/mmcache/mmcache.conf \
 && grep -qx 'bind 0.0.0.0' /out/etc/mmcache/mmcache.conf \
 && grep -qx 'port 6379' /out/etc/mmcache/mmcache.conf

############################## runtime stage #################################
FROM debian:bookworm-slim AS runtime

# Only what `ldd mmcache` names beyond libc (libssl3 holds libcrypto: ACL
# password digests). A fixed uid/gid so a mounted config can be made
# readable to it from the host.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libuv1 libjemalloc2 liburcu8 libxxhash0 libhiredis0.14 libssl3 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/cache/debconf/*-old \
           /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* \
 && groupadd --system --gid 999 mmcache \
 && useradd --system --uid 999 --gid mmcache --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin mmcache

COPY --from=build /out/bin/mmcache /usr/local/bin/mmcache
# Owned by the server's user: CONFIG REWRITE writes a temporary file beside
# the config and renames it over.
COPY --from=build --chown=mmcache:mmcache /out/etc/mmcache /etc/mmcache
# Every shared library resolves (the binary runs) before the image is tagged.
RUN ["/usr/local/bin/mmcache", "--version"]

################################ the image ###################################
# The runtime stage's file system as one layer: what the base image or the
# package installs leave behind and the stage deletes (downloaded .debs,
# docs, locales) is then really gone, not hidden under a later layer.
FROM scratch
COPY --from=runtime / /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER mmcache
EXPOSE 6379
# The server is PID 1 and handles SIGTERM, SIGINT and SIGHUP itself with
# libuv signal watchers (server/net/acceptor.c); it never forks, so there is no
# child to reap and no init (tini) is needed.
STOPSIGNAL SIGTERM
# PING over bash's /dev/tcp: no redis-tools in the image. A server with a
# password answers -NOAUTH: up too. If the server is moved off 6379 with
# --port, pass -e MMCACHE_HEALTH_PORT=<port> as well.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\"${MMCACHE_HEALTH_PORT:-6379}\" && printf 'PING\\r\\n' >&3 && read -r -t 2 reply <&3 && [[ $reply == $'+PONG\\r' || $reply == -NOAUTH* ]]"]

# The config file comes first, then whatever `docker run mmcache ...` adds:
# flags override the file, at start-up and on every reload.
ENTRYPOINT ["/usr/local/bin/mmcache", "/etc/mmcache/mmcache.conf"]
CMD []
