"""Local stand-ins for the AWS services the event pipeline uses (run on loopback only)."""
