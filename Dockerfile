# The Connect extension's container, as `ccli project extension bootstrap` makes it; `ccli project extension bump`
# moves the runner version. The runner image brings `cextrun`, which connects to Connect's EaaS with the
# environment's API key and runs extension/events.py (entry point "eventsapp" in pyproject.toml).
FROM cloudblueconnect/connect-extension-runner:43.1

COPY pyproject.toml poetry.* requirements.lock /extension/
WORKDIR /extension
# The versions the tests ran with, the same on every build and start: requirements.lock is the closure of
# pyproject.toml's dependencies pinned from .venv-runner (scripts/lock_requirements.py). Installed over the runner's
# own pins (connect-eaas-core<38, pydantic<2) as `poetry install` would; nothing is resolved again here (the
# template's `poetry update` re-resolved on every build).
RUN pip install --no-cache-dir --no-deps -r requirements.lock
