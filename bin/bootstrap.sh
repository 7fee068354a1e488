# Sourced by bin/run and bin/test: make .venv with Python 3.11 and install the requirements file
# named in REQUIREMENTS (requirements.txt by default) whenever it or what it includes changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
REQUIREMENTS=${REQUIREMENTS:-requirements.txt}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
want=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)-$REQUIREMENTS
if ! grep -qx "$want" .venv/.requirements.sha 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$REQUIREMENTS"
  echo "$want" >> .venv/.requirements.sha
fi
export PATH="$PWD/.venv/bin:$PATH"
var=${AGENCYDESK_VAR_DIR:-$PWD/var}
mkdir -p "$var/static" "$var/media" "$var/cache" "$var/redis" "$var/log"
