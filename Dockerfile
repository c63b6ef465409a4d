# The Connect extension's container, as `ccli project extension bootstrap` makes it; `ccli project extension bump`
# moves the runner version. The runner image brings `cextrun`, which connects to Connect's EaaS with the
# environment's API key and runs extension/events.py (entry point "eventsapp" in pyproject.toml).
FROM cloudblueconnect/connect-extension-runner:43.1

COPY pyproject.toml poetry.* /extension/
WORKDIR /extension
RUN poetry update && poetry install --no-root
