"""`type: mlflow`: registered models of an MLflow model registry as OpenMetadata ML models."""
