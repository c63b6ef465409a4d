"""m365move: safe, resumable Microsoft 365 migrations inside the CloudBlue ecosystem."""

from m365move.errors import InputError, M365MoveError

__version__ = "0.1.0"
__all__ = ["InputError", "M365MoveError", "__version__"]
