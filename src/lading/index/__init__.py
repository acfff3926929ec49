"""Package indexes: which to ask (:mod:`.config`), how to read them (:mod:`.simple`,
:mod:`.http`), and filling in the artifact URLs a lock does not record (:mod:`.complete`)."""

# The submodules are imported where they are used: a warm install must not pay for the HTTP stack.
