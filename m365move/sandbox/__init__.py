"""The embedded sandbox (DESIGN §7): local HTTP emulations of the platforms, seeded from an estate."""
