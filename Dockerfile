# Line of Sight: one container, one workspace, one SQLite database on the /data volume.
#
#   docker build -t line-of-sight .
#   docker run -d --name los --env-file /etc/line-of-sight/env \
#     -v line-of-sight-data:/data --stop-timeout 30 line-of-sight          # Socket Mode
#   docker run ... -p 3000:3000 line-of-sight serve                        # HTTP mode
#
# docs/OPERATIONS.md#running-it-in-a-container has the whole of it; tests/test_deploy.py holds
# this file to its promises (non-root, lock file, volume, health check).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A user with no login and no home to speak of; the image's files stay root's and read-only to it.
RUN groupadd --system --gid 10001 los \
    && useradd --system --uid 10001 --gid los --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin los

WORKDIR /app
# The exact versions CI tested: constraints.txt is the lock file, pyproject.toml the ranges.
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY slack_standin ./slack_standin
RUN pip install -c constraints.txt . \
    && rm -rf bot handlers slack_standin build *.egg-info
# The shipped content is baked in as a default so a first run starts; a council mounts its own
# over it, read-only (-v /srv/line-of-sight/content:/app/content:ro), and changes it without a
# rebuild.
COPY content ./content

# All the bot writes: the database, its -wal/-shm files, its .lock, and backups under /data.
RUN mkdir -p /data && chown los:los /data && chmod 0700 /data
VOLUME ["/data"]

ENV DATABASE_PATH=/data/line-of-sight.db \
    CONTENT_DIR=/app/content \
    PORT=3000 \
    MPLCONFIGDIR=/tmp/matplotlib

USER los:los
EXPOSE 3000

# /healthz answers 200 while the database takes writes, the scheduler runs and (in Socket
# Mode) the socket is up; 503 otherwise, which urlopen raises on. No curl in a slim image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]

# SIGTERM (docker stop) lets work under way finish; give it --stop-timeout 30.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
CMD ["socket"]
