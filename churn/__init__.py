"""The `churn` command line and the process-wide settings behind it."""
