#!/usr/bin/env bash
# Sets up a fresh machine (idempotent; seconds the second time): system packages, .venv, locked Python deps.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v tesseract >/dev/null || need_apt+=(tesseract-ocr)
command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
ldconfig -p 2>/dev/null | grep -q "libcairo.so.2 " || need_apt+=(libcairo2)  # cairosvg renders SVG logos
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)  # synthetic pages
[ -f /usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf ] || need_apt+=(fonts-urw-base35)  # pagegen_b (tests)
command -v chromium >/dev/null || need_apt+=(chromium)  # the tests render the HTML audit report headless
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=.venv/.redact-installed
want="$(cat requirements.lock pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps facenet-pytorch==2.5.3
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . \
    > .venv/editable-install.log 2>&1 || { cat .venv/editable-install.log; exit 1; }
  echo "$want" > "$stamp"
fi
