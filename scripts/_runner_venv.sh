# Sourced by scripts/test: makes ./.venv-runner, the Connect extension's runtime as the runner image has it.
#
# The runner image (cloudblueconnect/connect-extension-runner) installs connect-extension-runner, then runs
# `poetry install` of the extension's project over it, so in production the runner's code runs with OUR
# connect-eaas-core (>=38) and pydantic 2, not with the runner's own pins (connect-eaas-core<38, pydantic<2).
# m365move must not depend on the runner (those pins conflict with ours), so the runner's tests get this
# second environment: the runner without its conflicting pins, its other requirements, then the project.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
# The newest runner of the Dockerfile's major version, as the runner demands at start (it refuses to run when a newer
# one of Connect's major exists): tests/extension/test_validators.py fails when the Dockerfile names an older one.
RUNNER_VERSION="$(sed -n 's/^FROM cloudblueconnect\/connect-extension-runner:\([0-9.]*\).*/\1/p' Dockerfile)"
RUNNER_MAJOR="${RUNNER_VERSION%%.*}"
runner_stamp=".venv-runner/.installed-$( (cat pyproject.toml requirements.lock; echo "$RUNNER_VERSION") | sha1sum | cut -c1-12)"
if [ ! -f "$runner_stamp" ]; then
  echo "m365move: setting up .venv-runner (the newest connect-extension-runner $RUNNER_MAJOR.x; first run only) ..." >&2
  python3 -m venv .venv-runner
  .venv-runner/bin/python -m pip install -q --upgrade pip >&2
  .venv-runner/bin/python -m pip install -q --no-deps "connect-extension-runner==$RUNNER_MAJOR.*" >&2
  # Its requirements except connect-eaas-core and pydantic, read from its own metadata.
  .venv-runner/bin/python - <<'PY' > .venv-runner/runner-requirements.txt
from importlib.metadata import requires
for requirement in requires("connect-extension-runner") or []:
    name = requirement.split(";")[0].strip()
    if not name.lower().startswith(("connect-eaas-core", "pydantic")):
        print(name.replace(" (", "").replace(")", ""))
PY
  # The locked versions (requirements.lock, what the runner image installs) as constraints: the runner's tests run
  # with exactly what production runs, not with whatever the index has newest today.
  .venv-runner/bin/python -m pip install -q -c requirements.lock -r .venv-runner/runner-requirements.txt >&2
  .venv-runner/bin/python -m pip install -q -c requirements.lock -e ".[dev]" >&2
  rm -f .venv-runner/.installed-*
  touch "$runner_stamp"
fi
