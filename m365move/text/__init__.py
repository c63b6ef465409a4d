"""Text shown to people: escaping for HTML/Markdown (``markup_escaping``), terminal-safe text
(``terminal_text``), ISO 8601 times (``iso_time``) and URLs with their passwords masked (``secret_redaction``)."""
