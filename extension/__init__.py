"""The CloudBlue Connect EaaS extension of m365move (New Subscription mode inside Connect)."""
