# The Connect extension's container, as `ccli project extension bootstrap` makes it; `ccli project extension bump`
# moves the runner version. The runner image brings `cextrun`, which connects to Connect's EaaS with the
# environment's API key and runs extension/events.py (entry point "eventsapp" in pyproject.toml).
FROM cloudblueconnect/connect-extension-runner:43.1

COPY pyproject.toml poetry.lock /extension/
WORKDIR /extension
# As the image's entrypoint installs an extension: `poetry install` from the committed poetry.lock, the versions the
# tests ran with (scripts/test builds its environment the same way), resolved with the runner's own pins, so nothing
# of the runner is overridden. Nothing is resolved again here (the template's `poetry update` re-resolved on every
# build). The dev extra (test tools) is not installed.
RUN poetry install --no-interaction --no-root
