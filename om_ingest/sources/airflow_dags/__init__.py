"""`type: airflow`: the DAGs of an Apache Airflow deployment as OpenMetadata pipelines."""
