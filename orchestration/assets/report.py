"""Placeholder: filled in by the report stage."""

from dagster import Definitions

defs = Definitions()
