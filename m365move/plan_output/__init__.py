"""Renderings of a migration plan: the JSON contract, one CSV row per subscription, a table for people."""
