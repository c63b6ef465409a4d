"""The demo and its data: generated estates (``estate_generator``), the Connect walkthrough on the sandbox
(``connect_walkthrough``) and the README's whole demo (``python -m m365move.demo``, ``scripts/demo``).

Outside the library's layers in spirit: nothing in m365move depends on it but the CLI's ``estate generate``
and ``connect demo`` commands."""
