"""Progress of long work: count, rate and ETA, on a terminal, in a log or in a runbook cell.

Long work reports through ``tracking`` (re-exported here: ``from m365move import progress``, then
``progress.task(...)``) and never decides how progress is shown; ``terminal_display`` and ``notebook_display``
show it, ``kernel_relay`` carries a runbook kernel's progress to the terminal of ``m365move runbook run``, and
``formatting`` is how a progress line reads.
"""

from m365move.progress.formatting import PROGRESS_MIMETYPE as PROGRESS_MIMETYPE
from m365move.progress.formatting import clock as clock
from m365move.progress.formatting import rate_line as rate_line
from m365move.progress.tracking import EVERY_ENV as EVERY_ENV
from m365move.progress.tracking import Display as Display
from m365move.progress.tracking import Task as Task
from m365move.progress.tracking import display as display
from m365move.progress.tracking import iterate as iterate
from m365move.progress.tracking import now as now
from m365move.progress.tracking import reporting as reporting
from m365move.progress.tracking import task as task
from m365move.progress.tracking import use as use
