"""Pure domain logic: no I/O, no clocks. Everything else in m365move depends on it, never the reverse."""
