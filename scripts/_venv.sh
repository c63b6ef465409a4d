# Sourced by scripts/demo and scripts/test: makes ./.venv with the project installed, once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "m365move: setting up .venv (first run only) ..." >&2
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -e ".[dev]" >&2
  .venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null 2>&1 || true
  rm -f .venv/.installed-*
  touch "$stamp"
fi
export PATH="$here/.venv/bin:$PATH"
