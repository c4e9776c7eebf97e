from om_ingest.cli.main import main

main()
