"""Built-in remediation actions, one module per AWS service group (loaded by the registry)."""
