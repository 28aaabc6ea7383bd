"""The Pulumi component package: hosted components (hosted.py), their schema (schema.py, the
committed schema.json) and the provider host entry point (__main__.py, run by PulumiPlugin.yaml)."""
