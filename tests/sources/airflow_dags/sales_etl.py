"""Extract → transform → load, writing the orders table as an asset (om-ingest test DAG)."""

from datetime import datetime

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG, Asset
except ImportError:  # Airflow 2 (the api_version v1 tests)
    from airflow import DAG
    from airflow.datasets import Dataset as Asset
    from airflow.operators.bash import BashOperator
    from airflow.operators.empty import EmptyOperator

RAW = Asset("postgres://warehouse/sales/raw/orders_raw")
ORDERS = Asset("postgres://warehouse/sales/core/orders")

with DAG(
    dag_id="sales_etl",
    description="Nightly sales load.",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["sales", "nightly"],
    max_active_tasks=4,
    default_args={"owner": "data_eng"},
) as dag:
    extract = BashOperator(
        task_id="extract", bash_command="echo extract", inlets=[RAW], doc_md="Pull raw orders."
    )
    transform = BashOperator(task_id="transform", bash_command="echo transform")
    load = EmptyOperator(task_id="load", outlets=[ORDERS])
    extract >> transform >> load
