#!/usr/bin/env bash
# Run AgencyDesk: set up (venv, install, migrate, demo data) and start web, worker, beat and the
# sandbox in the foreground. Ctrl-C stops them all. A second run reuses what is there.
source "$(dirname "$0")/bootstrap.sh"
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
export AGENCYDESK_PORT=${AGENCYDESK_PORT:-8000}
export SANDBOX_PORT=${SANDBOX_PORT:-8001}
python manage.py migrate --noinput
python manage.py collectstatic --noinput -v0
python manage.py seed_demo --url "http://127.0.0.1:${AGENCYDESK_PORT}/admin/" | tee var/logins.txt
honcho -f config/Procfile -d . start &
honcho_pid=$!
trap 'kill -INT $honcho_pid 2>/dev/null; wait $honcho_pid' INT TERM
sleep 10 && echo && tail -n 8 var/logins.txt  # again, below the processes' start-up banners
wait $honcho_pid
