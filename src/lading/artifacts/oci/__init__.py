"""OCI images: the image layout on disk, its layers and config, and the registry client."""
