"""Files the project reads and writes: atomic writes, the spreadsheet-safe CSV dialect, plain YAML, input text
(encodings, sizes, line endings refused or accepted with a clear error) and the workspace folder."""
