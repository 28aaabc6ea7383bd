"""Reusable Pulumi components of the event pipeline; one ComponentResource per module."""
