"""The local runner: template.yaml's topology on one machine (moto, an HTTP gateway, SQS pollers).

Dev-only: lives in infra/, never in the Lambda layer.
"""
