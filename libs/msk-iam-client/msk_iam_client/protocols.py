"""The security protocols a client may use, apart from the token code: checking a configuration
(connection.py) must not import botocore and kafka-python (~0.35 s), so a bad setting fails fast."""

SUPPORTED_SECURITY_PROTOCOLS = ("SASL_SSL", "PLAINTEXT")
