"""The one error of ingestion that stops the run."""


class IngestError(RuntimeError):
    """A file that cannot be read at all, or a required entity that is missing: the run stops."""
