"""Deployment definitions live in prefect.yaml; Python helpers for them go here."""
