from om_ingest.sandbox.cli import sandbox_command

sandbox_command(prog_name="om-ingest sandbox")
