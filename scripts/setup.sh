#!/usr/bin/env bash
# Idempotent set-up for `make run` / `make test` on Debian 12 (root or sudo): system packages,
# running PostgreSQL + Mosquitto, the Python venv and the npm packages. A second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

# --- system packages -------------------------------------------------------------------------
PG_MAJOR=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1); PG_MAJOR=${PG_MAJOR:-15}
WANT=(postgresql "postgresql-${PG_MAJOR}-postgis-3" "postgresql-${PG_MAJOR}-postgis-3-scripts"
      mosquitto mosquitto-clients chromium fonts-wqy-microhei gdal-bin)
command -v node >/dev/null || WANT+=(nodejs npm)
python3 -m venv --help >/dev/null 2>&1 || WANT+=(python3-venv)
MISSING=()
for p in "${WANT[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || MISSING+=("$p"); done
if [ ${#MISSING[@]} -gt 0 ]; then
  say "installing system packages: ${MISSING[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
  PG_MAJOR=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
fi

# --- services --------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! port_open 5432; then
  say "starting PostgreSQL ${PG_MAJOR}"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "${PG_MAJOR}" main start || $SUDO pg_ctlcluster "${PG_MAJOR}" main start
  for _ in $(seq 30); do port_open 5432 && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  # A freshly installed Debian cluster asks for a password on 127.0.0.1: trust the local
  # postgres role on loopback only, so the embedded default needs no hand configuration.
  HBA=$(ls /etc/postgresql/"${PG_MAJOR}"/main/pg_hba.conf)
  say "allowing the postgres role on 127.0.0.1 without password ($HBA)"
  $SUDO sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$HBA"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "${PG_MAJOR}" main reload || $SUDO pg_ctlcluster "${PG_MAJOR}" main reload
fi
if ! port_open 1883; then
  say "starting Mosquitto"
  $SUDO mosquitto -d -c /etc/mosquitto/mosquitto.conf
  for _ in $(seq 10); do port_open 1883 && break; sleep 0.5; done
fi

# --- Python ----------------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then say "creating .venv"; python3 -m venv .venv; fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ] || [ constraints.txt -nt .venv/.installed ]; then
  say "installing Python packages"
  .venv/bin/pip install -q --upgrade pip
  # constraints.txt pins the versions the suite last passed with: a new release upstream cannot break a fresh machine
  .venv/bin/pip install -q -c constraints.txt -e '.[dev]'
  touch .venv/.installed
fi

# --- npm (CesiumJS, ECharts, glTF validator: all served or run locally) ----------------------
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package.json -nt web/node_modules/.package-lock.json ] \
   || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  say "installing npm packages"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
say "ready"
