"""Estate files (DESIGN §7): reading, validating, converting to the domain, and generating demo estates."""

from m365move.estate.loader import LoadedEstate, load_estate

__all__ = ["LoadedEstate", "load_estate"]
