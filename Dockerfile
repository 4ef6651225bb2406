# syntax=docker/dockerfile:1
#
# Librariarr: the SvelteKit app built with adapter-node, run as `node build`.
# Node 24 LTS on Debian bookworm-slim: glibc (the prebuilt @node-rs/argon2 and embedded-postgres
# binaries are glibc builds) and a small base. Pinned to one release, the same in both stages;
# move both lines together when upgrading.

# ---- build: full install, compile the app into build/ ------------------------------------------
FROM node:24.11.1-bookworm-slim AS build
WORKDIR /app

# Dependencies first, so that editing the source does not invalidate the npm layer.
COPY package.json package-lock.json ./
RUN npm ci

COPY . .
RUN npm run build

# adapter-node bundles Kit, Svelte and the devDependencies it imports (valibot, postgres) into
# build/ but leaves the runtime `dependencies` external (@node-rs/argon2, proxy-addr, @oslojs/*,
# embedded-postgres…): keep those only. (valibot is a devDependency so that its optional peer,
# TypeScript, 24 MB, stays out of the image.)
RUN npm prune --omit=dev

# ---- runtime ----------------------------------------------------------------------------------
FROM node:24.11.1-bookworm-slim AS runtime
WORKDIR /app

# nss_wrapper lets docker-entrypoint.sh give a uid picked with `--user` a passwd entry of its own
# (the embedded PostgreSQL refuses to initialise for a uid without one), with /etc/passwd untouched.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends libnss-wrapper=1.1.12-1 \
	&& rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# CONFIG_DIR holds everything that must survive a restart. With DATABASE_URL unset, that includes
# the embedded PostgreSQL (CONFIG_DIR/pg). HOST=0.0.0.0 so that the published port reaches the app.
# adapter-node's ADDRESS_HEADER / PROTOCOL_HEADER / HOST_HEADER are deliberately left unset: the
# app decides itself which X-Forwarded-* headers to believe (see TRUSTED_PROXIES in README.md).
# BODY_SIZE_LIMIT: adapter-node refuses bodies over 512 KB by default; a backup upload for
# restore may be up to 50 MB (the app enforces that cap itself).
ENV NODE_ENV=production \
	CONFIG_DIR=/config \
	PORT=3000 \
	HOST=0.0.0.0 \
	BODY_SIZE_LIMIT=52M

COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build ./build
# Migrations are read from ./sql at start-up and applied by the app itself.
COPY --from=build /app/sql ./sql
# Named apart from the base image's own /usr/local/bin/docker-entrypoint.sh (kept, but no longer run).
COPY --chmod=0755 docker-entrypoint.sh /usr/local/bin/librariarr-entrypoint.sh
# scripts/ (the recovery script) is left out on purpose, see .dockerignore and README.md.

# The container starts as root only for its entrypoint, which gives /config to PUID:PGID (default
# 1000:1000, the base image's `node` user) where needed and then drops to them with setpriv before
# anything else runs; `docker run --user UID:GID` skips that step and runs as that uid throughout
# (see README.md). PostgreSQL refuses to run as root, and the entrypoint refuses PUID/PGID 0.
RUN mkdir -p /config && chown node:node /config
VOLUME /config

EXPOSE 3000

# Slim images have no curl: ask /healthz with Node's own fetch. It is 200 only while the database
# answers. The start period covers a first start that initialises the embedded PostgreSQL.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
	CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The entrypoint checks the uid and /config, then execs the command: Node is PID 1, and
# adapter-node handles SIGTERM by draining requests, then the app stops its pool and, when it
# started one, the embedded PostgreSQL.
ENTRYPOINT ["/usr/local/bin/librariarr-entrypoint.sh"]
CMD ["node", "build"]
