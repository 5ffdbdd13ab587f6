"""DynamoDB, Step Functions and Secrets Manager access: the only package of pco_core that imports boto3."""
