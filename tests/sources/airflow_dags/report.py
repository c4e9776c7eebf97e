"""Runs when the orders asset is updated (om-ingest test DAG, paused)."""

from datetime import datetime

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG, Asset
except ImportError:  # Airflow 2 (the api_version v1 tests)
    from airflow import DAG
    from airflow.datasets import Dataset as Asset
    from airflow.operators.bash import BashOperator

with DAG(
    dag_id="orders_report",
    schedule=[Asset("postgres://warehouse/sales/core/orders")],
    start_date=datetime(2026, 1, 1),
    is_paused_upon_creation=True,
) as dag:
    BashOperator(
        task_id="report",
        bash_command="echo report",
        outlets=[Asset("postgres://warehouse/sales/mart/daily_orders")],
    )
