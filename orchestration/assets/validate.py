"""Placeholder: filled in by the validate stage."""

from dagster import Definitions

defs = Definitions()
