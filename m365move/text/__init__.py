"""Text shown to people: escaping for HTML/Markdown (``markup_escaping``), terminal-safe text
(``terminal_text``) and ISO 8601 times (``iso_time``)."""
