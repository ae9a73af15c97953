FROM python:3.11-slim
WORKDIR /srv/telemed
COPY pyproject.toml ./
COPY services ./services
COPY gateway ./gateway
COPY telemed ./telemed
RUN pip install --no-cache-dir . && useradd --system telemed && mkdir var && chown telemed var
USER telemed
