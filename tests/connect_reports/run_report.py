"""Run inside the reports environment (only the Reports runtime's packages; Python 3.8 when available, so this file
keeps to 3.8 too): validate ``connect_reports/`` with connect-reports-core's own validation,
then execute the report's entry point against Connect (the sandbox) and render it with each of its renderers.

    python run_report.py ROOT CONNECT_ENDPOINT OUTPUT_DIR PARAMETERS_JSON     (API key in M365MOVE_CONNECT_API_KEY)

Prints one JSON object: the validation errors, the rows generated, and the file each renderer wrote.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

from connect.client import ConnectClient
from connect.reports.parser import parse
from connect.reports.renderers import get_renderer
from connect.reports.validator import validate, validate_with_schema


def main() -> None:
    root, endpoint, output, parameters = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), json.loads(sys.argv[4])
    descriptor = json.loads((root / "reports.json").read_text())
    schema_errors = validate_with_schema(descriptor)
    repository = parse(str(root), json.loads((root / "reports.json").read_text()))
    errors = validate(repository)
    [report] = repository.reports
    sys.path.insert(0, str(root))
    module_name, _, function = report.entrypoint.rpartition(".")
    module = __import__(module_name, fromlist=[function])
    generate = getattr(module, function)
    client = ConnectClient(os.environ["M365MOVE_CONNECT_API_KEY"], endpoint=endpoint, max_retries=0)
    progress: list[tuple[int, int]] = []
    written: dict[str, str] = {}
    rows: dict[str, list[object]] = {}
    account = SimpleNamespace(id="PA-000-000", name="Distributor")
    for renderer in report.renderers:
        data = list(generate(client, parameters, lambda done, total: progress.append((done, total)), renderer.type))
        rows[renderer.type] = data
        instance = get_renderer(renderer.type, "CLI Tool", str(root), account,
                                SimpleNamespace(id="LOCAL", name=report.name, values=parameters),
                                renderer.template, renderer.args)
        written[renderer.type] = instance.render(data, str(output / f"audit-{renderer.id}"))
    from openpyxl import load_workbook  # connect-reports-core's own dependency

    sheet = load_workbook(written["xlsx"])["Data"]
    xlsx = [[cell.value for cell in row] for row in sheet.iter_rows()]
    modules = sorted({str(getattr(m, "__file__", "") or "") for m in list(sys.modules.values())} - {""})
    print(json.dumps({"schema_errors": schema_errors, "errors": errors, "rows": rows, "written": written,
                      "xlsx": xlsx, "progress": progress[-1] if progress else None, "modules": modules}, default=str))


if __name__ == "__main__":
    main()
