"""Pieces of the HTML reports (runbooks and audit): charts drawn with matplotlib and HTML tables."""
