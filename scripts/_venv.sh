# Sourced by scripts/demo and scripts/test, and by an operator's own shell (docs/operator-guide.md, Install):
# makes ./.venv, once per pyproject.toml + poetry.lock, the way the Connect runner image installs the extension:
# `poetry install` from the committed poetry.lock (here with the dev extra: the test tools and
# connect-extension-runner itself). Poetry runs from its own throwaway environment (.tools/poetry), installed here
# when missing; a fresh machine needs only Python 3.11 and pip. Puts .venv first on PATH and names Poetry in $POETRY.
#
# It changes no option and no folder of the shell that sources it: the setup runs in a subshell with its own
# `set -euo pipefail`, so a failed step makes `source` return non-zero instead of closing an interactive shell,
# and a later command that exits non-zero (`m365move catalog check` answers 2 until the catalog is complete)
# does not close it either. Scripts that want to stop on errors set that themselves.
_m365move_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Not in an `if`: bash ignores `set -e` inside a condition, and a failed step must stop the setup.
(
  set -euo pipefail
  here="$_m365move_root"
  cd "$here"
  # The Poetry that wrote poetry.lock (lock format 2.1); moving up is this line and `poetry lock`.
  POETRY_VERSION="2.5.1"
  POETRY="$here/.tools/poetry/bin/poetry"
  if [ ! -x "$POETRY" ] || ! "$POETRY" --version 2>/dev/null | grep -q "$POETRY_VERSION"; then
    echo "m365move: installing Poetry $POETRY_VERSION into .tools/poetry (first run only) ..." >&2
    python3 -m venv .tools/poetry
    .tools/poetry/bin/python -m pip install -q --upgrade pip >&2
    .tools/poetry/bin/python -m pip install -q "poetry==$POETRY_VERSION" >&2
  fi
  stamp=".venv/.installed-$(cat pyproject.toml poetry.lock | sha1sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    echo "m365move: setting up .venv from poetry.lock (first run only) ..." >&2
    # The lock must answer pyproject.toml before anything is installed from it.
    "$POETRY" check --lock --no-interaction >&2
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >&2
    # Poetry installs into the active environment: .venv, exactly the locked versions (as the runner image does).
    VIRTUAL_ENV="$here/.venv" PATH="$here/.venv/bin:$PATH" "$POETRY" install --no-interaction --extras dev >&2
    .venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null 2>&1 || true
    rm -f .venv/.installed-*
    touch "$stamp"
  fi
)
_m365move_status=$?
if [ "$_m365move_status" -eq 0 ]; then
  export PATH="$_m365move_root/.venv/bin:$PATH"
  export POETRY="$_m365move_root/.tools/poetry/bin/poetry"
else
  echo "m365move: setting up $_m365move_root/.venv failed (see above); nothing was changed in this shell" >&2
fi
unset _m365move_root
return "$_m365move_status" 2>/dev/null || exit "$_m365move_status"
