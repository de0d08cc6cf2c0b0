from cspm_stream.cli import entry

entry()
