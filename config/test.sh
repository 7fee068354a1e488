#!/usr/bin/env bash
# Run the test suite (SQLite and an eager Celery unless DATABASE_URL / REDIS_URL say otherwise).
source "$(dirname "$0")/bootstrap.sh"
if ! [ -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then  # browser tests drive Debian's Chromium
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
exec python -m pytest -c config/pytest.ini --rootdir . "$@"
