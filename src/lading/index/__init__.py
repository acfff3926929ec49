"""Package indexes: which to ask (:mod:`.config`), how to read them (:mod:`.simple`,
:mod:`.http`), and filling in the artifact URLs a lock does not record (:mod:`.complete`)."""

from __future__ import annotations

from lading.index.complete import HashMismatch, Indexes, complete
from lading.index.config import IndexConfig, default_indexes, redact
from lading.index.http import HttpClient, NotFound
from lading.index.simple import IndexFile, PageSource, ProjectNotFound, ProjectPage, SimpleIndex

__all__ = [
    "HashMismatch",
    "HttpClient",
    "IndexConfig",
    "IndexFile",
    "Indexes",
    "NotFound",
    "PageSource",
    "ProjectNotFound",
    "ProjectPage",
    "SimpleIndex",
    "complete",
    "default_indexes",
    "redact",
]
