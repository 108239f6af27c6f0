"""AWS Lambda entry point (Handler: lambda_handler.handler); the code is functions/aws.py, see docs/aws.md."""

from functions.aws import handler

__all__ = ["handler"]
