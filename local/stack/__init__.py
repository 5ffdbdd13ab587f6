"""The local stack: template.yaml's resources on moto, the real handlers, an API Gateway stand-in."""
