"""A branch: only one of two paths runs (om-ingest test DAG)."""

from datetime import datetime

try:  # Airflow 3
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import BranchPythonOperator
    from airflow.sdk import DAG, Asset
except ImportError:  # Airflow 2 (the api_version v1 tests)
    from airflow import DAG
    from airflow.datasets import Dataset as Asset
    from airflow.operators.empty import EmptyOperator
    from airflow.operators.python import BranchPythonOperator

with DAG(
    dag_id="branching",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    tags=["demo"],
) as dag:
    choose = BranchPythonOperator(task_id="choose", python_callable=lambda: "small")
    small = EmptyOperator(task_id="small")
    large = EmptyOperator(task_id="large")
    done = EmptyOperator(
        task_id="done",
        trigger_rule="none_failed_min_one_success",
        outlets=[Asset("s3://lake/branch_report")],  # names no table: a warning, no edge
    )
    choose >> [small, large] >> done
