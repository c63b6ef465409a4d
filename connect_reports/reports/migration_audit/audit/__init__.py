"""The Connect audit's checks, as m365move audits Connect (copied from m365move/audit/; see m365move/audit/report_copy.py)."""
