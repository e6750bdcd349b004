"""Margin models as circuits (the simplified demo model is cross_simple)."""
