"""One runner instance in its own process: connect-extension-runner's task managers (``LocalRuntime``) serving
tasks that the test sends as JSON lines on stdin; each answer is one JSON line on stdout.

    python -m tests.runner.runner_process API_URL API_KEY VARIABLES_JSON

Input lines: ``{"tasks": [[event_type, object_id], ...]}`` (delivered together, as the websocket worker submits
them) or ``{"quit": true}``. Output: ``{"ready": true}`` once the runner is built, then per input line
``{"results": [{"result", "countdown", "message"}, ...]}``. Nothing is shared with the test process or the other
instance but Connect and Partner Center (the sandbox), as between two containers of one environment.
"""

from __future__ import annotations

import json
import logging
import sys


def main(argv: list[str]) -> int:
    from m365move.connect.runtime import LocalRuntime

    api_url, api_key, variables = argv[0], argv[1], json.loads(argv[2])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    runtime = LocalRuntime(api_url, api_key, variables)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("quit"):
            return 0
        answers = runtime.deliver_many([runtime.task(kind, object_id) for kind, object_id in command["tasks"]])
        print(json.dumps({"results": [{"result": a.result, "countdown": a.countdown, "message": a.message}
                                      for a in answers]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
