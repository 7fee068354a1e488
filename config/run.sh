#!/usr/bin/env bash
# Run AgencyDesk: set up (venv, install, migrate, demo data) and start web, worker, beat and the
# sandbox in the foreground. Ctrl-C stops them all. A second run reuses what is there.
source "$(dirname "$0")/bootstrap.sh"
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
export AGENCYDESK_PORT=${AGENCYDESK_PORT:-8000}
python manage.py migrate --noinput
python manage.py collectstatic --noinput -v0
python manage.py seed_demo --url "http://127.0.0.1:${AGENCYDESK_PORT}/admin/"
exec honcho -f config/Procfile -d . start
