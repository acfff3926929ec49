"""Artifacts built from one lock: wheelhouse, zipapp, venv tarball, .deb, OCI image, SBOM, Nix."""
