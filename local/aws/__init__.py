"""A local SQS/S3-compatible server (moto's server mode) for the dead-letter queue and bucket.

The consumer, the local event source mapping and the replay tool talk to it through their real
boto3 code paths: botocore honours `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL_S3`.
"""

from local.aws.server import LocalAws

__all__ = ["LocalAws"]
