# One image for the gateway, every service, the web console and the migration job; the command
# picks the process (see docker-compose.yml and deploy/k8s/). Runtime dependencies only, no [dev]
# extra.

# The console's front-end files from npm, exactly as web/package-lock.json pins them; only the
# distributed files go on (nothing is fetched from a CDN at run time).
FROM node:20-slim AS assets
WORKDIR /assets
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/telemed
WORKDIR /src
COPY pyproject.toml ./
COPY services ./services
COPY gateway ./gateway
COPY telemed ./telemed
COPY web ./web
COPY --from=assets /assets/node_modules/htmx.org/dist/htmx.min.js \
     /assets/node_modules/tus-js-client/dist/tus.min.js ./web/static/vendor/
# A non-editable install: migrations and the join page travel as package data.
RUN /opt/telemed/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/telemed/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# A fixed numeric id, so Kubernetes' runAsNonRoot can check it and volumes can be chowned to it.
RUN groupadd --system --gid 10001 telemed \
    && useradd --system --uid 10001 --gid telemed --home-dir /srv/telemed --shell /usr/sbin/nologin telemed \
    && mkdir -p /srv/telemed/var /srv/telemed/consult-grant \
    && chown -R telemed:telemed /srv/telemed
COPY --from=build /opt/telemed /opt/telemed
WORKDIR /srv/telemed
# Keys created on first start (and recordings not yet stored) live in var/: mount a volume there.
# consult-grant/ is where consult publishes its grant public key for the services that check it.
USER 10001:10001
# Health checks use Python itself (no curl in the image): every process serves /health and /ready.
CMD ["telemed", "--help"]
