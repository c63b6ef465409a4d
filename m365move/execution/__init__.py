"""Executing a migration plan on Commerce: journal, idempotent placing, polling, results and resume."""
